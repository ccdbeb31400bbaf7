"""Motion editors: MDM, PriorMDM, SourceConditionedMDM and BodyPartEditorRouter (registered in MODELS)
and their editing masks."""
from .body_part_router import BodyPartEditorRouter
from .editing import (blend_edit, body_part_keep_mask, expand_keep_mask, feature_keep_mask,
                      inbetween_keep_mask, joint_control_mask, overwrite_x0)
from .mdm import MDM, SinusoidalPositionalEncoding, masked_mse, timestep_embedding
from .prior_mdm import PriorMDM, blend_control_sample
from .source_conditioned_mdm import SourceConditionedMDM

__all__ = [
    'MDM', 'PriorMDM', 'SourceConditionedMDM', 'blend_control_sample', 'feature_keep_mask', 'body_part_keep_mask',
    'inbetween_keep_mask', 'joint_control_mask', 'expand_keep_mask', 'overwrite_x0', 'blend_edit',
    'timestep_embedding', 'SinusoidalPositionalEncoding', 'masked_mse',
    'BodyPartEditorRouter'
]

"""SynthMotion: the embedded, procedurally generated motion-language dataset (see docs/synthmotion.md).

It is synthetic: kinematic joint-rotation programs on the t2m22 skeleton, not human capture data.
"""
from .body import BODY_REGIONS, JOINTS, LOWER_BODY, UPPER_BODY, BodyShape, sample_body
from .build import (SYNTHMOTION_VERSION, build_synthmotion, config_hash, default_cache_dir,
                    ensure_synthmotion, synthmotion_config, synthmotion_encoder)
from .captions import caption_for_program, format_caption_line
from .edits import EDIT_OPERATORS, EditOperator
from .generator import Motion, synthesize
from .instruction_parser import operators_named
from .learner_expert import ACTIVITIES, make_feedback_pair, t2m22_to_coco17_approx, to_coco17
from .primitives import PRIMITIVES, Primitive
from .program import ClassDistribution, SynthItem, sample_motion
from .synthmotion_dataset import SynthMotionDataset
from .synthmotion_segment_dataset import SynthMotionSegmentDataset, event_windows
from .synthmotion_exact_editor import SynthMotionExactEditor, normalize_instruction
from .triplets import make_triplet, pelvis_frame_positions, unchanged_joints

__all__ = [
    'SynthMotionDataset', 'SynthMotionExactEditor', 'normalize_instruction', 'build_synthmotion',
    'ensure_synthmotion', 'synthmotion_config', 'synthmotion_encoder', 'config_hash',
    'default_cache_dir', 'SYNTHMOTION_VERSION', 'PRIMITIVES', 'Primitive', 'EDIT_OPERATORS', 'EditOperator',
    'ACTIVITIES', 'Motion', 'synthesize', 'sample_motion', 'SynthItem', 'ClassDistribution', 'make_triplet',
    'make_feedback_pair', 'caption_for_program', 'format_caption_line', 'to_coco17', 't2m22_to_coco17_approx',
    'pelvis_frame_positions', 'unchanged_joints', 'BodyShape', 'sample_body', 'JOINTS', 'UPPER_BODY',
    'LOWER_BODY', 'BODY_REGIONS', 'operators_named'
]
__all__ += ['SynthMotionSegmentDataset', 'event_windows']

"""Datasets, transforms and collate functions (registered in DATASETS / TRANSFORMS / FUNCTIONS)."""
from . import importers  # noqa: F401
from . import synthmotion  # noqa: F401
from . import transforms  # noqa: F401  (registers the transforms)
from .pose_dataset import COCO17PoseDataset
from .collate import motion_collate, pad_motions
from .humanml3d import HumanML3DDataset, KITDataset, load_caption_file, parse_caption_line

__all__ = [
    'HumanML3DDataset', 'KITDataset', 'load_caption_file', 'parse_caption_line', 'motion_collate',
    'pad_motions'
]

"""Datasets, transforms and collate functions (registered in DATASETS / TRANSFORMS / FUNCTIONS)."""
from . import importers  # noqa: F401
from . import transforms  # noqa: F401  (registers the transforms)
from .pose_dataset import COCO17PoseDataset
from .cigtime_triplet_dataset import CigTimeTripletDataset, read_triplet_manifest
from .collate import motion_collate, motion_pair_collate, pad_motions
from .humanml3d import HumanML3DDataset, KITDataset, load_caption_file, parse_caption_line, read_feature_encoding
from .ntu_dataset import NTUSkeletonDataset, read_ntu_exclude_list

__all__ = [
    'HumanML3DDataset', 'KITDataset', 'load_caption_file', 'parse_caption_line', 'motion_collate',
    'pad_motions', 'CigTimeTripletDataset', 'read_triplet_manifest', 'motion_pair_collate', 'read_feature_encoding'
]
__all__ += ['NTUSkeletonDataset', 'read_ntu_exclude_list']
from .preference_dataset import PreferenceDataset, preference_collate, read_preference_pairs

__all__ += ['PreferenceDataset', 'preference_collate', 'read_preference_pairs']
from .video_feature_cache import VideoFeatureCache, feature_config_hash, video_sha256  # noqa: E402
from .video_reader import VideoInfo, VideoReadError, probe_video, read_video_frames  # noqa: E402
__all__ += ['VideoFeatureCache', 'feature_config_hash', 'video_sha256', 'VideoInfo', 'VideoReadError',
            'probe_video', 'read_video_frames']
from .expertaf_pair_dataset import ExpertAFPairDataset, read_expertaf_pairs  # noqa: E402
__all__ += ['ExpertAFPairDataset', 'read_expertaf_pairs']

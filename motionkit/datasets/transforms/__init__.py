"""Data transforms (registered in ``TRANSFORMS``): loading, processing and formatting."""
from .action_labels import LoadActionLabels, load_action_classes
from .base import BaseTransform
from .encode_action_labels import EncodeActionLabels, read_class_names
from .expertaf_inputs import PackExpertAFInputs
from .formatting import PackMotionInputs
from .loading import LoadMotion, check_motion_array
from .motion_pair import LoadMotionPair, PackMotionPairInputs
from .processing import (CropMotion, MirrorMotion, NormalizeMotion, SampleCaption, load_mean_std,
                         pad_caption_tokens, swap_left_right_words, unit_length_crop_size)
from .video import (CheckVideoPoseLength, LoadCachedVideoFeatures, LoadPrecomputedVideoFeatures,
                    LoadVideoFrames, NormalizeFrames, ResizeFrames, SampleClipAroundTimestamp,
                    SampleEgoExoPair, UniformSampleFrames, VideoWindowError, clip_frame_indices,
                    time_to_frame_indices, uniform_frame_indices)

__all__ = [
    'BaseTransform', 'LoadMotion', 'check_motion_array', 'SampleCaption', 'CropMotion',
    'NormalizeMotion', 'MirrorMotion', 'PackMotionInputs', 'load_mean_std', 'pad_caption_tokens',
    'swap_left_right_words', 'unit_length_crop_size', 'LoadMotionPair', 'PackMotionPairInputs',
    'LoadActionLabels', 'load_action_classes', 'EncodeActionLabels', 'read_class_names'
]
__all__ += [
    'UniformSampleFrames', 'SampleClipAroundTimestamp', 'SampleEgoExoPair', 'LoadVideoFrames',
    'ResizeFrames', 'NormalizeFrames', 'CheckVideoPoseLength', 'LoadCachedVideoFeatures',
    'LoadPrecomputedVideoFeatures', 'VideoWindowError', 'uniform_frame_indices',
    'clip_frame_indices', 'time_to_frame_indices'
]
__all__ += ['PackExpertAFInputs']

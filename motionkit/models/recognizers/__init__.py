"""Action recognizers (registered in MODELS): CoAMD's multi-modal action recognizer, its
multi-stream motion encoder and spatio-temporal transformer backbone, and a linear-head
classifier for supervised baselines and linear probes."""
from .linear_classifier_head import LinearClassifierHead
from .motion_segment_classifier import MotionSegmentClassifier, body_frame_features
from .multi_stream_motion_encoder import MAR_ARCHS, MAR_STREAMS, MultiStreamMotionEncoder
from .multimodal_action_recognizer import (DEFAULT_FUSED_WEIGHT, DEFAULT_STREAM_WEIGHT,
                                           MultimodalActionRecognizer, read_class_texts)
from .spatio_temporal_transformer import SpatioTemporalTransformer, sinusoidal_positions
from .supervised_action_recognizer import SupervisedActionRecognizer

__all__ = [
    'LinearClassifierHead', 'MAR_ARCHS', 'MAR_STREAMS', 'MultiStreamMotionEncoder',
    'DEFAULT_FUSED_WEIGHT', 'DEFAULT_STREAM_WEIGHT', 'MultimodalActionRecognizer',
    'read_class_texts', 'SpatioTemporalTransformer', 'sinusoidal_positions',
    'SupervisedActionRecognizer'
]
__all__ += ['MotionSegmentClassifier', 'body_frame_features']

"""Data preprocessors: batch padding, masks, device moves and normalisation."""
from .motion_data_preprocessor import MotionDataPreprocessor
from .motion_pair_data_preprocessor import MotionPairDataPreprocessor

__all__ = ['MotionDataPreprocessor', 'MotionPairDataPreprocessor']

"""Data preprocessors: batch padding, masks, device moves and normalisation."""
from .motion_data_preprocessor import MotionDataPreprocessor

__all__ = ['MotionDataPreprocessor']

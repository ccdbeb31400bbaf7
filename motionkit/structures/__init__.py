"""Data structures passed between datasets, models and metrics."""
from .motion_data_sample import MotionDataSample, format_label, format_score

__all__ = ['MotionDataSample', 'format_label', 'format_score']

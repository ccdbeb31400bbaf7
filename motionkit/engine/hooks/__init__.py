from .dataset_stats_hook import DatasetStatsHook
from .motion_visualization_hook import MotionVisualizationHook
from .numeric_environment_hook import NumericEnvironmentHook

__all__ = ['DatasetStatsHook', 'MotionVisualizationHook', 'NumericEnvironmentHook']

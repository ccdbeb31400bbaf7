from .dataset_stats_hook import DatasetStatsHook
from .motion_visualization_hook import MotionVisualizationHook

__all__ = ['DatasetStatsHook', 'MotionVisualizationHook']

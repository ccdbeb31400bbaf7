from .dataset_stats_hook import DatasetStatsHook
from .expertaf_pool_hook import ExpertAFPoolHook
from .joint_stats_hook import JointStatsHook, joint_coordinate_stats
from .motion_visualization_hook import MotionVisualizationHook
from .numeric_environment_hook import NumericEnvironmentHook

__all__ = ['DatasetStatsHook', 'MotionVisualizationHook', 'NumericEnvironmentHook', 'JointStatsHook',
           'joint_coordinate_stats']
__all__ += ['ExpertAFPoolHook']

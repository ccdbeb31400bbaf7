from .motion_visualization_hook import MotionVisualizationHook

__all__ = ['MotionVisualizationHook']

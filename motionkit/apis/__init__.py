"""Inferencers: one call from motions / text to outputs (registered in INFERENCERS)."""
from .motion_editor_inferencer import MotionEditorInferencer, load_motion_file

__all__ = ['MotionEditorInferencer', 'load_motion_file']

"""Inferencers: one call from motions / text to outputs (registered in INFERENCERS)."""
from .corrective_instruction_inferencer import CorrectiveInstructionInferencer
from .motion_editor_inferencer import MotionEditorInferencer, load_motion_file

__all__ = ['CorrectiveInstructionInferencer', 'MotionEditorInferencer', 'load_motion_file']

"""Data structures passed between datasets, models and metrics."""
from .edit_request import EDIT_BODY_PARTS, EditRequest, InstructionEditor, format_edit_text
from .motion_data_sample import MotionDataSample, format_label, format_score

__all__ = ['MotionDataSample', 'format_label', 'format_score', 'EditRequest', 'InstructionEditor',
           'EDIT_BODY_PARTS', 'format_edit_text']

"""Data structures passed between datasets, models and metrics."""
from .edit_request import (BODY_PART_PREFIXES, EDIT_BODY_PARTS, EditRequest, InstructionEditor, format_edit_text,
                           parse_body_part, with_body_part)
from .motion_data_sample import MotionDataSample, format_label, format_score, sample_captions

__all__ = ['MotionDataSample', 'format_label', 'format_score', 'EditRequest', 'InstructionEditor',
           'EDIT_BODY_PARTS', 'format_edit_text', 'BODY_PART_PREFIXES', 'parse_body_part',
           'with_body_part', 'sample_captions']

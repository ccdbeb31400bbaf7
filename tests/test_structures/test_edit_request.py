"""EditRequest / InstructionEditor: the typed editor protocol, and every editor implements it."""
import numpy as np
import pytest

from motionkit.models.editors import MDM, BodyPartEditorRouter, SourceConditionedMDM
from motionkit.structures import EditRequest, InstructionEditor, format_edit_text
from motionkit.synthmotion import SynthMotionExactEditor


def test_request_fields_are_checked_and_normalised():
    r = EditRequest('raise the arm', source_id='S1', joints=np.zeros((3, 22, 3)), body_part='upper_body',
                    edited_joints=['left_wrist'], source_captions=['a person waves'])
    assert r.edited_joints == ('left_wrist', ) and r.source_captions == ('a person waves', )
    assert r.motion is None and r.data_root is None
    with pytest.raises(ValueError, match="body_part must be one of.*'arms'"):
        EditRequest('x', source_id='S2', body_part='arms')
    with pytest.raises(TypeError, match='instruction must be a str'):
        EditRequest(None, source_id='S3')


def test_every_editor_class_implements_the_protocol():
    for cls in (MDM, SourceConditionedMDM, BodyPartEditorRouter, SynthMotionExactEditor):
        assert callable(getattr(cls, 'edit_instructions', None)), cls
    assert isinstance(SynthMotionExactEditor(), InstructionEditor)

    class NotAnEditor:
        def edit(self, x):
            return x

    assert not isinstance(NotAnEditor(), InstructionEditor)


def test_format_edit_text_by_hand():
    assert format_edit_text('{source_caption} {instruction}', ' kick higher ', 'a person kicks') == \
        'a person kicks. kick higher'
    # a template that lost its spaces on the command line gets them back after sentence ends
    assert format_edit_text('{source_caption}{instruction}', 'bow deeper', 'a person bows.') == \
        'a person bows. bow deeper'
    assert format_edit_text('{instruction}', 'walk slower') == 'walk slower'

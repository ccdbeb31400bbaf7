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


def test_body_part_opening_parsed_and_written():
    from motionkit.structures import parse_body_part, with_body_part
    assert parse_body_part('Upper body: raise your arms higher') == ('upper_body', 'raise your arms higher')
    # the word-level tokenizer decodes lower case with a space before the colon
    assert parse_body_part('lower body : squat deeper') == ('lower_body', 'squat deeper')
    assert parse_body_part('Whole-body:walk faster') == ('whole_body', 'walk faster')
    # the part must open the instruction; anything else names none
    assert parse_body_part('raise your upper body: higher') == (None, 'raise your upper body: higher')
    assert parse_body_part('  squat deeper ') == (None, 'squat deeper')
    assert parse_body_part('Left body: x') == (None, 'Left body: x')
    assert with_body_part('lower_body', 'squat deeper') == 'Lower body: squat deeper'
    assert with_body_part('upper_body', 'Lower body: wave') == 'Upper body: wave'  # replaced, not stacked
    with pytest.raises(ValueError, match="got 'arms'"):
        with_body_part('arms', 'x')

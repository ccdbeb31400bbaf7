"""The editor protocol: what an instruction editor is asked (``EditRequest``) and what it must offer
(``InstructionEditor``). MDM and its source-conditioned variant, the per-body-part router and
SynthMotion's exact editor implement it; CigTime's reconstruction metric and triplet builder call
it. Requests are typed, not dicts of optional keys assembled in several places (STYLE.md, rule 13).
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import List, Optional, Protocol, Sequence, Tuple, runtime_checkable

import numpy as np

__all__ = ['EDIT_BODY_PARTS', 'BODY_PART_PREFIXES', 'EditRequest', 'InstructionEditor', 'format_edit_text',
           'with_body_part', 'parse_body_part']

#: the parts an instruction edit regenerates (CigTime's "Upper body:" / "Lower body:" instructions);
#: ``'whole_body'`` regenerates everything
EDIT_BODY_PARTS = ('upper_body', 'lower_body', 'whole_body')
#: how an instruction names its body part: CigTime's instructions open with "Upper body:" /
#: "Lower body:" (sec. 3.2, the editor is told which part to regenerate); SynthMotion's timing and
#: event edits move everything and open with "Whole body:"
BODY_PART_PREFIXES = {'upper_body': 'Upper body', 'lower_body': 'Lower body', 'whole_body': 'Whole body'}
_PREFIX_RE = re.compile(r'^\s*(upper|lower|whole)[\s_-]*body\s*:\s*', re.IGNORECASE)


@dataclass
class EditRequest:
    """One corrective-instruction edit of one source motion.

    Attributes:
        instruction: the text to carry out.
        source_id: the source's id (SynthMotion's exact editor looks its program up by it; others
            use it in messages).
        motion: ``(T-1, D)`` raw (un-normalised) features of the source, for learned editors.
        joints: ``(T, J, 3)`` source joint positions (returned unchanged by the exact editor when
            the instruction names no edit it can apply).
        body_part: which features are regenerated: ``'upper_body'``, ``'lower_body'`` or
            ``'whole_body'``.
        edited_joints: the joints the edit changes, where known (triplet metadata).
        source_captions: captions of the source (for editor text templates with
            ``{source_caption}``).
        data_root: the folder whose ``Mean.npy`` / ``Std.npy`` (or SynthMotion build) belong to the
            source, for editors that carry no statistics of their own.

    Sampling settings (reverse steps, random generator) are arguments of the editor's call: a
    batch of requests is sampled together.
    """
    instruction: str
    source_id: str = ''
    motion: Optional[np.ndarray] = None
    joints: Optional[np.ndarray] = None
    body_part: str = 'whole_body'
    edited_joints: Tuple[str, ...] = ()
    source_captions: Tuple[str, ...] = ()
    data_root: Optional[str] = None

    def __post_init__(self) -> None:
        if not isinstance(self.instruction, str):
            raise TypeError(f'EditRequest({self.source_id!r}): instruction must be a str, got '
                            f'{type(self.instruction).__name__}')
        if self.body_part not in EDIT_BODY_PARTS:
            raise ValueError(f'EditRequest({self.source_id!r}): body_part must be one of '
                             f'{EDIT_BODY_PARTS}, got {self.body_part!r}')
        self.edited_joints = tuple(self.edited_joints)
        self.source_captions = tuple(self.source_captions)


@runtime_checkable
class InstructionEditor(Protocol):
    """Anything that edits source motions by instructions."""

    def edit_instructions(self, requests: Sequence[EditRequest]) -> List[np.ndarray]:
        """Edited joint positions ``(T_i', J, 3)`` (float32) for each request, in order."""
        ...


def format_edit_text(template: str, instruction: str, source_caption: str = '') -> str:
    """An editor's text from ``template`` (``{instruction}``, ``{source_caption}``): the caption
    ends with a full stop, sentences are separated by one space (config overrides on the command
    line lose the spaces of a template)."""
    caption = source_caption.strip().rstrip('.')
    text = template.format(instruction=instruction.strip(),
                           source_caption=caption + '.' if caption else '')
    return ' '.join(re.sub(r'([.!?;])(?=[^\s.!?;])', r'\1 ', text).split())


def with_body_part(body_part: str, instruction: str) -> str:
    """The instruction as CigTime writes it: ``'Upper body: raise your arms higher'``.

    An instruction that already opens with a body part is returned with that prefix replaced.

    Raises:
        ValueError: ``body_part`` is not one of :data:`EDIT_BODY_PARTS`.
    """
    if body_part not in BODY_PART_PREFIXES:
        raise ValueError(f'with_body_part: body_part must be one of {EDIT_BODY_PARTS}, got {body_part!r}')
    _, text = parse_body_part(instruction)
    return f'{BODY_PART_PREFIXES[body_part]}: {text}'


def parse_body_part(instruction: str) -> Tuple[Optional[str], str]:
    """Split a generated instruction into the body part it names and the rest.

    ``'Upper body: raise your arms higher'`` -> ``('upper_body', 'raise your arms higher')``;
    case, ``_`` / ``-`` between the words and spaces around the colon are tolerated. The part must
    open the instruction (as in CigTime's data); an instruction that does not open with one gives
    ``(None, instruction stripped)``: the caller decides what a missing part costs (the
    reconstruction metric counts it as a failure and lets the editor move the whole body).
    """
    text = str(instruction)
    m = _PREFIX_RE.match(text)
    if m is None:
        return None, text.strip()
    return f'{m.group(1).lower()}_body', text[m.end():].strip()

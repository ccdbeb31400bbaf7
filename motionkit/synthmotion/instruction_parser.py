"""Which SynthMotion edit does an instruction ask for? A parser of the edit templates' grammar.

Every SynthMotion edit operator (:mod:`.edits`) is phrased by templates whose ``{field}`` slots are
filled with the edit's values. An instruction names operator ``op`` when it *is* one of ``op``'s
templates with some words in each slot: the template's literal words in their order, nothing before
or after (case, punctuation and hyphens ignored; a leading "Upper body:" is not part of it). Word
order matters: a shuffled instruction names nothing. This judges the edit independent of the
source motion (the exact editor checks the values too) and of the phrasing.
"""
from __future__ import annotations

import re
from functools import lru_cache
from typing import Dict, Optional, Sequence, Set, Tuple

from motionkit.structures.edit_request import parse_body_part
from .edits import EDIT_OPERATORS
from .synthmotion_exact_editor import normalize_instruction

__all__ = ['operators_named', 'template_pattern']


def template_pattern(template: str) -> 're.Pattern':
    """The regular expression of one template over normalised text: literal words in order, one or
    more words per ``{field}`` slot, anchored at both ends."""
    parts = re.split(r'(\{[a-z_]+\})', template)
    out = []
    for part in parts:
        if re.fullmatch(r'\{[a-z_]+\}', part):
            out.append(r'\S+(?: \S+)*')
        else:
            words = normalize_instruction(part).split()
            if words:
                out.append(' '.join(re.escape(w) for w in words))
    return re.compile('^' + ' '.join(out) + '$')


@lru_cache(maxsize=8)
def _patterns(extra: Tuple[Tuple[str, Tuple[str, ...]], ...] = ()) -> tuple:
    table = {name: list(op.templates) for name, op in EDIT_OPERATORS.items()}
    for name, templates in extra:
        table.setdefault(name, []).extend(t for t in templates if t not in table[name])
    return tuple((template_pattern(t), name) for name, ts in table.items() for t in ts)


def operators_named(instruction: str, extra_templates: Optional[Dict[str, Sequence[str]]] = None) -> Set[str]:
    """The names of the SynthMotion edit operators whose templates ``instruction`` fills.

    Args:
        instruction: generated or reference text (a leading body part is ignored).
        extra_templates: ``{operator: [templates]}`` beyond the operators' own (the LLM
            paraphrases a triplet manifest records).
    """
    _, body = parse_body_part(instruction)
    text = normalize_instruction(body)
    extra = tuple(sorted((k, tuple(v)) for k, v in (extra_templates or {}).items()))
    return {name for pattern, name in _patterns(extra) if pattern.match(text)}



"""Text normalisation shared by the layers that compare instructions by their words."""
from __future__ import annotations

import re

__all__ = ['normalize_text']

_NON_WORD = re.compile(r'[^a-z0-9]+')


def normalize_text(text: str) -> str:
    """Lower case, every character but letters and digits to a space, single spaces
    (``"Kick higher!"`` -> ``'kick higher'``, ``"Don't side-step"`` -> ``'don t side step'``): the
    form two texts are compared in when only their words and their order matter."""
    return ' '.join(_NON_WORD.sub(' ', str(text).lower()).split())

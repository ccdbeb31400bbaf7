"""Where motionkit keeps what it builds or converts once and reuses: one resolver of the cache
folder for every component (SynthMotion builds, converted models, downloaded checkpoints, LLM/VLM
call caches, WordNet for METEOR)."""
from __future__ import annotations

import os
from pathlib import Path

__all__ = ['cache_dir']


def cache_dir(*parts: str) -> Path:
    """``$MOTIONKIT_CACHE/<parts>``, or ``~/.cache/motionkit/<parts>`` when the variable is unset
    or empty. Not created here: writers create what they write."""
    root = os.environ.get('MOTIONKIT_CACHE')
    base = Path(root).expanduser() if root else Path.home() / '.cache' / 'motionkit'
    return base.joinpath(*parts)

"""One preset mechanism for the metric classes (``CAPTION_PRESETS``, ``RECOGNITION_PRESETS``,
``RETRIEVAL_PRESETS``, ``T2M_PRESETS``): a preset pins a published protocol as a dict of options;
a metric resolves its preset once, with the caller's overrides, and fails naming the choices."""
from __future__ import annotations

import copy
from typing import Any, Dict, Mapping, Optional

__all__ = ['resolve_preset']


def resolve_preset(kind: str, presets: Mapping[str, Dict[str, Any]], name: str,
                   overrides: Optional[Mapping[str, Any]] = None, owner: Optional[str] = None) -> Dict[str, Any]:
    """A deep copy of ``presets[name]`` with ``overrides`` applied.

    Args:
        kind: what the presets are of, for messages (``'caption'``, ``'T2M'``, ...).
        presets: ``{name: options}``.
        name: the preset asked for.
        overrides: option values that replace the preset's (keys must be preset keys).
        owner: the metric class, for messages about unknown option keys.

    Raises:
        ValueError: an unknown preset (naming the choices) or an override key no preset has.
    """
    if name not in presets:
        raise ValueError(f'unknown {kind} preset {name!r}; choose from {sorted(presets)}')
    cfg = copy.deepcopy(dict(presets[name]))
    overrides = dict(overrides or {})
    unknown = set(overrides) - set(cfg)
    if unknown:
        raise ValueError(f'unknown {owner or kind} options {sorted(unknown)}; preset keys are {sorted(cfg)}')
    cfg.update(overrides)
    return cfg

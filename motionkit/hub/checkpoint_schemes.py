"""mmengine ``CheckpointLoader`` schemes that fetch through :func:`motionkit.hub.download`.

``load_from='motionkit://mdm_trans-enc-512_humanml3d'``, ``https://...``, ``hf://...`` and
``file://...`` resolve to a local, hash-verified file, which is then read by
:func:`motionkit.utils.checkpoint.safe_load` (``weights_only=True``) like every local checkpoint.
Through a config there is no way to allow an unpinned file: the tools' ``--allow-unpinned`` flag
downloads it first and hands the runner the local path.
"""
from __future__ import annotations

from typing import Any

from mmengine.runner.checkpoint import CheckpointLoader

from motionkit.utils import checkpoint as _checkpoint

from .download import download, is_remote

_PREFIXES = ('http://', 'https://', 'file://', 'hf://', 'motionkit://')


def load_from_hub(filename: str, map_location: Any = None) -> Any:
    """Download (or find in the cache) and verify ``filename``, then load it safely."""
    return _checkpoint.safe_load(download(filename), map_location=map_location)


def resolve_checkpoint(checkpoint: str, allow_unpinned: bool = False) -> str:
    """A tools-level helper: a remote name/URL becomes a verified local path, a path stays as is."""
    if checkpoint and is_remote(checkpoint):
        return download(checkpoint, allow_unpinned=allow_unpinned)
    return checkpoint


def register_checkpoint_schemes() -> None:
    """Route mmengine's remote checkpoint schemes through the hub (idempotent).

    ``force=True`` replaces mmengine's own ``http(s)://`` loader, which neither pins a hash nor
    pins ``weights_only``.
    """
    CheckpointLoader.register_scheme(prefixes=_PREFIXES, loader=load_from_hub, force=True)

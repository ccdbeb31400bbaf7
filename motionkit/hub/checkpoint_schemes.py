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

from .download import DownloadError, download, is_remote
from .metafiles import find_model

_PREFIXES = ('http://', 'https://', 'file://', 'hf://', 'motionkit://')


def load_from_hub(filename: str, map_location: Any = None) -> Any:
    """Download (or find in the cache) and verify ``filename``, then load it safely.

    A ``motionkit://`` name of an official checkpoint (a metafile entry with a ``Converter``) is
    the authors' own file, which no motionkit model loads as is: the error gives the converter.
    """
    _refuse_unconverted(filename)
    return _checkpoint.safe_load(download(filename), map_location=map_location)


def _refuse_unconverted(filename: str) -> None:
    if not filename.startswith('motionkit://'):
        return
    entry = find_model(filename[len('motionkit://'):])
    if entry.get('Converter'):
        raise DownloadError(
            f'{filename} is the authors\' original checkpoint ({entry.get("Weights")}), which a '
            f'motionkit model cannot load as is. Fetch it (python tools/misc/download.py '
            f'{entry["Name"]}), convert it with `{entry["Converter"]}`, and pass the converted '
            'file instead.')


def resolve_checkpoint(checkpoint: str, allow_unpinned: bool = False) -> str:
    """A tools-level helper: a remote name/URL becomes a verified local path, a path stays as is."""
    if checkpoint and is_remote(checkpoint):
        _refuse_unconverted(checkpoint)
        return download(checkpoint, allow_unpinned=allow_unpinned)
    return checkpoint


def register_checkpoint_schemes() -> None:
    """Route mmengine's remote checkpoint schemes through the hub (idempotent).

    ``force=True`` replaces mmengine's own ``http(s)://`` loader, which neither pins a hash nor
    pins ``weights_only``.
    """
    CheckpointLoader.register_scheme(prefixes=_PREFIXES, loader=load_from_hub, force=True)

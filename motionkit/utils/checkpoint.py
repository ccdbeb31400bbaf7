"""Safe checkpoint loading for mmengine 0.10.7 under torch >= 2.6.

Every checkpoint is read with ``torch.load(..., weights_only=True)``: a pickle that tries to run
code (``os.system`` in ``__reduce__``, ...) is refused before anything executes. mmengine's own
checkpoints hold a few non-tensor objects (``HistoryBuffer`` of the message hub, numpy arrays and
scalars of the log history); exactly those are allowlisted with
``torch.serialization.add_safe_globals`` so that ``--resume``, ``load_from`` and ``tools/test.py``
keep working with ``weights_only`` still on.

A file whose name carries a hash (OpenMMLab convention ``name-<sha256 prefix>.pth``) or that has a
``<file>.sha256`` sidecar is verified before it is unpickled.
"""
from __future__ import annotations

import hashlib
import os
import os.path as osp
import re
import warnings
from typing import Any, Optional

import numpy as np
import torch
from mmengine.runner.checkpoint import CheckpointLoader

_HASH_IN_NAME = re.compile(r'-([0-9a-f]{8,64})\.(?:pth|pt|ckpt|safetensors)$')
_SAFE_GLOBALS_DONE = False


def _numpy_safe_globals() -> list:
    """The numpy objects that appear in mmengine checkpoints (log history, meta)."""
    from mmengine.logging import HistoryBuffer

    globs: list = [HistoryBuffer, getattr, np.ndarray, np.dtype]
    # dtype classes (``numpy.dtypes.Float64DType`` ...) are BUILD targets that
    # ``get_unsafe_globals_in_checkpoint`` does not list: allow every one of them.
    for code in '?bBhHiIlLqQefdgFDGSUMmO':
        try:
            globs.append(type(np.dtype(code)))
        except TypeError:
            pass
    # ``_reconstruct`` and ``scalar`` are pickled under the module path of the numpy that saved the
    # file: ``numpy._core.multiarray`` (numpy >= 2) or ``numpy.core.multiarray`` (numpy 1.x).
    from numpy._core import multiarray
    for name in ('_reconstruct', 'scalar'):
        fn = getattr(multiarray, name)
        globs.append((fn, f'numpy._core.multiarray.{name}'))
        globs.append((fn, f'numpy.core.multiarray.{name}'))
    return globs


def register_safe_globals() -> None:
    """Allowlist the non-tensor objects mmengine writes into checkpoints (idempotent)."""
    global _SAFE_GLOBALS_DONE
    if _SAFE_GLOBALS_DONE:
        return
    torch.serialization.add_safe_globals(_numpy_safe_globals())
    _SAFE_GLOBALS_DONE = True


def file_sha256(path: str, chunk_size: int = 1 << 20) -> str:
    """Hex sha256 of a file, read in chunks."""
    digest = hashlib.sha256()
    with open(path, 'rb') as f:
        for chunk in iter(lambda: f.read(chunk_size), b''):
            digest.update(chunk)
    return digest.hexdigest()


def verify_sha256(path: str, expected: Optional[str] = None) -> Optional[str]:
    """Check a file against an expected sha256 (full hex or a prefix of at least 8 characters).

    Without ``expected``, the hash is taken from the file name (``name-<hash>.pth``) or from a
    ``<file>.sha256`` sidecar when one exists; with neither there is nothing to verify and None is
    returned. Raises ``ValueError`` naming the file, the expected and the found hash on mismatch.
    """
    if expected is None:
        sidecar = path + '.sha256'
        if osp.isfile(sidecar):
            with open(sidecar) as f:
                words = f.read().split()
            if not words:
                raise ValueError(f'{sidecar}: empty sha256 sidecar file')
            expected = words[0]
        else:
            match = _HASH_IN_NAME.search(osp.basename(path))
            expected = match.group(1) if match else None
    if expected is None:
        return None
    expected = expected.strip().lower()
    if len(expected) < 8 or not re.fullmatch(r'[0-9a-f]+', expected):
        raise ValueError(f'{path}: expected sha256 must be >= 8 hex characters, got {expected!r}')
    found = file_sha256(path)
    if not found.startswith(expected):
        raise ValueError(
            f'sha256 mismatch for {path}: expected {expected}..., found {found}. '
            'The file is corrupt or not the one that was published; refusing to load it.')
    return found


def safe_load(path: str, map_location: Any = 'cpu', sha256: Optional[str] = None) -> Any:
    """Load a checkpoint without executing code: sha256 check, then safetensors or
    ``torch.load(weights_only=True)``. Use this for any file a user hands in or that was downloaded.
    """
    path = osp.expanduser(path)
    if not osp.isfile(path):
        raise FileNotFoundError(f'checkpoint not found: {path}')
    verify_sha256(path, sha256)
    if path.endswith('.safetensors'):
        from safetensors.torch import load_file
        device = map_location if isinstance(map_location, str) else 'cpu'
        return {'state_dict': load_file(path, device=device)}
    register_safe_globals()
    try:
        return torch.load(path, map_location=map_location, weights_only=True)
    except Exception as err:  # UnpicklingError for refused globals, RuntimeError for bad zips
        raise RuntimeError(
            f'could not load checkpoint {path} with weights_only=True: {err}\n'
            'motionkit never unpickles arbitrary objects from checkpoint files. If this file was '
            'written by an old toolkit, convert it with tools/model_converters/ on a trusted '
            'machine.') from err


def load_from_local_safe(filename: str, map_location: Any = None) -> Any:
    """mmengine CheckpointLoader backend for local paths: always ``weights_only=True``."""
    return safe_load(filename, map_location=map_location)


def install_safe_checkpoint_loader() -> None:
    """Make every local mmengine checkpoint load (resume, ``load_from``, tools/test.py) go through
    :func:`safe_load`. mmengine's own local loader relies on torch's default, which an environment
    variable (``TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD``) can turn off; ours pins ``weights_only=True``."""
    register_safe_globals()
    if os.environ.get('TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD'):
        warnings.warn('TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD is set; motionkit still loads '
                      'checkpoints with weights_only=True.')
    # mmengine registers its local loader under the empty prefix; replacing it is the only way to
    # pin weights_only for every caller (Runner.resume, load_checkpoint, CheckpointHook).
    CheckpointLoader.register_scheme(prefixes='', loader=load_from_local_safe, force=True)

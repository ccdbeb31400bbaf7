"""Safe checkpoint loading: nothing in a checkpoint file can run code.

Every checkpoint is read with ``torch.load(..., weights_only=True)``. mmengine's own checkpoints
hold a few non-tensor objects (the message hub's ``HistoryBuffer`` with its statistics methods,
numpy arrays and scalars of the log history). Those are let through by *inert stand-ins* that are
allowlisted only for the duration of one load (``torch.serialization.safe_globals``), never for
the whole process, so importing motionkit does not weaken anyone else's ``torch.load`` or a
Hugging Face ``from_pretrained``:

- ``builtins.getattr`` (how pickle spells the methods ``HistoryBuffer.min`` / ``max`` / ``current``
  / ``mean``) resolves those four (class, name) pairs and nothing else;
- ``HistoryBuffer`` is rebuilt from a state that is checked key by key (no attacker-chosen entry
  reaches mmengine's class-wide statistics table);
- numpy's ``dtype`` / ``_reconstruct`` / ``scalar`` build plain numeric arrays and scalars only
  (no object dtype, no ndarray subclass).

No general-purpose callable (``getattr``, ``eval``, ``exec``, ``__import__``,
``operator.attrgetter``, ``functools.partial``, ...) is ever allowlisted. Every motionkit entry point
that reads a checkpoint (``load_from``, ``--resume``, ``tools/test.py``, metrics that own a network,
inferencers, the tokenising tool) goes through :func:`safe_load`; mmengine's own loaders for other
schemes are replaced (remote URLs by the hub's verified download, the rest refused).

A file whose name carries a hash (OpenMMLab convention ``name-<sha256 prefix>.pth``) or that has a
``<file>.sha256`` sidecar is verified before it is unpickled.
"""
from __future__ import annotations

import os
import os.path as osp
import pickle
import re
import warnings
from typing import Any, Dict, List, Optional

import numpy as np
import torch
from mmengine.logging import HistoryBuffer
from mmengine.runner.checkpoint import CheckpointLoader

from .io import file_sha256

try:  # numpy >= 2
    from numpy._core import multiarray as _np_multiarray
except ImportError:  # numpy 1.x
    from numpy.core import multiarray as _np_multiarray

_HASH_IN_NAME = re.compile(r'-([0-9a-f]{8,64})\.(?:pth|pt|ckpt|safetensors)$')

# The statistics methods mmengine registers on every HistoryBuffer (``_set_default_statistics``);
# ``HistoryBuffer.__getstate__`` pickles them as ``getattr(HistoryBuffer, name)``.
_HISTORY_STATISTICS = ('min', 'max', 'current', 'mean')
_HISTORY_KEYS = {'max_length', '_log_history', '_count_history', 'statistics_methods'}
# numpy dtype kinds a checkpoint may hold: bool, integers, floats, complex, bytes, str, datetimes.
_NUMPY_KINDS = set('biufcSUmM')


class CheckpointSecurityError(pickle.UnpicklingError):
    """A checkpoint asked for something motionkit's loader does not build."""


def _describe(obj: Any) -> str:
    name = getattr(obj, '__qualname__', None) if isinstance(obj, type) else None
    return f'class {obj.__module__}.{name}' if name else f'a {type(obj).__name__} object'


def _checkpoint_getattr(obj: Any, name: Any) -> Any:
    """Stand-in for ``builtins.getattr``: resolves ``HistoryBuffer.<min|max|current|mean>`` only."""
    if (obj is HistoryBuffer or obj is _CheckedHistoryBuffer) and name in _HISTORY_STATISTICS:
        return getattr(HistoryBuffer, name)
    raise CheckpointSecurityError(
        f'the checkpoint asks for getattr({_describe(obj)}, {name!r}); motionkit resolves only '
        f'HistoryBuffer.{{{",".join(_HISTORY_STATISTICS)}}} this way (mmengine message-hub '
        'history) and refuses every other attribute')


def _check_numeric_dtype(dtype: Any, where: str) -> np.dtype:
    if not isinstance(dtype, np.dtype) or dtype.hasobject or dtype.kind not in _NUMPY_KINDS:
        raise CheckpointSecurityError(
            f'the checkpoint holds a numpy {where} of dtype {dtype!r}; only plain numeric, bool, '
            'bytes or str arrays are loaded (object dtypes would carry arbitrary Python objects)')
    return dtype


def _numpy_dtype(spec: Any, align: bool = False, copy: bool = False) -> np.dtype:
    """Stand-in for ``numpy.dtype`` (how a pickled dtype is rebuilt): plain dtypes from a string."""
    if not isinstance(spec, str):
        raise CheckpointSecurityError(f'the checkpoint builds a numpy dtype from {type(spec).__name__}; '
                                      'only dtype strings such as "f8" are accepted')
    return _check_numeric_dtype(np.dtype(spec, bool(align), bool(copy)), 'dtype')


def _numpy_reconstruct(subtype: Any, shape: Any, dtype: Any) -> np.ndarray:
    """Stand-in for ``numpy._core.multiarray._reconstruct``: plain ``ndarray`` only."""
    if subtype is not np.ndarray:
        raise CheckpointSecurityError(f'the checkpoint rebuilds an array of {_describe(subtype)}; '
                                      'only numpy.ndarray is accepted')
    return _np_multiarray._reconstruct(np.ndarray, shape, dtype)


def _numpy_scalar(dtype: Any, data: Any = None) -> Any:
    """Stand-in for ``numpy._core.multiarray.scalar``: numeric scalars only."""
    _check_numeric_dtype(dtype, 'scalar')
    if not isinstance(data, bytes):
        raise CheckpointSecurityError('the checkpoint builds a numpy scalar from '
                                      f'{type(data).__name__}; only raw bytes are accepted')
    return _np_multiarray.scalar(dtype, data)


class _CheckedHistoryBuffer(HistoryBuffer):
    """Stand-in for ``mmengine.logging.HistoryBuffer`` while unpickling.

    mmengine's own ``__setstate__`` copies the pickled ``statistics_methods`` into the class-wide
    table that every HistoryBuffer of the process calls. This one checks the state key by key,
    keeps only the four default methods (the same functions, by identity), then turns the object
    into a plain ``HistoryBuffer``.
    """

    def __setstate__(self, state: Any) -> None:
        if not isinstance(state, dict):
            raise CheckpointSecurityError(f'HistoryBuffer state must be a dict, got {type(state).__name__}')
        unknown = sorted(map(str, set(state) - _HISTORY_KEYS))
        if unknown:
            raise CheckpointSecurityError(f'HistoryBuffer state has unexpected keys {unknown}')
        methods = state.get('statistics_methods', {})
        if not isinstance(methods, dict):
            raise CheckpointSecurityError('HistoryBuffer statistics_methods must be a dict')
        for key, fn in methods.items():
            if key not in _HISTORY_STATISTICS or fn is not getattr(HistoryBuffer, key):
                raise CheckpointSecurityError(
                    f'HistoryBuffer statistics method {key!r} is not one of mmengine\'s defaults '
                    f'{_HISTORY_STATISTICS}; custom statistics are not loaded from checkpoints')
        arrays = {}
        for key in ('_log_history', '_count_history'):
            value = state.get(key, np.zeros(0))
            if not isinstance(value, np.ndarray) or value.ndim != 1:
                raise CheckpointSecurityError(f'HistoryBuffer {key} must be a 1-D numpy array')
            arrays[key] = value
        max_length = state.get('max_length', 1000000)
        if not isinstance(max_length, int) or isinstance(max_length, bool):
            raise CheckpointSecurityError('HistoryBuffer max_length must be an int')
        self.__class__ = HistoryBuffer  # the loaded object is mmengine's own class again
        self._set_default_statistics()
        self.__dict__.update(max_length=max_length, **arrays)


def _checkpoint_globals() -> List[Any]:
    """The (stand-in, pickled name) pairs one checkpoint load may use, and the dtype classes that
    are BUILD targets of pickled dtypes (``numpy.dtypes.Float64DType`` ...)."""
    globs: List[Any] = [
        (_checkpoint_getattr, 'builtins.getattr'),
        (_CheckedHistoryBuffer, 'mmengine.logging.history_buffer.HistoryBuffer'),
        (np.ndarray, 'numpy.ndarray'),
        (_numpy_dtype, 'numpy.dtype'),
    ]
    for code in '?bBhHiIlLqQefdgFDGSUMm':
        globs.append(type(np.dtype(code)))
    # pickled under the module path of the numpy that saved the file: ``numpy._core`` (numpy >= 2)
    # or ``numpy.core`` (numpy 1.x)
    for module in ('numpy._core.multiarray', 'numpy.core.multiarray'):
        globs.append((_numpy_reconstruct, f'{module}._reconstruct'))
        globs.append((_numpy_scalar, f'{module}.scalar'))
    return globs


def expected_sha256(path: str) -> Optional[str]:
    """The hash a file is pinned to by its ``<file>.sha256`` sidecar or its name
    (``name-<hash>.pth``), or None."""
    sidecar = path + '.sha256'
    if osp.isfile(sidecar):
        with open(sidecar) as f:
            words = f.read().split()
        if not words:
            raise ValueError(f'{sidecar}: empty sha256 sidecar file')
        return words[0]
    match = _HASH_IN_NAME.search(osp.basename(path))
    return match.group(1) if match else None


def verify_sha256(path: str, expected: Optional[str] = None) -> Optional[str]:
    """Check a file against an expected sha256 (full hex or a prefix of at least 8 characters).

    Without ``expected``, the hash is taken from the file name (``name-<hash>.pth``) or from a
    ``<file>.sha256`` sidecar when one exists; with neither there is nothing to verify and None is
    returned. Raises ``ValueError`` naming the file, the expected and the found hash on mismatch.
    """
    if expected is None:
        expected = expected_sha256(path)
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
    ``torch.load(weights_only=True)`` with the inert stand-ins of this module allowed for this one
    load. Use this for any file a user hands in or that was downloaded.
    """
    path = osp.expanduser(str(path))
    if not osp.isfile(path):
        raise FileNotFoundError(f'checkpoint not found: {path}')
    verify_sha256(path, sha256)
    if path.endswith('.safetensors'):
        from safetensors.torch import load_file
        device = map_location if isinstance(map_location, str) else 'cpu'
        return {'state_dict': load_file(path, device=device)}
    try:
        with torch.serialization.safe_globals(_checkpoint_globals()):
            return torch.load(path, map_location=map_location, weights_only=True)
    except Exception as err:  # UnpicklingError for refused globals, RuntimeError for bad zips
        raise RuntimeError(
            f'could not load checkpoint {path} with weights_only=True: {err}\n'
            'motionkit never unpickles arbitrary objects from checkpoint files. If this file was '
            'written by an old toolkit, convert it with tools/model_converters/ on a trusted '
            'machine.') from err


class _RestrictedUnpickler(pickle.Unpickler):
    """A plain-pickle reader for files motionkit writes itself (``tools/test.py --out x.pkl``):
    builtin containers and numbers, numpy arrays and scalars through the stand-ins above, nothing
    else."""

    _GLOBALS: Dict[tuple, Any] = {
        ('numpy', 'ndarray'): np.ndarray,
        ('numpy', 'dtype'): _numpy_dtype,
        ('numpy._core.multiarray', '_reconstruct'): _numpy_reconstruct,
        ('numpy.core.multiarray', '_reconstruct'): _numpy_reconstruct,
        ('numpy._core.multiarray', 'scalar'): _numpy_scalar,
        ('numpy.core.multiarray', 'scalar'): _numpy_scalar,
    }
    _DTYPE_CLASSES = {f'{type(np.dtype(c)).__module__}.{type(np.dtype(c)).__name__}': type(np.dtype(c))
                      for c in '?bBhHiIlLqQefdgFDGSUMm'}

    def find_class(self, module: str, name: str) -> Any:
        found = self._GLOBALS.get((module, name)) or self._DTYPE_CLASSES.get(f'{module}.{name}')
        if found is None:
            raise CheckpointSecurityError(f'refusing to load global {module}.{name} from a pickle '
                                          '(only numbers, strings, containers and numpy arrays)')
        return found


def safe_pickle_load(path: str) -> Any:
    """Read a ``.pkl`` of plain data (predictions dumped by ``tools/test.py --out``) without running
    code: anything but builtin containers, numbers, strings and numeric numpy arrays is refused."""
    with open(path, 'rb') as f:
        try:
            return _RestrictedUnpickler(f).load()
        except pickle.UnpicklingError as err:
            raise pickle.UnpicklingError(f'{path}: {err}') from err


def load_from_local_safe(filename: str, map_location: Any = None) -> Any:
    """mmengine CheckpointLoader backend for local paths: always :func:`safe_load`."""
    return safe_load(filename, map_location=map_location)


def _refuse_scheme(filename: str, map_location: Any = None) -> Any:
    raise RuntimeError(
        f'motionkit does not load {filename!r}: its scheme goes through a loader without a hash '
        'check. Download the file, check its sha256, and pass the local path (or an https:// URL '
        'with a pinned hash, or a motionkit:// model name).')


# mmengine's loaders that call torch.load on their own (no sha256 check, torch's default
# weights_only): replaced by a clear refusal. http(s)://, hf://, file:// and motionkit:// are
# served by motionkit.hub (verified download, then safe_load).
_REFUSED_SCHEMES = ('torchvision://', 'modelzoo://', 'open-mmlab://', 'openmmlab://', 'mmcls://',
                    'pavi://', r'(\S+\:)?s3://', r'(\S+\:)?petrel://')


def install_safe_checkpoint_loader() -> None:
    """Make every mmengine checkpoint load (resume, ``load_from``, ``load_checkpoint``,
    tools/test.py) go through :func:`safe_load`. mmengine's own local loader relies on torch's
    default, which an environment variable (``TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD``) can turn off;
    ours pins ``weights_only=True``. This changes mmengine's loader table, not torch's allowlist."""
    if os.environ.get('TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD'):
        warnings.warn('TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD is set; motionkit still loads '
                      'checkpoints with weights_only=True.')
    # mmengine registers its local loader under the empty prefix; replacing it is the only way to
    # pin weights_only for every caller (Runner.resume, load_checkpoint, CheckpointHook).
    CheckpointLoader.register_scheme(prefixes='', loader=load_from_local_safe, force=True)
    for prefix in _REFUSED_SCHEMES:
        CheckpointLoader.register_scheme(prefixes=prefix, loader=_refuse_scheme, force=True)
    # http(s)://, hf://, file:// and motionkit:// go through the hub's verified download (pinned
    # sha256, then safe_load); imported here because the hub itself loads through this module
    from motionkit.hub.checkpoint_schemes import register_checkpoint_schemes
    register_checkpoint_schemes()

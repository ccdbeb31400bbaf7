"""Loading transforms: read motion features / joints from ``.npy`` files and validate them.

The ``results`` dict a dataset hands to the pipeline (see ``HumanML3DDataset.get_data_info``) holds
``motion_path`` (and ``joints_path`` when joints are loaded), ``start_frame`` / ``end_frame`` (the
frame window of a sub-segment caption, end exclusive) and the dataset's metainfo (``feature_dim``,
``num_joints``, ``min_motion_length``, ...).
"""
from __future__ import annotations

from typing import Optional

import numpy as np

from motionkit.registry import TRANSFORMS
from .base import BaseTransform

__all__ = ['LoadMotion', 'check_motion_array']


def check_motion_array(array: np.ndarray, path: str, *, kind: str = 'features',
                       feature_dim: Optional[int] = None,
                       num_joints: Optional[int] = None, check_finite: bool = True) -> None:
    """Check that a loaded motion array has the expected shape and only finite values.

    Args:
        array: ``(T, D)`` features or ``(T, J, 3)`` joints.
        path: File the array came from (used in the error messages).
        kind: ``'features'`` or ``'joints'``.
        feature_dim: Expected ``D`` for features (``None`` = any).
        num_joints: Expected ``J`` for joints (``None`` = any).
        check_finite: Also reject NaN / inf values (reads the whole array).

    Raises:
        ValueError: wrong number of dimensions, wrong width, or NaN / inf values; the message names
            ``path``, the shape found and the first bad frame.
    """
    if kind == 'features':
        if array.ndim != 2:
            raise ValueError(f'{path}: motion features must be a (T, D) array, '
                             f'got shape {array.shape}')
        if feature_dim is not None and array.shape[1] != feature_dim:
            raise ValueError(f'{path}: expected {feature_dim}-D motion features, got shape '
                             f'{array.shape} (feature width {array.shape[1]}); is this the '
                             'right dataset / representation?')
    elif kind == 'joints':
        if array.ndim != 3 or array.shape[2] != 3:
            raise ValueError(f'{path}: joint positions must be a (T, J, 3) array, '
                             f'got shape {array.shape}')
        if num_joints is not None and array.shape[1] != num_joints:
            raise ValueError(f'{path}: expected {num_joints} joints, got shape {array.shape}')
    else:
        raise ValueError(f"kind must be 'features' or 'joints', got {kind!r}")
    if not np.issubdtype(array.dtype, np.floating):
        raise ValueError(f'{path}: expected a floating-point array, got dtype {array.dtype}')
    if not check_finite:
        return
    finite = np.isfinite(array)
    if not finite.all():
        bad_frames = np.nonzero(~finite.reshape(len(array), -1).all(axis=1))[0]
        num_nan = int(np.isnan(array).sum())
        num_inf = int(np.isinf(array).sum())
        raise ValueError(f'{path}: {kind} contain {num_nan} NaN and {num_inf} inf values '
                         f'(first bad frame {int(bad_frames[0])} of {len(array)})')


def load_motion_file(path: str, kind: str, owner: str, feature_dim=None, num_joints=None,
                     check_finite: bool = True) -> np.ndarray:
    """Load and check a ``(T, D)`` feature or ``(T, J, 3)`` joint ``.npy`` file as float32; errors name
    ``owner`` (the transform) and the file."""
    try:
        array = np.load(path)
    except FileNotFoundError:
        raise FileNotFoundError(f'{owner}: {kind} file not found: {path}') from None
    except ValueError as err:  # pickled / corrupt files
        raise ValueError(f'{owner}: cannot read {path}: {err}') from err
    if kind == 'features':
        check_motion_array(array, path, kind=kind, feature_dim=feature_dim, check_finite=check_finite)
    else:
        check_motion_array(array, path, kind=kind, num_joints=num_joints, check_finite=check_finite)
    return array.astype(np.float32, copy=False)


@TRANSFORMS.register_module()
class LoadMotion(BaseTransform):
    """Load motion features and/or joint positions from ``.npy`` files.

    Required keys: ``motion_path`` (when ``with_motion``), ``joints_path`` (when ``with_joints``).
    Optional keys: ``start_frame``, ``end_frame`` (frame window, end exclusive),
    ``feature_dim``, ``num_joints``, ``min_motion_length`` (used when the matching argument is
    None).

    Added keys: ``motion`` ``(T, D)`` float32, ``joints`` ``(T, J, 3)`` float32, ``length`` (T),
    ``ori_length`` (frames in the file).

    Args:
        with_motion: Load the features file ``motion_path``.
        with_joints: Load the joints file ``joints_path``.
        feature_dim: Expected feature width; ``None`` takes ``results['feature_dim']`` if present.
        num_joints: Expected joint count; ``None`` takes ``results['num_joints']`` if present.
        min_length: Minimum number of frames after the window is cut; ``None`` takes
            ``results['min_motion_length']`` if present, else 1.
        check_finite: Reject arrays with NaN / inf values.
    """

    def __init__(self, with_motion: bool = True, with_joints: bool = False,
                 feature_dim: Optional[int] = None, num_joints: Optional[int] = None,
                 min_length: Optional[int] = None, check_finite: bool = True) -> None:
        if not (with_motion or with_joints):
            raise ValueError('LoadMotion needs with_motion=True or with_joints=True')
        self.with_motion = with_motion
        self.with_joints = with_joints
        self.feature_dim = feature_dim
        self.num_joints = num_joints
        self.min_length = min_length
        self.check_finite = check_finite

    def _load(self, results: dict, key: str, kind: str) -> np.ndarray:
        path = results.get(key)
        if path is None:
            hint = (' (build the dataset with with_joints=True)' if key == 'joints_path' else '')
            raise KeyError(f'LoadMotion: results of sample {results.get("sample_id", "?")!r} '
                           f'have no {key!r}{hint}')
        return load_motion_file(
            path, kind, 'LoadMotion',
            feature_dim=self.feature_dim if self.feature_dim is not None else results.get('feature_dim'),
            num_joints=self.num_joints if self.num_joints is not None else results.get('num_joints'),
            check_finite=self.check_finite)

    def transform(self, results: dict) -> dict:
        arrays = {}
        if self.with_motion:
            arrays['motion'] = self._load(results, 'motion_path', 'features')
        if self.with_joints:
            arrays['joints'] = self._load(results, 'joints_path', 'joints')
        lengths = {k: len(v) for k, v in arrays.items()}
        if len(set(lengths.values())) > 1:
            raise ValueError(f'LoadMotion: {results["motion_path"]} has {lengths["motion"]} frames '
                             f'but {results["joints_path"]} has {lengths["joints"]}')
        ori_length = next(iter(lengths.values()))
        start = int(results.get('start_frame') or 0)
        end = results.get('end_frame')
        end = ori_length if end is None else min(int(end), ori_length)
        if start < 0 or start >= ori_length:
            raise ValueError(f'LoadMotion: start_frame {start} is outside '
                             f'{next(iter(arrays.values())).shape} loaded from '
                             f'{results.get("motion_path") or results.get("joints_path")}')
        for key, array in arrays.items():
            results[key] = array[start:end]
        length = end - start
        min_length = self.min_length
        if min_length is None:
            min_length = results.get('min_motion_length') or 1
        if length < min_length:
            src = results.get('motion_path') or results.get('joints_path')
            raise ValueError(f'LoadMotion: {src} gives {length} frames (window {start}:{end} of '
                             f'{ori_length}), fewer than the minimum {min_length}')
        results['length'] = length
        results['ori_length'] = ori_length
        return results

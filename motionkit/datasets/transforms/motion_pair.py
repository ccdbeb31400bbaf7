"""Transforms for (source motion, target motion) pairs with a text response (CigTime triplets).

``LoadMotionPair`` reads both motions of a :class:`CigTimeTripletDataset` item;
``PackMotionPairInputs`` packs them as ``inputs=dict(source=(T, 263), target=(T', 263))`` (raw
features; ``MotionPairDataPreprocessor`` normalises) and a ``MotionDataSample`` with the
instruction and the triplet's labels.
"""
from __future__ import annotations

from typing import Optional, Sequence

import numpy as np
import torch

from motionkit.registry import TRANSFORMS
from motionkit.structures import MotionDataSample
from .base import BaseTransform
from .formatting import to_float_tensor
from .loading import load_motion_file

__all__ = ['LoadMotionPair', 'PackMotionPairInputs']


@TRANSFORMS.register_module()
class LoadMotionPair(BaseTransform):
    """Load the source and target motions of a triplet.

    Required keys: ``source_motion_path``, ``motion_path`` (target features), and with
    ``with_joints`` ``source_joints_path`` / ``joints_path``.

    Added keys: ``source_motion`` ``(T_s, D)``, ``target_motion`` ``(T_t, D)`` float32 raw
    features, ``source_joints`` ``(T_s + 1, J, 3)`` / ``target_joints`` ``(T_t + 1, J, 3)`` with
    ``with_joints`` (HumanML3D features have one frame fewer than the joints they encode),
    ``source_length`` / ``target_length`` (feature frames after truncation) and ``length``
    (= ``target_length``).

    Args:
        with_joints: Also load the joint positions (e.g. for reconstruction metrics).
        max_length: Keep at most this many feature frames of each motion (the first ones; joints
            keep ``max_length + 1``); ``None`` keeps everything.
        feature_dim, num_joints: Expected widths; ``None`` takes ``results['feature_dim']`` /
            ``results['num_joints']`` when present.
        check_finite: Reject arrays with NaN / inf values.
    """

    def __init__(self, with_joints: bool = False, max_length: Optional[int] = 196,
                 feature_dim: Optional[int] = None, num_joints: Optional[int] = None,
                 check_finite: bool = True) -> None:
        if max_length is not None and max_length < 1:
            raise ValueError(f'LoadMotionPair: max_length must be >= 1 or None, got {max_length}')
        self.with_joints = with_joints
        self.max_length = max_length
        self.feature_dim = feature_dim
        self.num_joints = num_joints
        self.check_finite = check_finite

    def _load(self, results: dict, key: str, kind: str) -> np.ndarray:
        path = results.get(key)
        if path is None:
            raise KeyError(f'LoadMotionPair: results of sample {results.get("sample_id", "?")!r} '
                           f'have no {key!r} (is the dataset a CigTimeTripletDataset?)')
        return load_motion_file(
            path, kind, 'LoadMotionPair',
            feature_dim=self.feature_dim if self.feature_dim is not None else results.get('feature_dim'),
            num_joints=self.num_joints if self.num_joints is not None else results.get('num_joints'),
            check_finite=self.check_finite)

    def transform(self, results: dict) -> dict:
        for side, feat_key, joint_key in (('source', 'source_motion_path', 'source_joints_path'),
                                          ('target', 'motion_path', 'joints_path')):
            motion = self._load(results, feat_key, 'features')
            if self.max_length is not None:
                motion = motion[:self.max_length]
            results[f'{side}_motion'] = motion
            results[f'{side}_length'] = int(len(motion))
            if self.with_joints:
                joints = self._load(results, joint_key, 'joints')
                if len(joints) < len(motion) + 1:
                    raise ValueError(f'LoadMotionPair: {results[joint_key]} has {len(joints)} '
                                     f'frames, fewer than the {len(motion)} feature frames of '
                                     f'{results[feat_key]} + 1')
                results[f'{side}_joints'] = joints[:len(motion) + 1]
        results['length'] = results['target_length']
        return results


def _to_tensor(value, key: str) -> torch.Tensor:
    return to_float_tensor(value, key, 'PackMotionPairInputs')


@TRANSFORMS.register_module()
class PackMotionPairInputs(BaseTransform):
    """Pack a loaded pair: ``dict(inputs=dict(source=(T_s, D), target=(T_t, D)), data_samples)``.

    Data-sample fields: ``gt_instruction`` (str, from ``results[response_key]``; a list gives a
    random element in training and the first one with ``test_mode``), ``gt_instructions`` (every
    paraphrase), ``body_part``, ``edited_joints``, ``triplet_id``, ``source_id``, ``edit``,
    ``gt_source_captions`` / ``gt_target_captions`` (when present) and ``gt_source_joints`` /
    ``gt_target_joints`` (tensors, when ``LoadMotionPair(with_joints=True)`` loaded them).
    Metainfo: the ``meta_keys`` present in ``results`` (not the keys above, which are data
    fields; mmengine forbids a name in both).

    Args:
        response_key: Results key of the text the model learns to produce: ``'instruction'``
            (the one the triplet was built with), ``'instructions'`` (a random paraphrase) or
            ``'target_captions'`` (caption-of-target baseline).
        test_mode: Take the first element of a list response instead of a random one.
        meta_keys: Results keys copied as metainfo.
    """

    DEFAULT_META_KEYS = ('sample_id', 'sample_idx', 'motion_id', 'data_root', 'motion_path',
                         'source_motion_path', 'joints_path', 'source_joints_path', 'mean_path',
                         'std_path', 'length', 'source_length', 'target_length', 'editor', 'split',
                         'fps', 'dataset_name', 'representation', 'skeleton')

    def __init__(self, response_key: str = 'instruction', test_mode: bool = False,
                 meta_keys: Optional[Sequence[str]] = None) -> None:
        self.response_key = response_key
        self.test_mode = test_mode
        self.meta_keys = tuple(self.DEFAULT_META_KEYS if meta_keys is None else meta_keys)

    def _response(self, results: dict) -> str:
        if self.response_key not in results:
            raise KeyError(f'PackMotionPairInputs: response key {self.response_key!r} not in the '
                           f'results of sample {results.get("sample_id", "?")!r} '
                           f'(keys: {sorted(results)})')
        value = results[self.response_key]
        if isinstance(value, (list, tuple)):
            if not value:
                raise ValueError(f'PackMotionPairInputs: {self.response_key!r} of sample '
                                 f'{results.get("sample_id", "?")!r} is an empty list')
            value = value[0] if self.test_mode else value[int(np.random.randint(len(value)))]
        if not isinstance(value, str):
            raise TypeError(f'PackMotionPairInputs: {self.response_key!r} must be a str or a list '
                            f'of str, got {type(value).__name__}')
        return value

    def transform(self, results: dict) -> dict:
        for key in ('source_motion', 'target_motion'):
            if key not in results:
                raise KeyError(f'PackMotionPairInputs: {key!r} not in the results of sample '
                               f'{results.get("sample_id", "?")!r}; put LoadMotionPair before it')
        inputs = dict(source=_to_tensor(results['source_motion'], 'source_motion'),
                      target=_to_tensor(results['target_motion'], 'target_motion'))
        sample = MotionDataSample()
        sample.gt_instruction = self._response(results)
        instructions = results.get('instructions')
        if instructions is None:
            instructions = [results['instruction']] if 'instruction' in results else []
        sample.gt_instructions = list(instructions)
        for key in ('body_part', 'triplet_id', 'source_id', 'edit'):
            if key in results:
                sample.set_field(results[key], key)
        if 'edited_joints' in results:
            sample.edited_joints = list(results['edited_joints'])
        for key in ('source_captions', 'target_captions'):
            if key in results:
                sample.set_field(list(results[key]), f'gt_{key}')
        for key in ('source_joints', 'target_joints'):
            if key in results:
                sample.set_field(_to_tensor(results[key], key), f'gt_{key}')
        data_fields = set(sample.keys())
        meta = {k: results[k] for k in self.meta_keys if k in results and k not in data_fields}
        sample.set_metainfo(meta)
        return dict(inputs=inputs, data_samples=sample)

    def __repr__(self) -> str:
        return (f'{type(self).__name__}(response_key={self.response_key!r}, '
                f'test_mode={self.test_mode}, meta_keys={self.meta_keys})')

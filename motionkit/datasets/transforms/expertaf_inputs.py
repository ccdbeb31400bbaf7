"""``PackExpertAFInputs``: an :class:`~motionkit.datasets.ExpertAFPairDataset` item -> the input
contract of ExpertAF's models (:class:`~motionkit.models.llm_heads.ExpertFeedbackModel`,
:class:`~motionkit.models.llm_heads.VideoNNFeedbackBaseline`).

ExpertAF (Ashutosh et al., CVPR 2025, sec. 3.3) gives its language model the learner's video
features and ``F = 10`` poses of the clip, picked evenly over the window
(``round(linspace(0, W - 1, F))``, as :func:`~.video.uniform_frame_indices` ``mode='linspace'``).
The poses are passed on as float joints ``(F, 17, 3)``: turning them into PCT codes needs the
trained PoseTokenizer, which is a model (datasets never import models), so the model encodes
them with its own frozen tokenizer.
"""
from __future__ import annotations

from typing import Sequence

import numpy as np
import torch
from mmengine.structures import BaseDataElement

from motionkit.registry import TRANSFORMS
from .base import BaseTransform
from .video import uniform_frame_indices

__all__ = ['PackExpertAFInputs']


@TRANSFORMS.register_module()
class PackExpertAFInputs(BaseTransform):
    """Pack a learner/expert pair for ExpertAF's models.

    Required keys: ``learner_pose`` / ``expert_pose`` ``(W, 17, 3)`` pose windows,
    ``learner_video_features`` / ``expert_video_features`` ``(T_v, D_v)`` (from
    ``LoadCachedVideoFeatures(views=('learner', 'expert'))``; only with ``use_video``),
    ``commentary``, ``pair_id``.

    Output: ``dict(inputs=dict(learner_video, expert_video (T_v, D_v) float32, learner_pose,
    expert_pose (F, 17, 3) float32 joints), data_samples=BaseDataElement(gt_text, sample_id,
    gt_expert_joints (F, 17, 3), learner_joints (F, 17, 3), activity))``. ``gt_expert_joints`` and
    ``learner_joints`` are root-relative (the mean of ``root_joints`` subtracted), the frame of
    the PoseTokenizer's decoded poses; ``learner_joints`` scored against ``gt_expert_joints`` is
    the "no correction" reference of the pose-generation metric.

    Args:
        num_pose_frames: ``F`` poses per clip (ExpertAF: 10).
        root_joints: joints whose mean is the root (COCO-17 hips).
        use_video: pack the video features (``False``: the keys are not required).
    """

    def __init__(self, num_pose_frames: int = 10, root_joints: Sequence[int] = (11, 12),
                 use_video: bool = True) -> None:
        if int(num_pose_frames) < 1:
            raise ValueError(f'PackExpertAFInputs: num_pose_frames must be >= 1, got {num_pose_frames}')
        self.num_pose_frames = int(num_pose_frames)
        self.root_joints = [int(j) for j in root_joints]
        self.use_video = bool(use_video)

    def _poses(self, results: dict, side: str) -> np.ndarray:
        key = f'{side}_pose'
        if key not in results:
            raise KeyError(f'PackExpertAFInputs: results has no {key!r} (keys: {sorted(results)})')
        pose = np.asarray(results[key], dtype=np.float32)
        if pose.ndim != 3 or pose.shape[1:] != (17, 3):
            raise ValueError(f'PackExpertAFInputs: {key} of {results.get("pair_id")!r} must be (W, 17, 3), '
                             f'got {pose.shape}')
        if len(pose) < self.num_pose_frames:
            raise ValueError(f'PackExpertAFInputs: {key} of {results.get("pair_id")!r} has {len(pose)} poses, '
                             f'fewer than num_pose_frames={self.num_pose_frames}')
        if not np.isfinite(pose).all():
            raise ValueError(f'PackExpertAFInputs: {key} of {results.get("pair_id")!r} has NaN or inf')
        return pose[uniform_frame_indices(len(pose), self.num_pose_frames, mode='linspace')]

    def _video(self, results: dict, side: str) -> torch.Tensor:
        key = f'{side}_video_features'
        if key not in results:
            raise KeyError(f'PackExpertAFInputs: results has no {key!r}; add '
                           "LoadCachedVideoFeatures(views=('learner', 'expert')) before it")
        feats = torch.as_tensor(np.asarray(results[key], dtype=np.float32))
        if feats.ndim != 2:
            raise ValueError(f'PackExpertAFInputs: {key} must be (T, D), got {tuple(feats.shape)}')
        return feats

    def _root_relative(self, pose: np.ndarray) -> torch.Tensor:
        return torch.from_numpy(pose - pose[:, self.root_joints].mean(1, keepdims=True))

    def transform(self, results: dict) -> dict:
        for key in ('commentary', 'pair_id'):
            if key not in results:
                raise KeyError(f'PackExpertAFInputs: results has no {key!r} (keys: {sorted(results)})')
        learner, expert = self._poses(results, 'learner'), self._poses(results, 'expert')
        inputs = dict(learner_pose=torch.from_numpy(learner), expert_pose=torch.from_numpy(expert))
        if self.use_video:
            inputs.update(learner_video=self._video(results, 'learner'), expert_video=self._video(results, 'expert'))
        sample = BaseDataElement(gt_text=str(results['commentary']), sample_id=str(results['pair_id']),
                                 gt_expert_joints=self._root_relative(expert),
                                 learner_joints=self._root_relative(learner),
                                 activity=str(results.get('activity', '')))
        return dict(inputs=inputs, data_samples=sample)

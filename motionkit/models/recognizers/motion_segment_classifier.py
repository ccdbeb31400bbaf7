"""``MotionSegmentClassifier``: a small temporal-convolution classifier of short motion windows
(one primitive action per window), the learned part of the event detector that scores generated
motions offline (AToM's oracle reward, see :class:`motionkit.feedback.RecognizerEventDetector`).

Input features are invariant to the heading and to the position on the floor: every frame is
expressed in its own body frame (pelvis over the origin, the hips' left-right axis along +X), and
the root's motion enters as the planar velocity in that frame, the height and the yaw rate.
"""
from __future__ import annotations

from typing import Optional, Sequence

import torch
import torch.nn.functional as F
from mmengine.model import BaseModel
from torch import nn

from motionkit.motion.skeletons import get_skeleton
from motionkit.registry import MODELS

__all__ = ['MotionSegmentClassifier', 'body_frame_features']

SEGMENT_ARCHS = {
    # channels, convolution layers (kernel 5, dilations 1, 2, 4, ...)
    'tiny': dict(channels=64, num_layers=3),
    'base': dict(channels=128, num_layers=4),
}


def body_frame_features(joints: torch.Tensor, pelvis: int = 0, left_hip: int = 1,
                        right_hip: int = 2) -> torch.Tensor:
    """``(B, T, J, 3)`` joints (Y up) -> ``(B, T, 6 J + 4)`` heading-invariant frame features.

    Per frame ``t``, with ``R_t`` the yaw rotation that turns the hips' right-to-left vector onto
    +X and ``p_t`` the pelvis on the floor plane:

    * ``R_t (j_t - p_t)``: the pose in the body frame (heights kept), ``3 J``;
    * ``R_t (j_t - j_{t-1})``: joint velocities in the body frame, ``3 J``;
    * the pelvis' planar velocity in the body frame (2), its height (1), the yaw rate (1, radians
      per frame, wrapped to ``(-pi, pi]``).

    Velocities are backward differences (frame 0 repeats frame 1's; zeros when ``T == 1``), so a
    frame's features never depend on later frames and padding after a motion changes nothing.
    """
    if joints.ndim != 4 or joints.shape[-1] != 3:
        raise ValueError(f'body_frame_features: expected joints (B, T, J, 3), got '
                         f'{tuple(joints.shape)}')
    across = joints[:, :, left_hip] - joints[:, :, right_hip]  # (B, T, 3)
    yaw = torch.atan2(across[..., 2], across[..., 0])  # angle of the hip axis from +X about -Y
    c, s = torch.cos(yaw), torch.sin(yaw)

    def rotate(v: torch.Tensor) -> torch.Tensor:  # v (B, T, ..., 3): turn the hip axis onto +X
        cc = c.reshape(c.shape + (1, ) * (v.ndim - 3))
        ss = s.reshape(s.shape + (1, ) * (v.ndim - 3))
        x = cc * v[..., 0] + ss * v[..., 2]
        z = -ss * v[..., 0] + cc * v[..., 2]
        return torch.stack([x, v[..., 1], z], -1)

    root = joints[:, :, pelvis].clone()
    root[..., 1] = 0.0
    pose = rotate(joints - root[:, :, None])
    if joints.shape[1] > 1:
        dj = joints[:, 1:] - joints[:, :-1]
        dj = torch.cat([dj[:, :1], dj], 1)
        dyaw = yaw[:, 1:] - yaw[:, :-1]
        dyaw = torch.remainder(dyaw + torch.pi, 2 * torch.pi) - torch.pi
        dyaw = torch.cat([dyaw[:, :1], dyaw], 1)
    else:
        dj = torch.zeros_like(joints)
        dyaw = torch.zeros_like(yaw)
    vel = rotate(dj)
    root_vel = vel[:, :, pelvis]
    B, T = joints.shape[:2]
    return torch.cat([pose.reshape(B, T, -1), vel.reshape(B, T, -1), root_vel[..., [0, 2]],
                      joints[:, :, pelvis, 1:2], -dyaw[..., None]], -1)


@MODELS.register_module()
class MotionSegmentClassifier(BaseModel):
    """Windows of joints -> one class each (e.g. SynthMotion's 30 primitives).

    :func:`body_frame_features` -> batch norm -> ``num_layers`` residual blocks of a dilated 1-D
    convolution (kernel 5, dilation ``2^k``), batch norm and GELU -> mean and max over the valid
    frames -> dropout -> linear layer.

    ``forward(inputs, data_samples, mode)`` with ``inputs`` from :class:`MotionDataPreprocessor`
    (``motion`` = joints ``(B, T, J, 3)``, ``lengths``), targets from ``gt_label``:

    * ``loss``: ``loss_cls`` (cross-entropy, optional label smoothing);
    * ``predict``: data samples with ``pred_score`` (softmax) and ``pred_label``;
    * ``tensor``: ``(B, num_classes)`` logits.

    Args:
        num_classes: Classes.
        classes: Optional class names (kept in :attr:`classes` for detectors that map indices to
            names; checked against ``num_classes``).
        arch: Size preset (``'tiny'``, ``'base'``) or ``dict(channels=, num_layers=)``.
        skeleton: Skeleton of the input joints (names ``pelvis``, ``left_hip``, ``right_hip``).
        dropout: Dropout before the classifier.
        label_smoothing: Cross-entropy label smoothing.
    """

    def __init__(self,
                 num_classes: int = 30,
                 classes: Optional[Sequence[str]] = None,
                 arch='tiny',
                 skeleton: str = 't2m22',
                 dropout: float = 0.1,
                 label_smoothing: float = 0.0,
                 data_preprocessor: Optional[dict] = None,
                 init_cfg: Optional[dict] = None) -> None:
        if data_preprocessor is None:
            data_preprocessor = dict(type='MotionDataPreprocessor')
        if isinstance(data_preprocessor, dict):
            data_preprocessor = MODELS.build(data_preprocessor)
        super().__init__(data_preprocessor=data_preprocessor, init_cfg=init_cfg)
        if isinstance(arch, str):
            if arch not in SEGMENT_ARCHS:
                raise KeyError(f'MotionSegmentClassifier: unknown arch {arch!r}; known: '
                               f'{sorted(SEGMENT_ARCHS)}')
            arch = SEGMENT_ARCHS[arch]
        channels, num_layers = int(arch['channels']), int(arch['num_layers'])
        if num_classes < 2 or channels < 1 or num_layers < 1:
            raise ValueError(f'MotionSegmentClassifier: need num_classes >= 2, channels >= 1, '
                             f'num_layers >= 1; got {num_classes}, {channels}, {num_layers}')
        if classes is not None:
            classes = [str(c) for c in classes]
            if len(classes) != num_classes:
                raise ValueError(f'MotionSegmentClassifier: {len(classes)} class names for '
                                 f'num_classes={num_classes}')
        self.classes = classes
        self.num_classes = num_classes
        sk = get_skeleton(skeleton)
        self.num_joints = sk.num_joints
        self._idx = (sk.index('pelvis'), sk.index('left_hip'), sk.index('right_hip'))
        in_dims = 6 * sk.num_joints + 4
        self.input_norm = nn.BatchNorm1d(in_dims)
        self.stem = nn.Conv1d(in_dims, channels, 1)
        self.blocks = nn.ModuleList()
        for k in range(num_layers):
            d = 2 ** k
            self.blocks.append(nn.Sequential(
                nn.Conv1d(channels, channels, 5, padding=2 * d, dilation=d),
                nn.BatchNorm1d(channels), nn.GELU()))
        self.dropout = nn.Dropout(dropout) if dropout > 0 else nn.Identity()
        self.fc = nn.Linear(2 * channels, num_classes)
        self.label_smoothing = float(label_smoothing)

    def logits(self, joints: torch.Tensor, lengths: Optional[torch.Tensor] = None) -> torch.Tensor:
        """``(B, T, J, 3)`` joints (+ ``(B,)`` valid frames) -> ``(B, num_classes)`` logits."""
        if joints.ndim != 4 or joints.shape[2:] != (self.num_joints, 3):
            raise ValueError(f'MotionSegmentClassifier: expected joints (B, T, {self.num_joints}, '
                             f'3), got {tuple(joints.shape)}')
        if not torch.isfinite(joints).all():
            raise ValueError('MotionSegmentClassifier: joints hold NaN or inf')
        B, T = joints.shape[:2]
        x = body_frame_features(joints.float(), *self._idx).transpose(1, 2)  # (B, D, T)
        mask = torch.ones(B, T, dtype=torch.bool, device=joints.device)
        if lengths is not None:
            mask = torch.arange(T, device=joints.device)[None] < lengths.to(joints.device)[:, None]
        m = mask[:, None].float()
        x = self.stem(self.input_norm(x) * m) * m  # padded frames stay 0, as a conv's own padding
        for block in self.blocks:
            x = (x + block(x)) * m
        mean = x.sum(-1) / m.sum(-1).clamp(min=1)
        mx = x.masked_fill(~mask[:, None], float('-inf')).amax(-1)
        return self.fc(self.dropout(torch.cat([mean, mx], -1)))

    def forward(self, inputs: dict, data_samples=None, mode: str = 'tensor'):
        if not isinstance(inputs, dict) or 'motion' not in inputs:
            raise TypeError('MotionSegmentClassifier: inputs must be dict(motion=(B, T, J, 3), '
                            'lengths=(B,)) from MotionDataPreprocessor')
        logits = self.logits(inputs['motion'], inputs.get('lengths'))
        if mode == 'tensor':
            return logits
        if data_samples is None:
            raise ValueError(f'MotionSegmentClassifier: mode={mode!r} needs data samples')
        if mode == 'loss':
            targets = []
            for i, sample in enumerate(data_samples):
                label = sample.get('gt_label')
                if label is None or label.numel() != 1:
                    sid = sample.metainfo.get('sample_id', i)
                    raise KeyError(f'MotionSegmentClassifier: data sample {sid!r} has no single '
                                   'gt_label')
                targets.append(int(label.flatten()[0]))
            target = torch.tensor(targets, device=logits.device)
            if (target < 0).any() or (target >= self.num_classes).any():
                raise ValueError(f'MotionSegmentClassifier: labels {targets} outside '
                                 f'[0, {self.num_classes})')
            return dict(loss_cls=F.cross_entropy(logits, target,
                                                 label_smoothing=self.label_smoothing))
        if mode == 'predict':
            scores = logits.softmax(-1).detach()
            for sample, s in zip(data_samples, scores):
                sample.pred_score = s
                sample.pred_label = int(s.argmax())
            return data_samples
        raise ValueError(f"mode must be 'loss', 'predict' or 'tensor', got {mode!r}")

"""``SupervisedActionRecognizer``: the MAR motion encoder with a linear classifier head.

mmaction2's ``RecognizerGCN`` pattern (backbone -> pooled features -> ``GCNHead``) over
:class:`MultiStreamMotionEncoder`. Two uses:

* the supervised baseline: encoder and head trained together with cross-entropy (single label) or
  binary cross-entropy (multi-label);
* the linear probe of CoAMD sec. 4.2: a trained MAR's encoder, frozen (``freeze_encoder=True``,
  weights through ``encoder=dict(init_cfg=dict(type='Pretrained', checkpoint=..., prefix='encoder.'))``),
  and only the linear head trained.
"""
from __future__ import annotations

from typing import Optional, Sequence

import torch
import torch.nn.functional as F
from mmengine.model import BaseModel

from motionkit.registry import MODELS
from .multi_stream_motion_encoder import MAR_STREAMS, MultiStreamMotionEncoder

__all__ = ['SupervisedActionRecognizer']

_FEATURES = ('pooled', 'fused')


@MODELS.register_module()
class SupervisedActionRecognizer(BaseModel):
    """Multi-stream encoder + :class:`LinearClassifierHead`.

    ``forward(inputs, data_samples, mode)`` with ``inputs`` from :class:`MotionDataPreprocessor`
    (absolute joints ``(B, T, J, 3)`` and ``lengths``); targets from ``gt_label`` (single) or
    ``gt_labels`` (multi-label).

    * ``loss``: ``loss_cls``;
    * ``predict``: data samples with ``pred_score`` (softmax for ``'ce'``, sigmoid for ``'bce'``)
      and ``pred_label`` (arg max);
    * ``tensor``: ``(B, num_classes)`` logits.

    Args:
        num_classes: Classes.
        arch, streams, skeleton, encoder: As :class:`MultimodalActionRecognizer` (so a MAR
            checkpoint's ``encoder.*`` weights fit).
        out_dims: Embedding size of the encoder (the MAR's text dimension, 384 MiniLM / 512 CLIP).
        features: ``'pooled'`` (the concatenated pooled stream features, ``S * embed_dims``) or
            ``'fused'`` (the unit-norm embedding ``e_f``).
        head: Extra :class:`LinearClassifierHead` arguments (``dropout``, ...).
        loss: ``'ce'`` (softmax cross-entropy) or ``'bce'`` (multi-label, sigmoid).
        freeze_encoder: Train the head only (linear probe); the encoder stays in eval mode.
    """

    def __init__(self,
                 num_classes: int = 60,
                 arch: str = 'paper',
                 streams: Sequence[str] = MAR_STREAMS,
                 skeleton: str = 't2m22',
                 encoder: Optional[dict] = None,
                 out_dims: int = 384,
                 features: str = 'pooled',
                 head: Optional[dict] = None,
                 loss: str = 'ce',
                 freeze_encoder: bool = False,
                 data_preprocessor: Optional[dict] = None,
                 init_cfg: Optional[dict] = None) -> None:
        if data_preprocessor is None:
            data_preprocessor = dict(type='MotionDataPreprocessor')
        if isinstance(data_preprocessor, dict):  # motionkit's registry: works outside its scope
            data_preprocessor = MODELS.build(data_preprocessor)
        super().__init__(data_preprocessor=data_preprocessor, init_cfg=init_cfg)
        if features not in _FEATURES:
            raise ValueError(f'features must be one of {_FEATURES}, got {features!r}')
        if loss not in ('ce', 'bce'):
            raise ValueError(f"loss must be 'ce' or 'bce', got {loss!r}")
        self.encoder = MultiStreamMotionEncoder(out_dims=out_dims, streams=streams,
                                                skeleton=skeleton, arch=arch, **(encoder or {}))
        in_dims = self.encoder.pooled_dims if features == 'pooled' else out_dims
        head_cfg = dict(type='LinearClassifierHead', num_classes=num_classes, in_dims=in_dims)
        head_cfg.update(head or {})
        self.head = MODELS.build(head_cfg)
        self.num_classes = num_classes
        self.features = features
        self.loss_type = loss
        self.freeze_encoder = freeze_encoder
        if freeze_encoder:
            self.encoder.requires_grad_(False)
            self.encoder.eval()

    def train(self, mode: bool = True):
        super().train(mode)
        if self.freeze_encoder:
            self.encoder.eval()  # a probe keeps the encoder's statistics and dropout fixed
        return self

    def extract_features(self, joints: torch.Tensor,
                         lengths: Optional[torch.Tensor] = None) -> torch.Tensor:
        """``(B, T, J, 3)`` joints -> ``(B, in_dims)`` features the head reads."""
        with torch.set_grad_enabled(torch.is_grad_enabled() and not self.freeze_encoder):
            out = self.encoder(joints, lengths)
        return out['pooled'] if self.features == 'pooled' else out['embeddings']['fused']

    def _targets(self, data_samples, device) -> torch.Tensor:
        out = []
        for i, sample in enumerate(data_samples):
            single = sample.get('gt_label')
            multi = sample.get('gt_labels')
            labels = multi if multi is not None else single
            if labels is None or labels.numel() == 0:
                sid = sample.metainfo.get('sample_id', i)
                raise KeyError(f'SupervisedActionRecognizer: data sample {sid!r} has no gt_label / '
                               'gt_labels')
            labels = labels.flatten().long()
            if (labels < 0).any() or (labels >= self.num_classes).any():
                raise ValueError(f'SupervisedActionRecognizer: labels {labels.tolist()} outside '
                                 f'[0, {self.num_classes})')
            if self.loss_type == 'ce':
                if labels.numel() != 1:
                    raise ValueError(f'SupervisedActionRecognizer: loss="ce" needs one label per '
                                     f'sample, got {labels.tolist()}; use loss="bce"')
                out.append(labels[0])
            else:
                out.append(torch.zeros(self.num_classes).index_fill_(0, labels, 1.0))
        return torch.stack(out).to(device)

    def forward(self, inputs: dict, data_samples=None, mode: str = 'tensor'):
        if not isinstance(inputs, dict) or 'motion' not in inputs:
            raise TypeError('SupervisedActionRecognizer: inputs must be dict(motion=(B, T, J, 3), '
                            'lengths=(B,)) from MotionDataPreprocessor')
        logits = self.head(self.extract_features(inputs['motion'], inputs.get('lengths')))
        if mode == 'tensor':
            return logits
        if data_samples is None:
            raise ValueError(f'SupervisedActionRecognizer: mode={mode!r} needs data samples')
        if mode == 'loss':
            target = self._targets(data_samples, logits.device)
            if self.loss_type == 'ce':
                return dict(loss_cls=F.cross_entropy(logits, target))
            return dict(loss_cls=F.binary_cross_entropy_with_logits(logits, target))
        if mode == 'predict':
            scores = logits.softmax(-1) if self.loss_type == 'ce' else logits.sigmoid()
            for sample, s in zip(data_samples, scores.detach()):
                sample.pred_score = s
                sample.pred_label = int(s.argmax())
            return data_samples
        raise ValueError(f"mode must be 'loss', 'predict' or 'tensor', got {mode!r}")

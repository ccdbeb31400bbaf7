"""``ContrastiveVideoNNBaseline``: ExpertAF's video nearest-neighbour baseline after contrastive
fine-tuning of the video features."""
from __future__ import annotations

from typing import Optional

import torch
import torch.nn.functional as F

from motionkit.registry import MODELS
from .video_nn_feedback_baseline import VideoNNFeedbackBaseline

__all__ = ['ContrastiveVideoNNBaseline']


@MODELS.register_module()
class ContrastiveVideoNNBaseline(VideoNNFeedbackBaseline):
    """:class:`VideoNNFeedbackBaseline` in a learnt embedding of the frozen features (ExpertAF
    table 1's contrastively fine-tuned video baseline, here over the cached features).

    A projector (``mlp2x_gelu`` by default, :class:`VisualMapper`) maps the mean-pooled features;
    it is trained with a symmetric InfoNCE loss (temperature ``tau``) that pulls a learner's
    video towards its paired expert's video and away from the other experts of the batch
    (``loss_nce``). Commentary, pose and retrieval then work as in the parent class, with cosine
    similarities in the projected space.

    Args:
        video_dim: width ``D`` of the cached features.
        embed_dim: width of the learnt embedding.
        projector: :class:`VisualMapper` projector type.
        tau: InfoNCE temperature.
        (others: see :class:`VideoNNFeedbackBaseline`)
    """

    def __init__(self, video_dim: int, embed_dim: int = 128, projector: str = 'mlp2x_gelu', tau: float = 0.07,
                 pose_tokenizer: Optional[dict] = None, pose_tokenizer_checkpoint: Optional[str] = None,
                 video_key: str = 'learner_video', data_preprocessor: Optional[dict] = None,
                 init_cfg: Optional[dict] = None) -> None:
        super().__init__(pose_tokenizer=pose_tokenizer, pose_tokenizer_checkpoint=pose_tokenizer_checkpoint,
                         video_key=video_key, data_preprocessor=data_preprocessor, init_cfg=init_cfg)
        if not tau > 0:
            raise ValueError(f'ContrastiveVideoNNBaseline: tau must be > 0, got {tau}')
        self.tau = float(tau)
        self.projector = MODELS.build(dict(type='VisualMapper', in_dim=int(video_dim), out_dim=int(embed_dim),
                                           projector=projector))

    def _pooled(self, features, where: str) -> torch.Tensor:
        pooled = VideoNNFeedbackBaseline._pooled(features, where)
        if pooled.shape[-1] != self.projector.in_dim:
            raise ValueError(f'ContrastiveVideoNNBaseline: {where} features have width {pooled.shape[-1]}, '
                             f'the projector takes {self.projector.in_dim}')
        param = next(self.projector.parameters(), None)  # none for projector='identity'
        dev = pooled.device if param is None else param.device
        return self.projector(pooled.to(dev))

    def loss(self, inputs: dict, data_samples=None) -> dict:
        """Symmetric InfoNCE between the batch's learner and expert videos (pair ``i`` matches ``i``)."""
        for key in (self.video_key, 'expert_video'):
            if not isinstance(inputs, dict) or inputs.get(key) is None:
                raise KeyError(f'ContrastiveVideoNNBaseline: training needs inputs[{key!r}]')
        learner = torch.stack([self._pooled(v, f'learner {i}') for i, v in enumerate(inputs[self.video_key])])
        expert = torch.stack([self._pooled(v, f'expert {i}') for i, v in enumerate(inputs['expert_video'])])
        if len(learner) < 2:
            raise ValueError('ContrastiveVideoNNBaseline: InfoNCE needs batches of at least 2 pairs')
        logits = F.normalize(learner, dim=-1) @ F.normalize(expert, dim=-1).T / self.tau
        target = torch.arange(len(logits), device=logits.device)
        return dict(loss_nce=0.5 * (F.cross_entropy(logits, target) + F.cross_entropy(logits.T, target)))

    def forward(self, inputs: dict, data_samples: Optional[list] = None, mode: str = 'predict'):
        if mode == 'loss':
            return self.loss(inputs, data_samples)
        return super().forward(inputs, data_samples, mode)

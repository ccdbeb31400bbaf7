"""``VideoNNFeedbackBaseline``: ExpertAF's video-feature nearest-neighbour baseline."""
from __future__ import annotations

import copy
from typing import Iterable, List, Optional

import torch
import torch.nn.functional as F
from mmengine.model import BaseModel

from motionkit.registry import MODELS
from motionkit.utils.checkpoint import safe_load

__all__ = ['VideoNNFeedbackBaseline']


def _field(sample, key, default=None):
    if sample is None:
        return default
    return sample.get(key, default) if hasattr(sample, 'get') else getattr(sample, key, default)


@MODELS.register_module()
class VideoNNFeedbackBaseline(BaseModel):
    """Nearest neighbour in a frozen video encoder's feature space (ExpertAF table 1's
    InternVideo2-NN, here over whatever encoder filled the feature cache).

    A query's learner video features ``(T, D)`` are mean-pooled over time and compared by cosine
    similarity with the training pool's; the closest training sample's commentary is the
    predicted commentary (``pred_text``) and its expert pose the predicted pose
    (``pred_expert_joints``: its ``gt_expert_joints``, or its ``expert_pose`` codes decoded by the
    PoseTokenizer). For retrieval every candidate of the test pool is scored by the cosine between
    the query's learner video and the candidate's expert video (``pred_retrieval_scores``).

    Nothing is trained: the pools come from :class:`~motionkit.engine.ExpertAFPoolHook`
    (:meth:`set_pool_from_items`, :meth:`set_candidates_from_items`) at the start of testing.
    Items follow :class:`~motionkit.models.llm_heads.ExpertFeedbackModel`'s input contract.

    Args:
        pose_tokenizer: optional PoseTokenizer config to decode ``expert_pose`` codes.
        pose_tokenizer_checkpoint: its weights.
        video_key: the ``inputs`` key of the query features.
    """

    def __init__(self, pose_tokenizer: Optional[dict] = None, pose_tokenizer_checkpoint: Optional[str] = None,
                 video_key: str = 'learner_video', data_preprocessor: Optional[dict] = None,
                 init_cfg: Optional[dict] = None) -> None:
        super().__init__(data_preprocessor=data_preprocessor, init_cfg=init_cfg)
        self.video_key = video_key
        self.pose_tokenizer = None
        if pose_tokenizer is not None:
            self.pose_tokenizer = MODELS.build(copy.deepcopy(pose_tokenizer))
            if pose_tokenizer_checkpoint:
                state = safe_load(pose_tokenizer_checkpoint, map_location='cpu')  # runner checkpoints too
                self.pose_tokenizer.load_state_dict(state.get('state_dict', state))
            self.pose_tokenizer.requires_grad_(False)
        self.pool_features: Optional[torch.Tensor] = None
        self.pool_texts: List[str] = []
        self.pool_poses: List[Optional[torch.Tensor]] = []
        self.candidate_features: Optional[torch.Tensor] = None
        self.candidate_ids: List[str] = []

    @staticmethod
    def _pooled(features, where: str) -> torch.Tensor:
        features = torch.as_tensor(features, dtype=torch.float32)
        if features.ndim != 2:
            raise ValueError(f'VideoNNFeedbackBaseline: {where} features must be (T, D), got '
                             f'{tuple(features.shape)}')
        return features.mean(0)

    def _pose_of(self, inputs: dict, sample) -> Optional[torch.Tensor]:
        joints = _field(sample, 'gt_expert_joints')
        if joints is not None:
            return torch.as_tensor(joints, dtype=torch.float32)
        codes = inputs.get('expert_pose')
        if codes is not None and self.pose_tokenizer is not None:
            return self.pose_tokenizer.decode(torch.as_tensor(codes).long()).cpu()
        return None

    @torch.no_grad()
    def set_pool_from_items(self, items: Iterable[dict]) -> int:
        """The training pool: pooled ``inputs[video_key]``, ``gt_text`` and the expert pose."""
        feats, texts, poses = [], [], []
        for n, item in enumerate(items):
            inputs, sample = item.get('inputs') or {}, item.get('data_samples')
            if inputs.get(self.video_key) is None:
                raise KeyError(f'VideoNNFeedbackBaseline: pool item {n} has no inputs[{self.video_key!r}]')
            feats.append(self._pooled(inputs[self.video_key], f'pool item {n}'))
            text = _field(sample, 'gt_text') or (_field(sample, 'gt_texts') or [None])[0]
            if text is None:
                raise KeyError(f'VideoNNFeedbackBaseline: pool item {n} has no gt_text')
            texts.append(str(text))
            poses.append(self._pose_of(inputs, sample))
        if not feats:
            raise ValueError('VideoNNFeedbackBaseline: the training pool is empty')
        self.pool_features = F.normalize(torch.stack(feats), dim=-1)
        self.pool_texts, self.pool_poses = texts, poses
        return len(feats)

    @torch.no_grad()
    def set_candidates_from_items(self, items: Iterable[dict]) -> int:
        """The retrieval pool: pooled ``inputs['expert_video']`` of each candidate and its id."""
        feats, ids = [], []
        for n, item in enumerate(items):
            inputs = item.get('inputs') or {}
            if inputs.get('expert_video') is None:
                raise KeyError(f'VideoNNFeedbackBaseline: candidate {n} has no inputs["expert_video"]')
            feats.append(self._pooled(inputs['expert_video'], f'candidate {n}'))
            ids.append(str(_field(item.get('data_samples'), 'sample_id', n)))
        self.candidate_features = F.normalize(torch.stack(feats), dim=-1)
        self.candidate_ids = ids
        return len(feats)

    def forward(self, inputs: dict, data_samples: Optional[list] = None, mode: str = 'predict'):
        if mode == 'loss':
            raise RuntimeError('VideoNNFeedbackBaseline has nothing to train: run tools/test.py with '
                               'ExpertAFPoolHook(train_pool=...) in custom_hooks')
        if mode not in ('predict', 'tensor'):
            raise ValueError(f"mode must be 'predict' or 'tensor', got {mode!r}")
        if self.pool_features is None:
            raise RuntimeError('VideoNNFeedbackBaseline: no training pool; call set_pool_from_items() or '
                               'add ExpertAFPoolHook(train_pool=...) to custom_hooks')
        videos = inputs.get(self.video_key) if isinstance(inputs, dict) else None
        if videos is None:
            raise KeyError(f'VideoNNFeedbackBaseline: inputs lack {self.video_key!r}')
        query = F.normalize(torch.stack([self._pooled(v, f'query {i}') for i, v in enumerate(videos)]), dim=-1)
        sim = query @ self.pool_features.T  # (B, N_pool)
        nn_index = sim.argmax(-1)
        if mode == 'tensor':
            return sim
        if data_samples is None:
            from mmengine.structures import BaseDataElement
            data_samples = [BaseDataElement() for _ in range(len(query))]
        expert_poses = inputs.get('expert_pose')
        for i, ds in enumerate(data_samples):
            j = int(nn_index[i])
            ds.pred_text = self.pool_texts[j]
            ds.nn_index = j
            if self.pool_poses[j] is not None:
                ds.pred_expert_joints = self.pool_poses[j]
                if _field(ds, 'gt_expert_joints') is None and expert_poses is not None and \
                        self.pose_tokenizer is not None:
                    ds.gt_expert_joints = self.pose_tokenizer.decode(torch.as_tensor(expert_poses[i]).long()).cpu()
            if self.candidate_features is not None:
                ds.pred_retrieval_scores = (query[i] @ self.candidate_features.T).cpu()
                sid = _field(ds, 'sample_id')
                if sid is not None and str(sid) in self.candidate_ids:
                    ds.gt_candidate_index = self.candidate_ids.index(str(sid))
        return data_samples

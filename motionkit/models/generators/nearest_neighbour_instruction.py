"""Nearest-neighbour retrieval baseline for corrective instructions (CigTime, Table 1).

The instruction of the training triplet whose (source, target) pair looks most like the query pair
is returned unchanged. No parameters are learnt: the index is built from the training set the
first time the model predicts (or by :meth:`build_index`).
"""
from __future__ import annotations

from typing import List, Optional, Sequence, Union

import torch
from mmengine.model import BaseModel

from motionkit.registry import DATASETS, FUNCTIONS, MODELS

__all__ = ['NearestNeighbourInstructionRetrieval', 'pair_descriptor']


def pair_descriptor(source: torch.Tensor, source_mask: torch.Tensor, target: torch.Tensor,
                    target_mask: torch.Tensor) -> torch.Tensor:
    """A fixed-size descriptor of a (source, target) pair of normalised feature sequences.

    ``[mean(source), mean(target) - mean(source), mean |target - source| over the common frames]``
    per feature: what the motion is, how its average changes and how much it changes frame by frame.

    Args:
        source, target: ``(B, T, D)`` / ``(B, T', D)`` normalised features, zero-padded.
        source_mask, target_mask: ``(B, T)`` / ``(B, T')`` bool, True on valid frames.

    Returns:
        ``(B, 3 * D)``.
    """
    sm = source_mask.unsqueeze(-1).to(source.dtype)
    tm = target_mask.unsqueeze(-1).to(target.dtype)
    s_mean = (source * sm).sum(1) / sm.sum(1).clamp(min=1)
    t_mean = (target * tm).sum(1) / tm.sum(1).clamp(min=1)
    n = min(source.shape[1], target.shape[1])
    both = (sm[:, :n] * tm[:, :n])
    diff = ((target[:, :n] - source[:, :n]).abs() * both).sum(1) / both.sum(1).clamp(min=1)
    return torch.cat([s_mean, t_mean - s_mean, diff], dim=-1)


@MODELS.register_module()
class NearestNeighbourInstructionRetrieval(BaseModel):
    """Return the training instruction of the nearest (source, target) pair.

    Args:
        train_dataset: config of the training triplets (e.g. ``CigTimeTripletDataset`` with a
            ``LoadMotionPair`` + ``PackMotionPairInputs`` pipeline); its instructions are the answers.
        metric: ``'cosine'`` or ``'euclidean'`` distance between standardised descriptors.
        index_batch_size: pairs per batch while indexing.
        collate_fn: name of the registered collate function that batches the training pairs
            (looked up in the ``FUNCTIONS`` registry, as mmengine's Runner does for dataloaders).
        data_preprocessor: pads and normalises the pairs (``MotionPairDataPreprocessor``).
    """

    def __init__(self,
                 train_dataset: dict,
                 metric: str = 'cosine',
                 index_batch_size: int = 64,
                 collate_fn: str = 'motion_pair_collate',
                 data_preprocessor: Optional[Union[dict, torch.nn.Module]] = None) -> None:
        if data_preprocessor is None:
            data_preprocessor = dict(type='MotionPairDataPreprocessor')
        super().__init__(data_preprocessor=data_preprocessor)
        if metric not in ('cosine', 'euclidean'):
            raise ValueError(f"NearestNeighbourInstructionRetrieval: metric must be 'cosine' or 'euclidean', "
                             f'got {metric!r}')
        self.train_dataset_cfg = train_dataset
        self.metric = metric
        self.index_batch_size = int(index_batch_size)
        self._collate = FUNCTIONS.get(collate_fn)
        if self._collate is None:
            raise KeyError(f'NearestNeighbourInstructionRetrieval: collate function {collate_fn!r} is not '
                           'in the FUNCTIONS registry')
        self._keys: Optional[torch.Tensor] = None
        self._answers: List[str] = []
        self._mu = self._sigma = None
        # a dummy parameter so optimisers / wrappers that expect one do not fail
        self.register_buffer('_device_probe', torch.zeros(1), persistent=False)

    def _descriptors(self, inputs: dict) -> torch.Tensor:
        for key in ('source', 'source_mask', 'target', 'target_mask'):
            if key not in inputs:
                raise KeyError(f'NearestNeighbourInstructionRetrieval: inputs need {key!r} (from '
                               f'MotionPairDataPreprocessor), got keys {sorted(inputs)}')
        return pair_descriptor(inputs['source'].float(), inputs['source_mask'].bool(),
                               inputs['target'].float(), inputs['target_mask'].bool())

    @torch.no_grad()
    def build_index(self, dataset=None) -> int:
        """Index the training pairs; returns how many."""
        if dataset is None:
            dataset = self.train_dataset_cfg
        if isinstance(dataset, dict):
            dataset = DATASETS.build(dataset)
        if len(dataset) == 0:
            raise ValueError('NearestNeighbourInstructionRetrieval: the training set is empty')
        keys, answers = [], []
        for start in range(0, len(dataset), self.index_batch_size):
            items = [dataset[i] for i in range(start, min(start + self.index_batch_size, len(dataset)))]
            batch = self.data_preprocessor(self._collate(items), False)
            keys.append(self._descriptors(batch['inputs']).cpu())
            for sample in batch['data_samples']:
                answers.append(str(sample.gt_instruction))
        keys = torch.cat(keys)
        self._mu = keys.mean(0)
        self._sigma = keys.std(0).clamp(min=1e-6)
        keys = (keys - self._mu) / self._sigma
        if self.metric == 'cosine':
            keys = torch.nn.functional.normalize(keys, dim=-1)
        self._keys, self._answers = keys, answers
        return len(answers)

    @torch.no_grad()
    def retrieve(self, inputs: dict) -> List[int]:
        """Index of the nearest training pair for each query pair."""
        if self._keys is None:
            self.build_index()
        q = (self._descriptors(inputs).cpu() - self._mu) / self._sigma
        if self.metric == 'cosine':
            q = torch.nn.functional.normalize(q, dim=-1)
            return (q @ self._keys.T).argmax(-1).tolist()
        return torch.cdist(q, self._keys).argmin(-1).tolist()

    def forward(self, inputs: dict, data_samples: Optional[Sequence] = None, mode: str = 'predict'):
        if mode == 'loss':
            raise RuntimeError('NearestNeighbourInstructionRetrieval learns nothing: run it with '
                               'tools/test.py CONFIG none')
        if mode == 'tensor':
            return self._descriptors(inputs)
        if mode != 'predict':
            raise ValueError(f'unknown mode {mode!r}')
        nearest = self.retrieve(inputs)
        for sample, k in zip(data_samples, nearest):
            sample.pred_instruction = self._answers[k]
        return list(data_samples)

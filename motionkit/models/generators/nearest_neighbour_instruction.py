"""Nearest-neighbour retrieval baseline for corrective instructions (CigTime, Table 1).

The instruction of the training triplet whose (source, target) pair looks most like the query pair
is returned unchanged. No parameters are learnt: the index is built from the training set the
first time the model predicts (or by :meth:`build_index`).

Two descriptors of a pair:

* ``'pooled'`` (:func:`pair_descriptor`): statistics pooled over time, one vector per pair.
* ``'steps'`` (:func:`pair_step_descriptor`): one vector per 4-frame step, ``[s_k, t_k, t_k - s_k]``
  as the feature-step LM (``cigtime-pair-features``) reads the pair, so that *when* a change
  happens counts as well as what changes.

With ``k > 1`` the answer is voted among the k nearest training pairs (:func:`vote_neighbours`).
"""
from __future__ import annotations

from typing import List, Optional, Sequence, Tuple, Union

import torch
from mmengine.model import BaseModel

from motionkit.registry import DATASETS, FUNCTIONS, MODELS
from motionkit.utils.text import normalize_text

__all__ = ['NearestNeighbourInstructionRetrieval', 'pair_descriptor',
           'pair_step_descriptor', 'vote_neighbours']


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


def _step_means(x: torch.Tensor, lengths: torch.Tensor, unit: int, num_steps: int) -> Tuple[torch.Tensor,
                                                                                         torch.Tensor]:
    """Mean of each complete ``unit``-frame step: ``(B, num_steps, D)`` (zeros past the motion's
    last complete step) and the steps' validity ``(B, num_steps)``."""
    b, t, d = x.shape
    frames = num_steps * unit
    if t < frames:
        x = torch.cat([x, x.new_zeros(b, frames - t, d)], 1)
    steps = x[:, :frames].reshape(b, num_steps, unit, d).mean(2)
    n_steps = torch.div(lengths.long(), unit, rounding_mode='floor')  # as the LM: the tail is dropped
    valid = torch.arange(num_steps, device=x.device)[None] < n_steps[:, None].to(x.device)
    return steps * valid.unsqueeze(-1).to(steps.dtype), valid


def pair_step_descriptor(source: torch.Tensor, source_mask: torch.Tensor, target: torch.Tensor,
                         target_mask: torch.Tensor, unit_length: int = 4,
                         num_steps: int = 49) -> Tuple[torch.Tensor, torch.Tensor]:
    """A per-step descriptor of a (source, target) pair of normalised feature sequences.

    The pair is cut into steps of ``unit_length`` frames as the feature-step LM reads it (step k =
    frames ``[k * unit, (k + 1) * unit)``; a motion has ``floor(length / unit)`` steps, the frames
    after its last complete step are dropped). Each step is the mean of its frames, and step k of
    the pair is ``[s_k, t_k, t_k - s_k]`` (:func:`fused_pair_latents`' layout, averaged over the
    step's frames instead of concatenated: the index stays ``unit`` times smaller). A motion that
    has ended reads zeros, and so does the difference. Steps past ``num_steps`` are cropped (the
    default 49 covers the 196 frames of HumanML3D's longest motions).

    Args:
        source, target: ``(B, T, D)`` / ``(B, T', D)`` normalised features, zero-padded.
        source_mask, target_mask: ``(B, T)`` / ``(B, T')`` bool, True on valid frames (a prefix).
        unit_length: frames per step.
        num_steps: steps kept (the descriptor is padded or cropped to it).

    Returns:
        ``(B, num_steps, 3 * D)`` descriptors and ``(B, num_steps)`` bool, True on the steps that
        at least one of the two motions has.
    """
    unit, num_steps = int(unit_length), int(num_steps)
    if unit < 1 or num_steps < 1:
        raise ValueError(f'pair_step_descriptor: unit_length and num_steps must be >= 1, got '
                         f'{unit_length} and {num_steps}')
    s, s_valid = _step_means(source, source_mask.sum(1), unit, num_steps)
    t, t_valid = _step_means(target, target_mask.sum(1), unit, num_steps)
    both = (s_valid & t_valid).unsqueeze(-1).to(s.dtype)
    return torch.cat([s, t, (t - s) * both], dim=-1), s_valid | t_valid


def _to_cpu(desc):
    return tuple(d.cpu() for d in desc) if isinstance(desc, tuple) else desc.cpu()


def vote_neighbours(labels: Sequence[str], similarities: Sequence[float]) -> int:
    """The winner of a k-nearest-neighbour vote, as a position in the neighbour list.

    Args:
        labels: the vote of each neighbour, nearest first.
        similarities: each neighbour's similarity to the query (higher is nearer; the same order).

    The label with the most votes wins; a tie goes to the label with the larger summed similarity,
    then to the label of the nearest neighbour. Returns the position of the nearest neighbour that
    voted for the winner (its instruction is the answer: always a real training instruction).
    """
    if len(labels) != len(similarities) or not labels:
        raise ValueError(f'vote_neighbours: need as many similarities as labels (>= 1), got '
                         f'{len(labels)} labels and {len(similarities)} similarities')
    tally = {}  # label -> [votes, summed similarity, first position]
    for pos, (label, sim) in enumerate(zip(labels, similarities)):
        entry = tally.setdefault(label, [0, 0.0, pos])
        entry[0] += 1
        entry[1] += float(sim)
    return max(tally.values(), key=lambda e: (e[0], e[1], -e[2]))[2]


@MODELS.register_module()
class NearestNeighbourInstructionRetrieval(BaseModel):
    """Return the training instruction of the nearest (source, target) pair, or the one voted by
    the ``k`` nearest.

    Args:
        train_dataset: config of the training triplets (e.g. ``CigTimeTripletDataset`` with a
            ``LoadMotionPair`` + ``PackMotionPairInputs`` pipeline); its instructions are the answers.
        metric: ``'cosine'`` or ``'euclidean'`` distance between standardised descriptors.
        descriptor: ``'pooled'`` (:func:`pair_descriptor`, one vector per pair) or ``'steps'``
            (:func:`pair_step_descriptor`, one vector per ``unit_length``-frame step). Steps are
            standardised with the mean and std of each feature over all valid training steps;
            a step only one pair has is zero (the mean) in the other, so the flattened descriptors
            compare the steps both have, while the steps only one has count in its norm (cosine)
            or in the distance (euclidean): two pairs of different lengths are less alike than the
            same pairs cut to the same length.
        k: neighbours that vote (1: the nearest pair's instruction, the original baseline).
        vote_on: what a neighbour votes for. ``'instruction'``: its instruction text, normalised
            by :func:`~motionkit.utils.text.normalize_text`. ``'edit'``: its triplet's edit operator (the ``edit``
            field SynthMotion's triplets carry; a triplet without one votes for its normalised
            text). Paraphrases of one edit (SynthMotion writes each operator with three templates,
            picked at random per triplet) split an instruction vote but not an edit vote; the
            operator name is training metadata, never read from the query. The default is the
            text: it needs no metadata (triplets written by an LLM or a model editor have no
            operator), and an operator with parameters merges instructions that ask for different
            things (SynthMotion's ``add_event`` has 79 training texts, one per event added; an
            ``*_other_hand`` edit names left or right). On SynthMotion's validation split the edit
            vote was not better (k=3: 67.7% against 70.7% right edits pooled, 53.4% against 56.4%
            per step). Either way the answer is the instruction of the nearest neighbour that voted
            for the winner.
        unit_length, num_steps: the steps of ``descriptor='steps'`` (frames per step, as the
            feature-step LM's motion tokenizer sets them; steps kept, 49 covers 196 frames).
        index_batch_size: pairs per batch while indexing.
        collate_fn: name of the registered collate function that batches the training pairs
            (looked up in the ``FUNCTIONS`` registry, as mmengine's Runner does for dataloaders).
        data_preprocessor: pads and normalises the pairs (``MotionPairDataPreprocessor``).
    """

    def __init__(self,
                 train_dataset: dict,
                 metric: str = 'cosine',
                 descriptor: str = 'pooled',
                 k: int = 1,
                 vote_on: str = 'instruction',
                 unit_length: int = 4,
                 num_steps: int = 49,
                 index_batch_size: int = 64,
                 collate_fn: str = 'motion_pair_collate',
                 data_preprocessor: Optional[Union[dict, torch.nn.Module]] = None) -> None:
        if data_preprocessor is None:
            data_preprocessor = dict(type='MotionPairDataPreprocessor')
        super().__init__(data_preprocessor=data_preprocessor)
        if metric not in ('cosine', 'euclidean'):
            raise ValueError(f"NearestNeighbourInstructionRetrieval: metric must be 'cosine' or 'euclidean', "
                             f'got {metric!r}')
        if descriptor not in ('pooled', 'steps'):
            raise ValueError(f"NearestNeighbourInstructionRetrieval: descriptor must be 'pooled' or 'steps', "
                             f'got {descriptor!r}')
        if vote_on not in ('instruction', 'edit'):
            raise ValueError(f"NearestNeighbourInstructionRetrieval: vote_on must be 'instruction' or 'edit', "
                             f'got {vote_on!r}')
        if int(k) < 1 or int(unit_length) < 1 or int(num_steps) < 1:
            raise ValueError(f'NearestNeighbourInstructionRetrieval: k, unit_length and num_steps must be '
                             f'>= 1, got {k}, {unit_length}, {num_steps}')
        self.train_dataset_cfg = train_dataset
        self.metric = metric
        self.descriptor = descriptor
        self.k = int(k)
        self.vote_on = vote_on
        self.unit_length, self.num_steps = int(unit_length), int(num_steps)
        self.index_batch_size = int(index_batch_size)
        self._collate = FUNCTIONS.get(collate_fn)
        if self._collate is None:
            raise KeyError(f'NearestNeighbourInstructionRetrieval: collate function {collate_fn!r} is not '
                           'in the FUNCTIONS registry')
        self._keys: Optional[torch.Tensor] = None
        self._answers: List[str] = []
        self._labels: List[str] = []
        self._mu = self._sigma = None
        # a dummy parameter so optimisers / wrappers that expect one do not fail
        self.register_buffer('_device_probe', torch.zeros(1), persistent=False)

    def _descriptors(self, inputs: dict) -> Union[torch.Tensor, Tuple[torch.Tensor, torch.Tensor]]:
        """``(B, 3D)`` pooled descriptors, or ``((B, S, 3D), (B, S) step mask)`` for steps."""
        for key in ('source', 'source_mask', 'target', 'target_mask'):
            if key not in inputs:
                raise KeyError(f'NearestNeighbourInstructionRetrieval: inputs need {key!r} (from '
                               f'MotionPairDataPreprocessor), got keys {sorted(inputs)}')
        args = (inputs['source'].float(), inputs['source_mask'].bool(), inputs['target'].float(),
                inputs['target_mask'].bool())
        if self.descriptor == 'steps':
            return pair_step_descriptor(*args, unit_length=self.unit_length, num_steps=self.num_steps)
        return pair_descriptor(*args)

    def _standardise(self, desc) -> torch.Tensor:
        """Descriptors as index rows: standardised (steps: padded steps zero, then flattened) and,
        for the cosine metric, unit length."""
        if self.descriptor == 'steps':
            steps, valid = desc
            keys = ((steps - self._mu) / self._sigma) * valid.unsqueeze(-1).to(steps.dtype)
            keys = keys.flatten(1)
        else:
            keys = (desc - self._mu) / self._sigma
        if self.metric == 'cosine':
            keys = torch.nn.functional.normalize(keys, dim=-1)
        return keys

    def _vote_label(self, sample) -> str:
        text = str(sample.gt_instruction)
        edit = sample.get('edit') if self.vote_on == 'edit' else None
        return f'edit:{edit}' if edit else f'text:{normalize_text(text)}'

    @torch.no_grad()
    def build_index(self, dataset=None) -> int:
        """Index the training pairs; returns how many."""
        if dataset is None:
            dataset = self.train_dataset_cfg
        if isinstance(dataset, dict):
            dataset = DATASETS.build(dataset)
        if len(dataset) == 0:
            raise ValueError('NearestNeighbourInstructionRetrieval: the training set is empty')
        descs, answers, labels = [], [], []
        for start in range(0, len(dataset), self.index_batch_size):
            items = [dataset[i] for i in range(start, min(start + self.index_batch_size, len(dataset)))]
            batch = self.data_preprocessor(self._collate(items), False)
            descs.append(_to_cpu(self._descriptors(batch['inputs'])))
            for sample in batch['data_samples']:
                answers.append(str(sample.gt_instruction))
                labels.append(self._vote_label(sample))
        if self.descriptor == 'steps':
            desc = (torch.cat([d[0] for d in descs]), torch.cat([d[1] for d in descs]))
            rows = desc[0][desc[1]]  # the valid steps of every training pair: (N_steps, 3D)
        else:
            desc = rows = torch.cat(descs)
        self._mu = rows.mean(0)
        self._sigma = rows.std(0).clamp(min=1e-6)
        self._keys, self._answers, self._labels = self._standardise(desc), answers, labels
        return len(answers)

    @torch.no_grad()
    def neighbours(self, inputs: dict) -> Tuple[torch.Tensor, torch.Tensor]:
        """The ``k`` nearest training pairs of each query pair, nearest first: indices ``(B, k)``
        and similarities ``(B, k)`` (cosine, or minus the euclidean distance). Equally near pairs
        keep their index order."""
        if self._keys is None:
            self.build_index()
        q = self._standardise(_to_cpu(self._descriptors(inputs)))
        sim = q @ self._keys.T if self.metric == 'cosine' else -torch.cdist(q, self._keys)
        sim, order = torch.sort(sim, dim=-1, descending=True, stable=True)
        k = min(self.k, sim.shape[1])
        return order[:, :k], sim[:, :k]

    @torch.no_grad()
    def retrieve(self, inputs: dict) -> List[int]:
        """Index of the training pair whose instruction answers each query pair (the nearest one for
        ``k=1``, else the nearest voter for the winner of :func:`vote_neighbours`)."""
        order, sim = self.neighbours(inputs)
        answers = []
        for idx, s in zip(order.tolist(), sim.tolist()):
            answers.append(idx[vote_neighbours([self._labels[i] for i in idx], s)])
        return answers

    def forward(self, inputs: dict, data_samples: Optional[Sequence] = None, mode: str = 'predict'):
        if mode == 'loss':
            raise RuntimeError('NearestNeighbourInstructionRetrieval learns nothing: run it with '
                               'tools/test.py CONFIG none')
        if mode == 'tensor':
            desc = self._descriptors(inputs)
            return desc[0] if isinstance(desc, tuple) else desc
        if mode != 'predict':
            raise ValueError(f'unknown mode {mode!r}')
        nearest = self.retrieve(inputs)
        for sample, k in zip(data_samples, nearest):
            sample.pred_instruction = self._answers[k]
        return list(data_samples)

"""Control rows for instruction metrics: the reference instruction, damaged on purpose.

A metric of corrective instructions should rank the reference instruction clearly above the same
words shuffled, the first half of it, another triplet's instruction and nonsense (issue #18). This
"model" returns one of those for every test triplet, so the controls go through exactly the
evaluators (text metrics, reconstruction through each editor) the real methods go through:
``tools/test.py CONFIG none --cfg-options model.control=shuffled``.
"""
from __future__ import annotations

import zlib
from typing import List, Optional, Sequence

import numpy as np
import torch
from mmengine.model import BaseModel

from motionkit.registry import MODELS
from motionkit.structures.edit_request import BODY_PART_PREFIXES, parse_body_part
from ..data_preprocessors.motion_pair_data_preprocessor import MotionPairDataPreprocessor

__all__ = ['ReferenceInstructionControl', 'control_instruction', 'INSTRUCTION_CONTROLS']

INSTRUCTION_CONTROLS = ('reference', 'shuffled', 'truncated', 'other_triplet', 'nonsense')
# words with nothing to do with moving: the nonsense control draws from them
_NONSENSE = ('table', 'yellow', 'seven', 'cloud', 'quietly', 'paper', 'river', 'because', 'window',
             'blue', 'bread', 'under', 'music', 'garden', 'tomorrow', 'glass', 'eleven', 'soft', 'city',
             'letter')


def control_instruction(reference: str, control: str, rng: np.random.Generator,
                        other: Optional[str] = None) -> str:
    """Damage ``reference`` as ``control`` says.

    * ``'reference'``: unchanged;
    * ``'shuffled'``: the words after the body part in a random order (reversed if the shuffle
      gave the same order; a one-word instruction cannot change);
    * ``'truncated'``: the body part and the first half of the words (``n // 2``, at least one);
    * ``'other_triplet'``: ``other`` (another triplet's reference, body part included);
    * ``'nonsense'``: as many words as the reference, drawn from a fixed list of words unrelated to
      motion, no body part.

    Raises:
        ValueError: an unknown control, or ``'other_triplet'`` without ``other``.
    """
    if control not in INSTRUCTION_CONTROLS:
        raise ValueError(f'control_instruction: control must be one of {INSTRUCTION_CONTROLS}, got {control!r}')
    part, body = parse_body_part(reference)
    words = body.split()
    head = f'{BODY_PART_PREFIXES[part]}: ' if part else ''
    if control == 'reference':
        return reference
    if control == 'shuffled':
        order = rng.permutation(len(words))
        shuffled = [words[i] for i in order]
        if shuffled == words:
            shuffled = words[::-1]
        return head + ' '.join(shuffled)
    if control == 'truncated':
        return head + ' '.join(words[:max(1, len(words) // 2)])
    if control == 'other_triplet':
        if other is None:
            raise ValueError("control_instruction: 'other_triplet' needs another triplet's instruction")
        return other
    return ' '.join(_NONSENSE[i] for i in rng.integers(len(_NONSENSE), size=max(1, len(words))))


@MODELS.register_module()
class ReferenceInstructionControl(BaseModel):
    """Predict the reference instruction, damaged by ``control`` (see :func:`control_instruction`).

    ``'other_triplet'`` gives each triplet the reference of the next one in the batch (the last
    gets the first's): with the triplets of a source stored side by side, that is mostly another
    edit of the same source. The random controls are seeded by ``seed`` and the triplet id, so a
    run repeats exactly.

    Args:
        control: one of :data:`INSTRUCTION_CONTROLS`.
        seed: seed of the shuffles and nonsense draws.
        data_preprocessor: pads the pairs (``MotionPairDataPreprocessor``); nothing reads them.
    """

    def __init__(self, control: str = 'reference', seed: int = 0, data_preprocessor=None) -> None:
        if data_preprocessor is None:  # an instance: builds outside the motionkit default scope too
            data_preprocessor = MotionPairDataPreprocessor()
        super().__init__(data_preprocessor=data_preprocessor)
        if control not in INSTRUCTION_CONTROLS:
            raise ValueError(f'ReferenceInstructionControl: control must be one of {INSTRUCTION_CONTROLS}, '
                             f'got {control!r}')
        self.control = control
        self.seed = int(seed)
        self.register_buffer('_device_probe', torch.zeros(1), persistent=False)

    def _rng(self, sample) -> np.random.Generator:
        ident = str(sample.get('triplet_id', None) or sample.get('source_id', None) or '')
        return np.random.default_rng([self.seed, zlib.crc32(ident.encode('utf-8'))])

    def forward(self, inputs: dict, data_samples: Optional[Sequence] = None, mode: str = 'predict'):
        if mode == 'loss':
            raise RuntimeError('ReferenceInstructionControl learns nothing: run it with tools/test.py CONFIG none')
        if mode == 'tensor':
            return self._device_probe
        if mode != 'predict':
            raise ValueError(f'unknown mode {mode!r}')
        samples: List = list(data_samples or [])
        refs = []
        for i, sample in enumerate(samples):
            ref = sample.get('gt_instruction', None)
            if not isinstance(ref, str):
                raise KeyError(f'ReferenceInstructionControl: sample {i} has no gt_instruction (str)')
            refs.append(ref)
        if self.control == 'other_triplet' and len(samples) < 2:
            raise ValueError("ReferenceInstructionControl: 'other_triplet' needs batches of >= 2 triplets")
        for i, sample in enumerate(samples):
            other = refs[(i + 1) % len(refs)] if refs else None
            sample.pred_instruction = control_instruction(refs[i], self.control, self._rng(sample), other)
        return samples

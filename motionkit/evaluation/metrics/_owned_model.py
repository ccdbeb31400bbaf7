"""Metrics that own a network (an editor, an evaluator), as FID owns its Inception: built lazily
from a config dict, a config file or an object, with weights loaded safely (``weights_only``)."""
from __future__ import annotations

from typing import Any, Optional, Union

import torch

from motionkit.registry import MODELS


def build_owned_model(spec: Union[dict, str, Any], checkpoint: Optional[str], metric: str,
                      required_attr: Optional[str] = None) -> Any:
    """Build ``spec`` and load ``checkpoint`` into it (strict, safe loader), in eval mode.

    Args:
        spec: a ``MODELS`` config dict, the path of a ``.py`` config whose ``model`` is the network,
            or a ready object.
        checkpoint: path of a checkpoint, or None.
        metric: the metric's name, for error messages.
        required_attr: a method the object must have (e.g. ``'edit_instructions'``).
    """
    obj = spec
    if isinstance(obj, str):
        if not obj.endswith('.py'):
            raise ValueError(f'{metric}: {obj!r} is neither a config dict nor a .py config file')
        from mmengine.config import Config
        obj = Config.fromfile(obj).model.to_dict()
    if isinstance(obj, dict):
        obj = MODELS.build(obj)
    if required_attr is not None and not hasattr(obj, required_attr):
        raise TypeError(f'{metric}: {type(obj).__name__} has no {required_attr} method')
    if checkpoint:
        import os.path as osp
        if not osp.isfile(checkpoint):
            raise FileNotFoundError(f'{metric}: checkpoint {checkpoint} does not exist')
        from mmengine.runner import load_checkpoint
        from motionkit.utils.checkpoint import install_safe_checkpoint_loader
        install_safe_checkpoint_loader()  # weights_only=True with mmengine's allowlist
        load_checkpoint(obj, checkpoint, map_location='cpu', strict=True)
    if isinstance(obj, torch.nn.Module):
        obj.eval()
    return obj

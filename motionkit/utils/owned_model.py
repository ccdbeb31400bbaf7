"""Networks that another component owns, as FID owns its Inception: a metric's editor or
evaluator, a router's per-part editors. Built from a config dict, a config file or an object, with
weights loaded through the safe loader (``weights_only``). Lives below ``models`` and
``evaluation`` so both reach models only through the registry."""
from __future__ import annotations

import os.path as osp
from typing import Any, Optional, Union

import torch
from mmengine.config import Config
from mmengine.runner import load_checkpoint

from motionkit.hub.download import is_remote
from motionkit.registry import MODELS
from .checkpoint import install_safe_checkpoint_loader

__all__ = ['build_owned_model']


def build_owned_model(spec: Union[dict, str, Any], checkpoint: Optional[str], owner: str,
                      required_attr: Optional[str] = None) -> Any:
    """Build ``spec`` and load ``checkpoint`` into it (strict, safe loader), in eval mode.

    Args:
        spec: a ``MODELS`` config dict, the path of a ``.py`` config whose ``model`` is the network,
            or a ready object.
        checkpoint: path of a checkpoint, a hub URL / name (``https://``, ``motionkit://``, ...:
            downloaded and checked against its pinned sha256), or None.
        owner: the owning component's name, for error messages.
        required_attr: a method the object must have (e.g. ``'edit_instructions'``).
    """
    obj = spec
    if isinstance(obj, str):
        if not obj.endswith('.py'):
            raise ValueError(f'{owner}: {obj!r} is neither a config dict nor a .py config file')
        obj = Config.fromfile(obj).model.to_dict()
    if isinstance(obj, dict):
        obj = MODELS.build(obj)
    if required_attr is not None and not hasattr(obj, required_attr):
        raise TypeError(f'{owner}: {type(obj).__name__} has no {required_attr} method')
    if checkpoint:
        if not is_remote(checkpoint) and not osp.isfile(checkpoint):
            raise FileNotFoundError(f'{owner}: checkpoint {checkpoint} does not exist')
        install_safe_checkpoint_loader()  # weights_only=True with motionkit's inert stand-ins
        load_checkpoint(obj, checkpoint, map_location='cpu', strict=True)
    if isinstance(obj, torch.nn.Module):
        obj.eval()
    return obj

"""``TimmVideoEncoder``: any timm image backbone applied to every frame, pooled over time."""
from __future__ import annotations

import os.path as osp
from typing import Optional

import torch
from mmengine.model import BaseModule

from motionkit.registry import MODELS
from motionkit.utils.checkpoint import safe_load

__all__ = ['TimmVideoEncoder', 'TIMM_VIDEO_PRESETS']

# Named sizes (torchtune-style presets). ``tiny`` is a 2-block ViT on 64 x 64 frames (~1 M
# parameters, no weights) for CPU runs and tests; ``vit_small`` / ``resnet50`` are the usual
# pretrained backbones (timm downloads their weights when ``pretrained=True``, or give a
# ``checkpoint`` path).
TIMM_VIDEO_PRESETS = dict(
    tiny=dict(backbone='vit_tiny_patch16_224', backbone_kwargs=dict(img_size=64, depth=2)),
    vit_small=dict(backbone='vit_small_patch16_224', backbone_kwargs=dict()),
    resnet50=dict(backbone='resnet50', backbone_kwargs=dict()),
)


@MODELS.register_module()
class TimmVideoEncoder(BaseModule):
    """Clips ``(B, T, 3, H, W)`` -> ``(B, D)`` clip features (or ``(B, T, D)`` per-frame features).

    Each frame goes through a timm backbone built by name with its classifier removed
    (``num_classes=0``: the backbone's own global pooling gives one ``D``-vector per frame), and
    the frames of a clip are averaged (``pool='mean'``, padded frames excluded by ``mask``) or kept
    (``pool='none'``). Frames are expected normalised as the backbone was trained
    (:class:`~motionkit.datasets.transforms.NormalizeFrames`; timm's ViTs use mean = std = 0.5,
    its ResNets ImageNet's statistics: :attr:`data_config` tells which).

    timm's model zoo holds image backbones; a video backbone that timm builds and that maps
    ``(N, 3, H, W)`` to ``(N, D)`` works the same way. Features of video models outside timm
    (InternVideo2, as ExpertAF uses) are read from files instead, see
    :class:`~motionkit.datasets.transforms.LoadPrecomputedVideoFeatures` and docs/video.md.

    Args:
        backbone: timm model name (``timm.list_models()``), e.g. ``'vit_tiny_patch16_224'``,
            ``'resnet10t'``.
        pretrained: Let timm fetch the backbone's pretrained weights (needs network or timm's cache;
            default False: random initialisation).
        checkpoint: Path of a local state dict for the backbone (``.pth`` / ``.safetensors``,
            optionally under ``'state_dict'``); loaded safely (no pickled code), the classifier's
            keys dropped, every other key must match.
        checkpoint_sha256: Expected sha256 of ``checkpoint`` (checked before loading; it also makes
            the weights part of a config's hash, e.g. the video feature cache's key).
        backbone_kwargs: Extra ``timm.create_model`` arguments (``img_size``, ``depth``, ...).
        pool: ``'mean'`` over time, or ``'none'`` to keep one feature per frame.
        frame_chunk: Frames per backbone call (bounds memory for long clips; ``None`` = all).
        freeze: Keep the backbone in eval mode without gradients (a fixed feature extractor).
    """

    def __init__(self, backbone: str = 'vit_tiny_patch16_224', pretrained: bool = False,
                 checkpoint: Optional[str] = None, checkpoint_sha256: Optional[str] = None,
                 backbone_kwargs: Optional[dict] = None,
                 pool: str = 'mean', frame_chunk: Optional[int] = None, freeze: bool = False,
                 init_cfg: Optional[dict] = None) -> None:
        super().__init__(init_cfg=init_cfg)
        if pool not in ('mean', 'none'):
            raise ValueError(f"TimmVideoEncoder: pool must be 'mean' or 'none', got {pool!r}")
        if frame_chunk is not None and frame_chunk < 1:
            raise ValueError(f'TimmVideoEncoder: frame_chunk must be >= 1, got {frame_chunk}')
        try:
            import timm
        except ImportError as err:
            raise ImportError('TimmVideoEncoder needs timm: pip install timm (see '
                              'requirements/optional.txt)') from err
        if not timm.is_model(backbone.split('.')[0]):  # 'name.pretrained_tag' is allowed
            import difflib
            close = difflib.get_close_matches(backbone, timm.list_models(), n=5)
            raise ValueError(f'TimmVideoEncoder: timm has no model {backbone!r}; closest: {close}')
        self.backbone_name = backbone
        self.pool = pool
        self.frame_chunk = frame_chunk
        self.freeze = freeze
        self.backbone = timm.create_model(backbone, pretrained=pretrained, num_classes=0,
                                          **(backbone_kwargs or {}))
        if checkpoint is not None:
            self._load_checkpoint(checkpoint, checkpoint_sha256)
        if freeze:
            self.backbone.requires_grad_(False)
            self.backbone.eval()

    @classmethod
    def from_preset(cls, name: str, **overrides) -> 'TimmVideoEncoder':
        """Build a named size of :data:`TIMM_VIDEO_PRESETS` (keyword arguments override it)."""
        if name not in TIMM_VIDEO_PRESETS:
            raise KeyError(f'unknown TimmVideoEncoder preset {name!r}; known: '
                           f'{sorted(TIMM_VIDEO_PRESETS)}')
        return cls(**dict(TIMM_VIDEO_PRESETS[name], **overrides))

    @property
    def out_dim(self) -> int:
        """Feature size ``D`` per frame (and per clip)."""
        return int(self.backbone.num_features)

    @property
    def data_config(self) -> dict:
        """timm's input settings of the backbone (``input_size``, ``mean``, ``std``, ...)."""
        return dict(self.backbone.pretrained_cfg or {})

    def _load_checkpoint(self, path: str, sha256: Optional[str]) -> None:
        path = osp.expanduser(path)
        state = safe_load(path, sha256=sha256)
        if isinstance(state, dict) and 'state_dict' in state:
            state = state['state_dict']
        if not isinstance(state, dict):
            raise ValueError(f'TimmVideoEncoder: {path} holds no state dict '
                             f'(found {type(state).__name__})')
        head = (self.backbone.pretrained_cfg or {}).get('classifier') or 'head'
        heads = (head,) if isinstance(head, str) else tuple(head)
        state = {k: v for k, v in state.items() if not k.startswith(tuple(h + '.' for h in heads))}
        missing, unexpected = self.backbone.load_state_dict(state, strict=False)
        if missing or unexpected:
            raise ValueError(f'TimmVideoEncoder: {path} does not fit {self.backbone_name}: '
                             f'missing keys {missing[:8]}, unexpected keys {unexpected[:8]}')

    def train(self, mode: bool = True):
        super().train(mode)
        if self.freeze:
            self.backbone.eval()
        return self

    def encode_frames(self, frames: torch.Tensor) -> torch.Tensor:
        """``(N, 3, H, W)`` frames -> ``(N, D)`` features."""
        chunk = self.frame_chunk or frames.shape[0]
        with torch.set_grad_enabled(torch.is_grad_enabled() and not self.freeze):
            return torch.cat([self.backbone(frames[i:i + chunk])
                              for i in range(0, frames.shape[0], chunk)], 0)

    def forward(self, frames: torch.Tensor, mask: Optional[torch.Tensor] = None) -> torch.Tensor:
        """Encode clips.

        Args:
            frames: ``(B, T, 3, H, W)`` float normalised frames.
            mask: ``(B, T)`` bool, True for real frames (padded clips); ``None`` = all real.

        Returns:
            ``(B, D)`` with ``pool='mean'``; ``(B, T, D)`` with ``pool='none'``.
        """
        if not isinstance(frames, torch.Tensor) or frames.ndim != 5 or frames.shape[2] != 3:
            shape = tuple(frames.shape) if hasattr(frames, 'shape') else type(frames).__name__
            raise ValueError(f'TimmVideoEncoder: frames must be a (B, T, 3, H, W) tensor, got {shape}')
        if not frames.is_floating_point():
            raise ValueError(f'TimmVideoEncoder: frames must be float (normalised), got {frames.dtype}; '
                             'put NormalizeFrames in the pipeline')
        b, t = frames.shape[:2]
        feats = self.encode_frames(frames.flatten(0, 1)).view(b, t, -1)
        if self.pool == 'none':
            return feats
        if mask is None:
            return feats.mean(1)
        mask = torch.as_tensor(mask, device=feats.device)
        if mask.shape != (b, t):
            raise ValueError(f'TimmVideoEncoder: mask must be ({b}, {t}), got {tuple(mask.shape)}')
        if not mask.any(1).all():
            raise ValueError('TimmVideoEncoder: a clip in the batch has no real frame (mask all False)')
        w = mask.to(feats.dtype).unsqueeze(-1)
        return (feats * w).sum(1) / w.sum(1)

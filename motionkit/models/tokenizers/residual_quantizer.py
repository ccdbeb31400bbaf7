"""``ResidualQuantizer``: residual vector quantisation as in MoMask (Guo et al., CVPR 2024).

``Q`` quantisers in sequence: layer 0 quantises the latent, layer ``q`` quantises what the layers
before it left over (``r_q = r_{q-1} - sg(e_{q-1})``, Zeghidour et al. 2021, Algorithm 1); the
quantised latent is the sum of the selected codes. Each layer is an :class:`EMAQuantizer`
(separate codebooks) or one codebook is used by all layers (``shared_codebook=True``).

Quantiser dropout (MoMask): during training, with probability ``dropout_prob``, only the first
``n`` layers are used, ``n`` uniform in ``[dropout_cutoff + 1, Q]``; the ids of dropped layers
are -1. This makes every prefix of the layers a usable coarse code. The number of active layers
is drawn on rank 0 and broadcast, so that all ranks run the same EMA all-reduces.
"""
from __future__ import annotations

import random
from typing import Optional

import torch
from mmengine import dist
from torch import nn

from motionkit.registry import MODELS
from .ema_quantizer import EMAQuantizer

__all__ = ['ResidualQuantizer']


@MODELS.register_module()
class ResidualQuantizer(nn.Module):
    """MoMask-style residual VQ over :class:`EMAQuantizer` layers.

    ``forward(x)`` with ``x`` ``(N, D)`` returns a dict like :class:`EMAQuantizer`'s, with
    ``ids`` ``(N, Q)`` (-1 for layers dropped by quantiser dropout) and ``commit_loss`` /
    ``perplexity`` / ``usage`` averaged over the active layers (MoMask averages the losses).

    Args:
        num_quantizers: Number of layers ``Q`` (6 in MoMask).
        codebook_size, code_dim, decay, reset_threshold, init_noise: Per-layer
            :class:`EMAQuantizer` settings (MoMask: 512 codes of 512 dims).
        shared_codebook: One codebook for all layers.
        dropout_prob: Probability of quantiser dropout per training step (MoMask: 0.2).
        dropout_cutoff: Layers ``0..dropout_cutoff`` are never dropped (MoMask: 0).
    """

    #: several codes per vector: ids are ``(N, Q)``
    multi_layer = True

    def __init__(self,
                 num_quantizers: int = 6,
                 codebook_size: int = 512,
                 code_dim: int = 512,
                 decay: float = 0.99,
                 reset_threshold: Optional[float] = 1.0,
                 init_noise: float = 0.01,
                 shared_codebook: bool = False,
                 dropout_prob: float = 0.2,
                 dropout_cutoff: int = 0) -> None:
        super().__init__()
        if num_quantizers < 1:
            raise ValueError(f'ResidualQuantizer: num_quantizers must be >= 1, got '
                             f'{num_quantizers}')
        if not 0.0 <= dropout_prob <= 1.0:
            raise ValueError(f'ResidualQuantizer: dropout_prob must be in [0, 1], got '
                             f'{dropout_prob}')
        if not 0 <= dropout_cutoff < num_quantizers:
            raise ValueError(f'ResidualQuantizer: dropout_cutoff must be in [0, '
                             f'{num_quantizers - 1}], got {dropout_cutoff}')
        self.num_quantizers = int(num_quantizers)
        self.codebook_size = int(codebook_size)
        self.code_dim = int(code_dim)
        self.shared_codebook = shared_codebook
        self.dropout_prob = float(dropout_prob)
        self.dropout_cutoff = int(dropout_cutoff)
        num_books = 1 if shared_codebook else num_quantizers
        self.quantizers = nn.ModuleList(
            EMAQuantizer(codebook_size, code_dim, decay, reset_threshold, init_noise)
            for _ in range(num_books))

    def layer(self, q: int) -> EMAQuantizer:
        """The quantiser of layer ``q``."""
        return self.quantizers[0 if self.shared_codebook else q]

    def _num_active(self) -> int:
        if not self.training or self.dropout_prob == 0 or self.num_quantizers == 1:
            return self.num_quantizers
        if random.random() < self.dropout_prob:
            n = random.randrange(self.dropout_cutoff, self.num_quantizers) + 1
        else:
            n = self.num_quantizers
        if dist.get_world_size() > 1:
            t = torch.tensor([n], device=self.quantizers[0].codebook.device)
            dist.broadcast(t, src=0)
            n = int(t.item())
        return n

    def quantize(self, x: torch.Tensor, num_layers: Optional[int] = None) -> torch.Tensor:
        """Code indices ``(N, Q)`` of ``x`` ``(N, D)`` with all layers (or the first
        ``num_layers``); no update."""
        num_layers = self.num_quantizers if num_layers is None else num_layers
        residual = x.float()
        ids = []
        for q in range(num_layers):
            layer = self.layer(q)
            idx = layer.quantize(residual)
            residual = residual - layer.dequantize(idx)
            ids.append(idx)
        return torch.stack(ids, dim=-1)

    def dequantize(self, ids: torch.Tensor) -> torch.Tensor:
        """Sum of the codes ``(..., D)`` of ``ids`` ``(..., Q')`` with ``Q' <= Q``; entries of -1
        (dropped layers) contribute nothing.

        Raises:
            ValueError: more than ``Q`` layers, or an id outside ``[-1, codebook_size)``.
        """
        ids = torch.as_tensor(ids)
        if ids.ndim < 1 or ids.shape[-1] > self.num_quantizers:
            raise ValueError(f'ResidualQuantizer: ids must be (..., Q) with Q <= '
                             f'{self.num_quantizers}, got shape {tuple(ids.shape)}')
        if ids.numel() and int(ids.min()) < -1:
            raise ValueError(f'ResidualQuantizer: ids must be >= -1 (-1 = dropped layer), got '
                             f'{int(ids.min())}')
        out = None
        for q in range(ids.shape[-1]):
            idx = ids[..., q]
            keep = idx >= 0
            codes = self.layer(q).dequantize(idx.clamp(min=0)) * keep[..., None]
            out = codes if out is None else out + codes
        return out

    def forward(self, x: torch.Tensor) -> dict:
        n_active = self._num_active()
        x_f = x.float()
        residual = x_f
        codes_sum = torch.zeros_like(residual)
        ids, commit, ppl, usage = [], [], [], []
        for q in range(self.num_quantizers):
            if q >= n_active:
                ids.append(torch.full_like(ids[0], -1))
                continue
            out = self.layer(q)(residual)
            # the next layer quantises what this one left (codes are constants, MoMask)
            residual = residual - out['quantized'].detach()
            codes_sum = codes_sum + out['quantized'].detach()
            ids.append(out['ids'])
            commit.append(out['commit_loss'])
            ppl.append(out['perplexity'])
            usage.append(out['usage'])
        # One straight-through estimator for the sum of the codes: the decoder's gradient reaches
        # the encoder once (MoMask adds a pass-through per layer, which scales it by Q).
        quantized = x_f + (codes_sum - x_f).detach()
        return dict(quantized=quantized.to(x.dtype), ids=torch.stack(ids, dim=-1),
                    commit_loss=sum(commit) / len(commit), perplexity=sum(ppl) / len(ppl),
                    usage=sum(usage) / len(usage), num_active=n_active)

    def extra_repr(self) -> str:
        return (f'num_quantizers={self.num_quantizers}, shared_codebook={self.shared_codebook}, '
                f'dropout_prob={self.dropout_prob}, dropout_cutoff={self.dropout_cutoff}')

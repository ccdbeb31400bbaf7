"""``EMAQuantizer``: vector quantiser with EMA codebook updates and dead-code reset.

The quantiser of T2M-GPT (Zhang et al., CVPR 2023, ``QuantizeEMAReset``), which follows
VQ-VAE-2 / Jukebox:

* nearest-code assignment by squared Euclidean distance;
* the codebook is not trained by gradients: per code ``k``, EMA statistics of the number of
  assigned vectors ``N_k`` and of their sum ``m_k`` are kept with decay ``decay`` (0.99), and the
  code is ``e_k = m_k / N_k`` (van den Oord et al. 2017, appendix A.1, without Laplace smoothing,
  as T2M-GPT);
* commitment loss ``||z - sg(e)||^2`` (mean over elements): its gradient reaches the encoder only;
* straight-through estimator: the decoder gets ``z + sg(e - z)``, so its gradient is copied onto z;
* the codebook is initialised from the first training batch (random encoder outputs; tiled with
  small noise when the batch has fewer vectors than codes);
* dead-code reset: a code whose EMA count ``N_k`` falls below ``reset_threshold`` (1.0) is
  re-initialised from a random encoder output of the current batch. Since ``N_k`` decays by
  ``decay`` per step, this is a usage window: a code that was used ``n`` times per step survives
  about ``log(1 / n) / log(decay)`` steps without use.

Inputs are flat ``(N, D)`` vectors: the caller selects the valid (unpadded) latent positions, so
padding never moves the codebook. Under DDP the batch statistics are summed over ranks and
initial / reset vectors come from rank 0, so every rank keeps the same codebook.
"""
from __future__ import annotations

import math
from typing import Optional

import torch
import torch.nn.functional as F
from mmengine import dist
from torch import nn

from motionkit.registry import MODELS

__all__ = ['EMAQuantizer', 'codebook_perplexity']


def codebook_perplexity(counts: torch.Tensor) -> torch.Tensor:
    """``exp(entropy)`` of the code-usage distribution given per-code counts ``(K,)``.

    Equals the number of codes for uniform usage and 1 when a single code is used.
    """
    counts = counts.float()
    total = counts.sum()
    if total <= 0:
        return counts.new_tensor(0.0)
    prob = counts / total
    nz = prob > 0
    return torch.exp(-(prob[nz] * prob[nz].log()).sum())


@MODELS.register_module()
class EMAQuantizer(nn.Module):
    """Single-codebook vector quantiser with EMA updates and dead-code reset (T2M-GPT).

    ``forward(x)`` with ``x`` ``(N, D)`` returns a dict:

    * ``quantized`` ``(N, D)``: straight-through output ``x + sg(e - x)``;
    * ``ids`` ``(N,)`` long: code indices;
    * ``commit_loss``: ``mean((x - sg(e))^2)`` (unweighted; the model applies its weight);
    * ``perplexity``, ``usage``: perplexity of the batch's code usage and the fraction of codes
      used in the batch (detached).

    In training mode the codebook is initialised on the first call and then updated by EMA after
    the assignment (the returned ``quantized`` uses the codebook before the update, as T2M-GPT).

    Args:
        codebook_size: Number of codes ``K`` (512 in T2M-GPT).
        code_dim: Code width ``D`` (512 in T2M-GPT).
        decay: EMA decay ``mu`` (0.99).
        reset_threshold: Dead-code rule: codes with EMA count below it are re-initialised after
            each update (1.0 in T2M-GPT). ``None`` disables the reset (plain EMA VQ).
        init_noise: Std of the noise added when the first batch must be tiled to fill the
            codebook, relative to ``1 / sqrt(D)`` (T2M-GPT: 0.01).
        eps: Floor of the EMA counts in ``m_k / N_k``.
    """

    #: one code per vector: ids are ``(N,)`` (a residual quantiser has ``(N, Q)``)
    multi_layer = False

    def __init__(self,
                 codebook_size: int = 512,
                 code_dim: int = 512,
                 decay: float = 0.99,
                 reset_threshold: Optional[float] = 1.0,
                 init_noise: float = 0.01,
                 eps: float = 1e-5) -> None:
        super().__init__()
        if codebook_size < 1 or code_dim < 1:
            raise ValueError(f'EMAQuantizer: codebook_size and code_dim must be >= 1, got '
                             f'{codebook_size} and {code_dim}')
        if not 0.0 <= decay < 1.0:
            raise ValueError(f'EMAQuantizer: decay must be in [0, 1), got {decay}')
        self.codebook_size = int(codebook_size)
        self.code_dim = int(code_dim)
        self.decay = float(decay)
        self.reset_threshold = reset_threshold
        self.init_noise = float(init_noise)
        self.eps = float(eps)
        # Buffers, not parameters: the optimiser never touches the codebook; all of them are
        # persistent so that a checkpoint resumes the EMA exactly.
        self.register_buffer('codebook', torch.zeros(codebook_size, code_dim))
        self.register_buffer('code_sum', torch.zeros(codebook_size, code_dim))
        self.register_buffer('code_count', torch.ones(codebook_size))
        self.register_buffer('initialized', torch.tensor(False))

    # ------------------------------------------------------------------ helpers
    @property
    def num_quantizers(self) -> int:
        return 1

    def _check_input(self, x: torch.Tensor) -> None:
        if x.ndim != 2 or x.shape[1] != self.code_dim:
            raise ValueError(f'EMAQuantizer: expected (N, {self.code_dim}) vectors, got shape '
                             f'{tuple(x.shape)}')

    def _random_rows(self, x: torch.Tensor, n: int) -> torch.Tensor:
        """``n`` random rows of ``x`` (without replacement when possible, tiled with noise
        otherwise); broadcast from rank 0 so that every rank uses the same vectors."""
        x = x.detach().float()
        if x.shape[0] >= n:
            rows = x[torch.randperm(x.shape[0], device=x.device)[:n]]
        else:
            reps = math.ceil(n / max(x.shape[0], 1))
            rows = x.repeat(reps, 1)[:n]
            rows = rows + torch.randn_like(rows) * (self.init_noise / math.sqrt(self.code_dim))
        rows = rows.contiguous()
        if dist.get_world_size() > 1:
            dist.broadcast(rows, src=0)
        return rows

    @torch.no_grad()
    def init_codebook(self, x: torch.Tensor) -> None:
        """Initialise the codebook with random vectors of ``x`` ``(N, D)`` (first batch)."""
        self._check_input(x)
        if x.shape[0] == 0:
            raise ValueError('EMAQuantizer: cannot initialise the codebook from an empty batch')
        rows = self._random_rows(x, self.codebook_size)
        self.codebook.copy_(rows)
        self.code_sum.copy_(rows)
        self.code_count.fill_(1.0)
        self.initialized.fill_(True)

    def distances(self, x: torch.Tensor) -> torch.Tensor:
        """Squared Euclidean distances ``(N, K)`` between ``x`` ``(N, D)`` and the codes."""
        cb = self.codebook
        return (x.pow(2).sum(-1, keepdim=True) - 2 * x @ cb.t() + cb.pow(2).sum(-1)[None])

    def quantize(self, x: torch.Tensor) -> torch.Tensor:
        """Nearest-code indices ``(N,)`` of ``x`` ``(N, D)``; no update."""
        self._check_input(x)
        if not bool(self.initialized):
            raise RuntimeError('EMAQuantizer: the codebook is not initialised; train the model '
                               'or load a checkpoint before encoding')
        if x.shape[0] == 0:
            return torch.zeros(0, dtype=torch.long, device=x.device)
        return self.distances(x.float()).argmin(dim=-1)

    def dequantize(self, ids: torch.Tensor) -> torch.Tensor:
        """Code vectors ``(..., D)`` of indices ``ids`` ``(...)``.

        Raises:
            ValueError: an index outside ``[0, codebook_size)``.
        """
        ids = torch.as_tensor(ids, device=self.codebook.device)
        if ids.dtype not in (torch.int16, torch.int32, torch.int64, torch.uint8):
            raise TypeError(f'EMAQuantizer: code ids must be integers, got dtype {ids.dtype}')
        if ids.numel() and (int(ids.min()) < 0 or int(ids.max()) >= self.codebook_size):
            bad = ids[(ids < 0) | (ids >= self.codebook_size)]
            raise ValueError(f'EMAQuantizer: code ids must be in [0, {self.codebook_size}), got '
                             f'{bad[:5].tolist()} ({bad.numel()} out of range)')
        return F.embedding(ids.long(), self.codebook)

    @torch.no_grad()
    def update_codebook(self, x: torch.Tensor, ids: torch.Tensor) -> torch.Tensor:
        """One EMA step with the assignments ``ids`` of ``x``; returns the batch counts ``(K,)``."""
        onehot = F.one_hot(ids, self.codebook_size).type_as(x)  # (N, K)
        batch_sum = onehot.t() @ x  # (K, D)
        batch_count = onehot.sum(0)  # (K,)
        if dist.get_world_size() > 1:
            # every rank must apply the same update (all_reduce sums in place)
            dist.all_reduce(batch_sum, op='sum')
            dist.all_reduce(batch_count, op='sum')
        self.code_sum.mul_(self.decay).add_(batch_sum, alpha=1.0 - self.decay)
        self.code_count.mul_(self.decay).add_(batch_count, alpha=1.0 - self.decay)
        self.codebook.copy_(self.code_sum / self.code_count.clamp(min=self.eps)[:, None])
        if self.reset_threshold is not None:
            dead = self.code_count < self.reset_threshold
            if bool(dead.any()):
                fresh = self._random_rows(x, self.codebook_size)
                # restart the statistics of a reset code as a freshly initialised one
                self.codebook[dead] = fresh[dead]
                self.code_sum[dead] = fresh[dead]
                self.code_count[dead] = 1.0
        return batch_count

    # ------------------------------------------------------------------ forward
    def forward(self, x: torch.Tensor) -> dict:
        self._check_input(x)
        if x.shape[0] == 0:
            raise ValueError('EMAQuantizer: empty input (no valid latent vector in the batch)')
        x_f = x.float()
        if self.training and not bool(self.initialized):
            self.init_codebook(x_f)
        elif not bool(self.initialized):
            raise RuntimeError('EMAQuantizer: the codebook is not initialised; train the model '
                               'or load a checkpoint before encoding')
        with torch.no_grad():
            ids = self.distances(x_f.detach()).argmin(dim=-1)
        codes = F.embedding(ids, self.codebook).detach()  # codebook before this step's update
        if self.training:
            counts = self.update_codebook(x_f.detach(), ids)
        else:
            counts = torch.bincount(ids, minlength=self.codebook_size).float()
        # commitment: the codes are constants, the gradient flows to the encoder only
        commit_loss = F.mse_loss(x_f, codes)
        quantized = x_f + (codes - x_f).detach()
        return dict(quantized=quantized.to(x.dtype), ids=ids, commit_loss=commit_loss,
                    perplexity=codebook_perplexity(counts).detach(),
                    usage=(counts > 0).float().mean().detach())

    def extra_repr(self) -> str:
        return (f'codebook_size={self.codebook_size}, code_dim={self.code_dim}, '
                f'decay={self.decay}, reset_threshold={self.reset_threshold}')

"""Recognizer guidance of CoAMD (sec. 3.3, eq. 6-8): one normalised gradient-ascent step on the
latent tokens towards motions the action recognizer matches with the text.

At a sampling step the current latents ``z'`` are decoded to joints, the recognizer scores them
against the text, ``S = sum_k w_k cos(R^k(D(z')), c)`` over its fused, joint, bone and motion
embeddings (eq. 6), and (eq. 7-8)::

    g     = dS / dz'                    (autograd through the recognizer and the decoder)
    g_hat = g / (||g||_2 + eps)         (per motion)
    z'   <- z' + gamma * g_hat * M      (M: the tokens masked at this step)

The reference code (jidongkuang/CoAMD ``MARDM.generate``) takes the norm over the whole latent
sequence of each motion and then keeps the masked tokens, so the step's norm is
``gamma * ||g * M|| / ||g||`` (= gamma when every token is masked): ``norm='all'``, the default.
``norm='masked'`` normalises the gradient of the masked tokens alone (a step of norm exactly
``gamma``).
"""
from __future__ import annotations

import math
from typing import Callable, Dict, Mapping, Protocol, Sequence, Union, runtime_checkable

import torch

__all__ = ['GuidanceRecognizer', 'GUIDANCE_STREAMS', 'DEFAULT_GUIDANCE_WEIGHTS',
           'check_guidance_weights', 'recognizer_guidance_step']

#: The embeddings eq. 6 sums over, in the order of a guidance weight vector.
GUIDANCE_STREAMS = ('fused', 'joint', 'bone', 'motion')
#: The reference code's weights: 0.7 on the fused embedding, 0.1 on each stream.
DEFAULT_GUIDANCE_WEIGHTS = (0.7, 0.1, 0.1, 0.1)


@runtime_checkable
class GuidanceRecognizer(Protocol):
    """What recognizer guidance needs from an action recognizer (e.g. CoAMD's MAR).

    ``score(joints (B, T, J, 3) metres, texts (list of B str) or text embeddings (B, D),
    weights={embedding: w_k} or None, lengths=(B,) or None) -> (B,)`` is eq. 6, differentiable
    w.r.t. ``joints``; the embeddings are named ``'fused'``, ``'joint'``, ``'bone'``, ``'motion'``
    (a recognizer lists its own in ``embedding_names``). ``encode_text`` (optional) embeds the texts
    once per sampling call instead of at every step.
    """

    def score(self, joints: torch.Tensor, texts_or_text_emb, weights=None,
              lengths=None) -> torch.Tensor:
        ...


def check_guidance_weights(weights: Union[Mapping[str, float], Sequence[float]], owner: str,
                           names: Sequence[str] = GUIDANCE_STREAMS) -> Dict[str, float]:
    """Validate the ``w_k`` of eq. 6 and return them as ``{embedding: weight}``.

    Args:
        weights: a dict over a subset of ``names`` (missing embeddings weigh 0), or a sequence
            with one weight per entry of ``names``, in that order (default
            ``(fused, joint, bone, motion)``).
        owner: named in the errors.
        names: the embeddings a weight may refer to.

    Raises:
        TypeError: neither a dict nor a sequence.
        ValueError: a sequence of the wrong length, non-finite weights.
        KeyError: a dict key that is not in ``names``.
    """
    names = tuple(names)
    if isinstance(weights, Mapping):
        unknown = [k for k in weights if k not in names]
        if unknown:
            raise KeyError(f'{owner}: guidance_weights names unknown embedding(s) {unknown}; '
                           f'known: {list(names)}')
        out = {str(k): float(v) for k, v in weights.items()}
    else:
        if isinstance(weights, (str, bytes)) or not isinstance(weights, Sequence):
            raise TypeError(f'{owner}: guidance_weights must be a dict or a sequence of '
                            f'{len(names)} floats {names}, got {type(weights).__name__}')
        if len(weights) != len(names):
            raise ValueError(f'{owner}: guidance_weights needs one weight per recognizer embedding '
                             f'{names} ({len(names)} values), got {len(weights)}: {list(weights)}')
        out = {k: float(w) for k, w in zip(names, weights)}
    if not all(math.isfinite(w) for w in out.values()):
        raise ValueError(f'{owner}: guidance_weights must be finite, got {out}')
    return out


def recognizer_guidance_step(latents: torch.Tensor, step_mask: torch.Tensor,
                             score_fn: Callable[[torch.Tensor], torch.Tensor],
                             gamma: float, norm: str = 'all', eps: float = 1e-8
                             ) -> tuple:
    """One guidance update (eq. 7-8).

    Args:
        latents: ``(B, L, D)`` current tokens ``z'``.
        step_mask: ``(B, L)`` bool, the tokens masked at this step (``M``).
        score_fn: ``z' -> S`` ``(B,)`` (decode + recognizer score, eq. 6), differentiable.
        gamma: step size.
        norm: ``'all'`` (the reference: norm over every token of the motion) or ``'masked'``
            (norm over the masked tokens only).
        eps: added to the norm.

    Returns:
        ``(new_latents, info)``: the updated ``(B, L, D)`` tokens (unchanged outside
        ``step_mask``) and ``dict(score=(B,), grad_norm=(B,))`` before the update, detached.
    """
    if norm not in ('all', 'masked'):
        raise ValueError(f"recognizer_guidance_step: norm must be 'all' or 'masked', got {norm!r}")
    if step_mask.shape != latents.shape[:2]:
        raise ValueError(f'recognizer_guidance_step: step_mask {tuple(step_mask.shape)} does not '
                         f'match the latents {tuple(latents.shape[:2])}')
    z = latents.detach().requires_grad_(True)
    with torch.enable_grad():
        score = score_fn(z)
        if score.shape != (latents.shape[0], ):
            raise ValueError(f'recognizer_guidance_step: the score must be ({latents.shape[0]},), '
                             f'got {tuple(score.shape)}')
        if not bool(torch.isfinite(score).all()):
            raise FloatingPointError('recognizer_guidance_step: the recognizer score is NaN/inf')
        grad, = torch.autograd.grad(score.sum(), z)
    m = step_mask[..., None].to(grad.dtype)
    if norm == 'masked':
        grad = grad * m
    grad_norm = grad.flatten(1).norm(dim=1)
    g_hat = grad / (grad_norm.view(-1, 1, 1) + eps)
    new = latents + gamma * g_hat * m
    return new, dict(score=score.detach(), grad_norm=grad_norm.detach())

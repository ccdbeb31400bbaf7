"""Preference-optimisation losses over sequence log-probabilities (DPO, IPO, KTO, SFT on winners).

Every function takes per-sequence log-probabilities of the policy and of the frozen reference
model, as :func:`motionkit.models.llm_heads.sequence_log_probs` returns them: the *sum* over the
response tokens ``(B,)`` and, for the averaged variants, the number of response tokens ``(B,)``.
With ``average_log_prob=True`` each log-probability is divided by its token count before anything
else (AToM's reference code does this for IPO, following TRL's ``ipo`` loss).

Notation: ``r(x, y) = log pi(y|x) - log pi_ref(y|x)`` is the implicit reward (without beta) and
``h = r(x, y_w) - r(x, y_l)`` the log-ratio margin of a pair (winner ``y_w``, loser ``y_l``).
Each function returns a dict with ``loss`` (a scalar, the batch mean) and the statistics a
training log shows: the rewards ``beta * r`` of chosen / rejected responses, their margin and the
reward accuracy (the fraction of pairs whose chosen reward is the larger one).
"""
from __future__ import annotations

from typing import Dict, Optional

import torch
import torch.nn.functional as F

__all__ = ['dpo_loss', 'ipo_loss', 'kto_loss', 'kto_reference_point', 'sft_loss', 'PREFERENCE_LOSSES']

PREFERENCE_LOSSES = ('dpo', 'ipo', 'kto', 'sft')


def _check_1d(name: str, x: torch.Tensor, n: Optional[int] = None) -> None:
    if not isinstance(x, torch.Tensor) or x.dim() != 1:
        shape = tuple(x.shape) if isinstance(x, torch.Tensor) else type(x).__name__
        raise ValueError(f'preference loss: {name} must be a (B,) tensor of sequence log-probabilities, '
                         f'got {shape}')
    if n is not None and x.shape[0] != n:
        raise ValueError(f'preference loss: {name} has {x.shape[0]} entries, expected {n}')
    if x.is_floating_point() and not torch.isfinite(x).all():
        raise ValueError(f'preference loss: {name} has non-finite values: {x.tolist()}')


def _log_prob(name: str, logps: torch.Tensor, n_tokens: Optional[torch.Tensor], average: bool,
              batch: int) -> torch.Tensor:
    """The sequence log-probability used by a loss: the sum, or the sum / token count."""
    _check_1d(name, logps, batch)
    if not average:
        return logps
    if n_tokens is None:
        raise ValueError(f'preference loss: average_log_prob=True needs the token counts of {name}')
    n_tokens = torch.as_tensor(n_tokens, device=logps.device)
    _check_1d(f'{name} token counts', n_tokens, batch)
    if (n_tokens <= 0).any():
        raise ValueError(f'preference loss: {name} has responses with no scored token: {n_tokens.tolist()}')
    return logps / n_tokens.to(logps.dtype)


def _pair_terms(policy_chosen, policy_rejected, reference_chosen, reference_rejected, chosen_tokens,
                rejected_tokens, average_log_prob):
    b = policy_chosen.shape[0] if isinstance(policy_chosen, torch.Tensor) else -1
    pc = _log_prob('policy_chosen_logps', policy_chosen, chosen_tokens, average_log_prob, b)
    pr = _log_prob('policy_rejected_logps', policy_rejected, rejected_tokens, average_log_prob, b)
    rc = _log_prob('reference_chosen_logps', reference_chosen, chosen_tokens, average_log_prob, b)
    rr = _log_prob('reference_rejected_logps', reference_rejected, rejected_tokens, average_log_prob, b)
    # the reference is a constant (computed under no_grad or from a frozen copy)
    return pc - rc.detach(), pr - rr.detach()


def _pair_stats(r_chosen: torch.Tensor, r_rejected: torch.Tensor, beta: float) -> Dict[str, torch.Tensor]:
    chosen = (beta * r_chosen).detach()
    rejected = (beta * r_rejected).detach()
    return dict(chosen_rewards=chosen, rejected_rewards=rejected, margins=chosen - rejected,
                accuracy=(chosen > rejected).float().mean())


def dpo_loss(policy_chosen_logps: torch.Tensor,
             policy_rejected_logps: torch.Tensor,
             reference_chosen_logps: torch.Tensor,
             reference_rejected_logps: torch.Tensor,
             beta: float = 0.1,
             chosen_tokens: Optional[torch.Tensor] = None,
             rejected_tokens: Optional[torch.Tensor] = None,
             average_log_prob: bool = False) -> Dict[str, torch.Tensor]:
    """DPO (Rafailov et al., 2023, eq. 7): ``-log sigmoid(beta * h)``, batch mean.

    Args:
        policy_chosen_logps, policy_rejected_logps: ``(B,)`` summed response log-probabilities
            under the policy (with gradient).
        reference_chosen_logps, reference_rejected_logps: ``(B,)`` the same under the reference.
        beta: the KL-penalty strength beta.
        chosen_tokens, rejected_tokens: ``(B,)`` response token counts (for
            ``average_log_prob``).
        average_log_prob: divide each log-probability by its token count first.

    Returns:
        ``dict(loss, chosen_rewards (B,), rejected_rewards (B,), margins (B,), accuracy)``; the
        rewards are ``beta * r`` and detached.
    """
    r_w, r_l = _pair_terms(policy_chosen_logps, policy_rejected_logps, reference_chosen_logps,
                           reference_rejected_logps, chosen_tokens, rejected_tokens, average_log_prob)
    loss = -F.logsigmoid(beta * (r_w - r_l)).mean()
    return dict(loss=loss, **_pair_stats(r_w, r_l, beta))


def ipo_loss(policy_chosen_logps: torch.Tensor,
             policy_rejected_logps: torch.Tensor,
             reference_chosen_logps: torch.Tensor,
             reference_rejected_logps: torch.Tensor,
             beta: float = 0.1,
             chosen_tokens: Optional[torch.Tensor] = None,
             rejected_tokens: Optional[torch.Tensor] = None,
             average_log_prob: bool = True) -> Dict[str, torch.Tensor]:
    """IPO (Azar et al., 2023, eq. 17; AToM eq. 8): ``(h - 1 / (2 beta))^2``, batch mean.

    The regression target ``1 / (2 beta)`` is the paper's ``tau^-1 / 2`` with ``tau = beta``.
    By default the log-probabilities are averaged over the response tokens, as AToM's reference
    code (InstructMotion, TRL's ``ipo`` loss type) computes them; pass ``average_log_prob=False``
    for the summed form. Arguments and return value as :func:`dpo_loss`.
    """
    if beta <= 0:
        raise ValueError(f'ipo_loss: beta must be > 0 (the target is 1 / (2 beta)), got {beta}')
    r_w, r_l = _pair_terms(policy_chosen_logps, policy_rejected_logps, reference_chosen_logps,
                           reference_rejected_logps, chosen_tokens, rejected_tokens, average_log_prob)
    loss = ((r_w - r_l) - 1.0 / (2.0 * beta)).pow(2).mean()
    return dict(loss=loss, **_pair_stats(r_w, r_l, beta))


def kto_reference_point(kl_policy_logps: torch.Tensor, kl_reference_logps: torch.Tensor) -> torch.Tensor:
    """KTO's reference point (Ethayarajh et al., 2024, sec. 4.1): the batch estimate of
    ``KL(pi || pi_ref)`` from mismatched (prompt, other response) pairs, ``mean(log pi - log
    pi_ref)``, clamped at 0 and detached (no gradient flows through ``z_ref``)."""
    _check_1d('kl_policy_logps', kl_policy_logps)
    _check_1d('kl_reference_logps', kl_reference_logps, kl_policy_logps.shape[0])
    return (kl_policy_logps - kl_reference_logps).mean().clamp(min=0).detach()


def kto_loss(policy_logps: torch.Tensor,
             reference_logps: torch.Tensor,
             desirable: torch.Tensor,
             kl_policy_logps: Optional[torch.Tensor] = None,
             kl_reference_logps: Optional[torch.Tensor] = None,
             beta: float = 0.1,
             desirable_weight: float = 1.0,
             undesirable_weight: float = 1.0,
             reference_point: Optional[torch.Tensor] = None,
             n_tokens: Optional[torch.Tensor] = None,
             average_log_prob: bool = False) -> Dict[str, torch.Tensor]:
    """KTO (Ethayarajh et al., 2024, sec. 4.1, the KTO loss): unpaired responses, each desirable or not.

    With ``r = log pi(y|x) - log pi_ref(y|x)`` and the reference point ``z_ref``
    (:func:`kto_reference_point`), the value is ``v = lambda_D sigmoid(beta (r - z_ref))`` for a
    desirable response and ``lambda_U sigmoid(beta (z_ref - r))`` for an undesirable one; the loss
    is the mean of ``lambda_y - v`` over the batch.

    Args:
        policy_logps, reference_logps: ``(N,)`` summed response log-probabilities.
        desirable: ``(N,)`` bool, True for desirable (chosen) responses.
        kl_policy_logps, kl_reference_logps: ``(M,)`` log-probabilities of mismatched
            (prompt, response) pairs for ``z_ref``; or give ``reference_point`` (e.g. after
            averaging the estimate over processes).
        beta: beta; desirable_weight / undesirable_weight: lambda_D / lambda_U.
        n_tokens, average_log_prob: as in :func:`dpo_loss` (applied to ``policy_logps`` /
            ``reference_logps`` only; ``z_ref`` is given as it is).

    Returns:
        ``dict(loss, chosen_rewards, rejected_rewards, reference_point, accuracy)``: rewards
        ``beta * r`` of the desirable / undesirable responses (detached); accuracy is the mean of
        ``r > z_ref`` for desirable and ``r < z_ref`` for undesirable responses.
    """
    n = policy_logps.shape[0] if isinstance(policy_logps, torch.Tensor) else -1
    p = _log_prob('policy_logps', policy_logps, n_tokens, average_log_prob, n)
    r_ref = _log_prob('reference_logps', reference_logps, n_tokens, average_log_prob, n)
    desirable = torch.as_tensor(desirable, device=p.device)
    _check_1d('desirable', desirable, n)
    desirable = desirable.bool()
    if reference_point is None:
        if kl_policy_logps is None or kl_reference_logps is None:
            raise ValueError('kto_loss: give kl_policy_logps and kl_reference_logps (mismatched pairs) or '
                             'reference_point')
        z = kto_reference_point(kl_policy_logps, kl_reference_logps)
    else:
        z = torch.as_tensor(reference_point, dtype=p.dtype, device=p.device).detach()
    r = p - r_ref.detach()
    value = torch.where(desirable, desirable_weight * torch.sigmoid(beta * (r - z)),
                        undesirable_weight * torch.sigmoid(beta * (z - r)))
    weight = torch.where(desirable, torch.full_like(r, desirable_weight), torch.full_like(r, undesirable_weight))
    loss = (weight - value).mean()
    rewards = (beta * r).detach()
    correct = torch.where(desirable, r > z, r < z).float()
    return dict(loss=loss, chosen_rewards=rewards[desirable], rejected_rewards=rewards[~desirable],
                reference_point=z, accuracy=correct.mean())


def sft_loss(chosen_logps: torch.Tensor, chosen_tokens: torch.Tensor) -> Dict[str, torch.Tensor]:
    """Supervised fine-tuning on the winners: the negative log-likelihood per response token over
    the batch, ``-sum_i log pi(y_w,i|x_i) / sum_i |y_w,i|`` (the token mean a language-model
    cross-entropy takes). Returns ``dict(loss)``."""
    _check_1d('chosen_logps', chosen_logps)
    chosen_tokens = torch.as_tensor(chosen_tokens, device=chosen_logps.device)
    _check_1d('chosen_tokens', chosen_tokens, chosen_logps.shape[0])
    total = chosen_tokens.sum()
    if total <= 0:
        raise ValueError('sft_loss: the chosen responses have no scored token')
    return dict(loss=-chosen_logps.sum() / total.to(chosen_logps.dtype))

"""Sequence log-probabilities of responses under a Hugging Face language model.

Preference losses (:mod:`motionkit.models.losses.preference`) compare ``log pi(y|x)`` of whole
responses under the policy and the reference. Only response tokens count: the labels of
:meth:`MotionLanguageModel.build_batch` are ``-100`` on the prompt and on padding, and those
positions contribute neither log-probability nor token count.

* causal LMs: the logit at position ``t`` predicts the token at ``t + 1`` (``shift=True``);
* seq2seq LMs (T5): the decoder logit at ``t`` predicts label ``t`` (``shift=False``); the decoder
  inputs are the labels shifted right (the model's ``prepare_decoder_input_ids_from_labels``).
"""
from __future__ import annotations

from typing import Tuple

import torch

__all__ = ['sequence_log_probs', 'lm_sequence_log_probs']


def sequence_log_probs(logits: torch.Tensor, labels: torch.Tensor, shift: bool = False,
                       ignore_index: int = -100) -> Tuple[torch.Tensor, torch.Tensor]:
    """Summed log-probabilities of the labelled tokens and their count, per sequence.

    Args:
        logits: ``(B, T, V)`` next-token logits.
        labels: ``(B, T)`` token ids, ``ignore_index`` where a position is not scored.
        shift: ``True`` for causal LMs (logit ``t`` scores label ``t + 1``).
        ignore_index: label of unscored positions (prompt, padding).

    Returns:
        ``(sum_logp (B,), n_tokens (B,) long)``; the sums keep the logits' dtype (float32 or wider
        recommended: half-precision sums over long responses lose digits).
    """
    if logits.dim() != 3 or labels.dim() != 2 or logits.shape[:2] != labels.shape:
        raise ValueError(f'sequence_log_probs: expected logits (B, T, V) and labels (B, T), got '
                         f'{tuple(logits.shape)} and {tuple(labels.shape)}')
    if shift:
        logits, labels = logits[:, :-1], labels[:, 1:]
    mask = labels != ignore_index
    safe = labels.masked_fill(~mask, 0)
    if mask.any() and int(safe.max()) >= logits.shape[-1]:
        raise ValueError(f'sequence_log_probs: label id {int(safe.max())} is outside the vocabulary of '
                         f'{logits.shape[-1]} logits')
    # log_softmax at the label only: logit - logsumexp (no second (B, T, V) tensor)
    picked = logits.gather(-1, safe.unsqueeze(-1)).squeeze(-1) - torch.logsumexp(logits, dim=-1)
    return (picked * mask).sum(-1), mask.sum(-1)


def lm_sequence_log_probs(lm, batch: dict, is_seq2seq: bool) -> Tuple[torch.Tensor, torch.Tensor]:
    """Run ``lm`` (a ``PreTrainedModel`` or peft model) on a :meth:`MotionLanguageModel.build_batch`
    training batch (``input_ids``, ``attention_mask``, ``labels``; or ``inputs_embeds``) and
    return :func:`sequence_log_probs` of its labelled (response) tokens."""
    for key in ('attention_mask', 'labels'):
        if key not in batch:
            raise KeyError(f'lm_sequence_log_probs: the batch lacks {key!r} (keys: {sorted(batch)})')
    labels = batch['labels']
    kwargs = {k: batch[k] for k in ('input_ids', 'inputs_embeds', 'attention_mask') if k in batch}
    if is_seq2seq:
        # decoder inputs from the labels (shifted right, -100 -> pad); no label loss is computed
        # (right padding: the causal decoder never lets a padded position reach a scored one)
        kwargs['decoder_input_ids'] = lm.prepare_decoder_input_ids_from_labels(labels=labels)
    logits = lm(**kwargs).logits.float()
    return sequence_log_probs(logits, labels, shift=not is_seq2seq)

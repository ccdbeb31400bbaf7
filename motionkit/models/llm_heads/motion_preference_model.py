"""``MotionPreferenceModel``: preference fine-tuning of a text-to-motion language model (AToM).

AToM (Han et al., CVPR 2025, sec. 3.3) aligns a MotionGPT-style text-to-motion LM with VLM
preferences: for a text prompt ``x`` the LM writes motion tokens ``y``; pairs (chosen ``y_w``,
rejected ``y_l``) train a LoRA adapter with IPO (eq. 8). The reference policy ``pi_ref`` is the
same LM with the adapter switched off (peft ``disable_adapter()``), so no second copy is kept;
in full fine-tuning it is a frozen copy of the initial weights. AToM's defaults: IPO on
log-probabilities averaged over the response tokens, ``beta = 0.1``, LoRA ``r = 8``,
``alpha = 16``, dropout 0.05 (the reference code, InstructMotion on MotionGPT). DPO, KTO and SFT
on the winners are the paper's comparisons (table 6c, fig. 5).
"""
from __future__ import annotations

import copy
import re
from typing import Dict, List, Optional, Sequence, Union

import torch
from mmengine.model import BaseModel
from torch import nn

from motionkit.models.losses.preference import (PREFERENCE_LOSSES, dpo_loss, ipo_loss, kto_loss,
                                                sft_loss)
from motionkit.registry import MODELS
from .sequence_log_probs import lm_sequence_log_probs

__all__ = ['MotionPreferenceModel', 'ATOM_LORA', 'load_policy_weights']

# AToM's LoRA defaults (InstructMotion's peft config on MotionGPT's T5)
ATOM_LORA = dict(r=8, alpha=16, dropout=0.05)
_MOTION_ID = re.compile(r'<motion_id_(\d+)>')


def _disable_dropout(lm: nn.Module) -> None:
    """Zero the backbone's dropout: ``nn.Dropout`` modules and the float rates attention layers
    pass to ``F.dropout`` (T5's ``dropout``, Llama's ``attention_dropout``); LoRA's dropout stays."""
    for name, module in lm.named_modules():
        if 'lora_dropout' in name:
            continue
        if isinstance(module, nn.Dropout):
            module.p = 0.0
        for attr in ('dropout', 'attention_dropout'):
            if isinstance(getattr(module, attr, None), float):
                setattr(module, attr, 0.0)


def load_policy_weights(llm: nn.Module, checkpoint: str, prefix: str = 'llm.') -> None:
    """Load the ``prefix`` entries of ``checkpoint`` into a bare (not yet LoRA-wrapped)
    :class:`MotionLanguageModel`, strictly. A word-level vocabulary stored with the weights
    (``_extra_state``) that differs from the one ``llm`` built from its corpus replaces it first, and
    the embeddings are resized to it, so the token ids are the checkpoint's.

    Raises:
        FileNotFoundError: no such file.
        KeyError: the checkpoint has no entry under ``prefix``.
        RuntimeError: missing / unexpected keys or shape mismatches (naming the file).
    """
    import json
    import os

    from mmengine.runner.checkpoint import _load_checkpoint

    from motionkit.utils.checkpoint import install_safe_checkpoint_loader
    from .word_level_tokenizer import make_word_tokenizer
    if not os.path.isfile(checkpoint):
        raise FileNotFoundError(f'MotionPreferenceModel: init_checkpoint not found: {checkpoint} (train the '
                                'text-to-motion model first: MotionGPT stage 2)')
    install_safe_checkpoint_loader()
    ckpt = _load_checkpoint(checkpoint, map_location='cpu')
    state = ckpt.get('state_dict', ckpt) if isinstance(ckpt, dict) else ckpt
    state = {k[len(prefix):]: v for k, v in state.items() if k.startswith(prefix)}
    state = {k[len('module.'):] if k.startswith('module.') else k: v for k, v in state.items()}
    if not state:
        raise KeyError(f'MotionPreferenceModel: {checkpoint} has no weights under {prefix!r}')
    extra = state.get('_extra_state')
    if getattr(llm, '_word_level', False) and isinstance(extra, torch.Tensor) and extra.numel():
        vocab = json.loads(bytes(extra.tolist()).decode('utf-8')).get('vocab')
        if vocab and vocab != llm._vocab:
            added = [t for t in llm.tokenizer.get_added_vocab() if t not in vocab]
            llm._vocab = list(vocab)
            llm.tokenizer = make_word_tokenizer(llm._vocab, added)
            llm.lm.resize_token_embeddings(len(llm.tokenizer))
    try:
        llm.load_state_dict(state, strict=True)
    except RuntimeError as e:
        raise RuntimeError(f'MotionPreferenceModel: the {prefix!r} weights of {checkpoint} do not fit the '
                           f'policy built from the config (same backbone, motion_token_strategy and '
                           f'codebook_size?): {e}') from None


@MODELS.register_module()
class MotionPreferenceModel(BaseModel):
    """A :class:`MotionLanguageModel` policy trained on (prompt, chosen motion, rejected motion).

    Args:
        llm: config of the ``MotionLanguageModel`` policy. Its template must have one field (the
            text prompt, e.g. ``'generate the motion of : {text} . motion :'``); the response is
            the motion's token text (``motion_token_strategy`` ``'text'`` or ``'extended'``).
            ``finetune`` defaults to ``'lora'`` with :data:`ATOM_LORA` (keys not given are
            filled from it); ``'full'`` keeps a frozen copy as the reference.
        loss_type: ``'ipo'`` (AToM eq. 8, default), ``'dpo'``, ``'kto'`` or ``'sft'`` (cross-entropy
            on the chosen motions only; no reference needed).
        beta: beta of DPO / IPO / KTO.
        average_log_prob: divide sequence log-probabilities by the response length. ``None``:
            True for IPO (AToM's reference code), False for DPO and KTO.
        kto_weights: ``dict(desirable=lambda_D, undesirable=lambda_U)`` (KTO); chosen motions are
            the desirable examples, rejected ones the undesirable, and the reference point uses
            each prompt with the response of another row (averaged over processes).
        sft_weight: adds ``sft_weight *`` the SFT loss on the chosen motions to DPO / IPO / KTO.
        disable_dropout: zero the backbone's dropout (LoRA's own dropout is kept) so that policy
            and reference score the same responses alike at the start (``h = 0``).
        init_checkpoint: a checkpoint whose ``init_prefix`` entries are this policy's weights
            before fine-tuning (AToM starts from the trained MotionGPT: the stage-2 / stage-3
            :class:`MotionTextLM` checkpoint, whose LM lives under ``llm.``). They are loaded into
            the bare LM *before* the LoRA adapter is added, so the reference (adapter off) is that
            model; a word-level vocabulary stored in the checkpoint replaces the one built from
            the config's corpus (the same words, the same ids). Loading is strict: a missing or
            unexpected key or a shape mismatch is an error naming the file.
        init_prefix: prefix of the LM's entries in ``init_checkpoint`` (``'llm.'`` for a
            ``MotionTextLM`` or another ``MotionPreferenceModel``).
        data_preprocessor: default ``BaseDataPreprocessor`` (device moves only).

    ``forward(inputs, data_samples, mode)`` takes ``inputs = dict(prompts=[B str], chosen=[B
    list[int]], rejected=[B list[int]])`` (``preference_collate``): ``'loss'`` -> ``dict(loss_<type>,
    [loss_sft], reward_chosen, reward_rejected, reward_margin, reward_accuracy)``; ``'predict'`` ->
    one dict per pair with ``pred_chosen_logp``, ``pred_rejected_logp`` (policy),
    ``pred_reward_margin`` (``beta * h``) and ``pred_prefers_chosen``; ``'tensor'`` -> the policy's
    ``(chosen, rejected)`` log-probabilities.
    """

    def __init__(self,
                 llm: dict,
                 loss_type: str = 'ipo',
                 beta: float = 0.1,
                 average_log_prob: Optional[bool] = None,
                 kto_weights: Optional[dict] = None,
                 sft_weight: float = 0.0,
                 disable_dropout: bool = True,
                 init_checkpoint: Optional[str] = None,
                 init_prefix: str = 'llm.',
                 data_preprocessor: Optional[Union[dict, nn.Module]] = None,
                 init_cfg: Optional[dict] = None) -> None:
        super().__init__(data_preprocessor=data_preprocessor, init_cfg=init_cfg)
        if loss_type not in PREFERENCE_LOSSES:
            raise ValueError(f'MotionPreferenceModel: loss_type must be one of {PREFERENCE_LOSSES}, got {loss_type!r}')
        if beta <= 0:
            raise ValueError(f'MotionPreferenceModel: beta must be > 0, got {beta}')
        kto_weights = dict(kto_weights or {})
        unknown = set(kto_weights) - {'desirable', 'undesirable'}
        if unknown:
            raise KeyError(f'MotionPreferenceModel: kto_weights takes desirable / undesirable, got {sorted(unknown)}')
        self.loss_type = loss_type
        self.beta = float(beta)
        self.average_log_prob = (loss_type == 'ipo') if average_log_prob is None else bool(average_log_prob)
        self.desirable_weight = float(kto_weights.get('desirable', 1.0))
        self.undesirable_weight = float(kto_weights.get('undesirable', 1.0))
        self.sft_weight = float(sft_weight)

        llm = dict(llm)
        llm.setdefault('type', 'MotionLanguageModel')
        llm.setdefault('finetune', 'lora')
        if llm['finetune'] == 'lora':
            llm['lora'] = dict(ATOM_LORA, **(llm.get('lora') or {}))
        if llm['finetune'] == 'frozen':
            raise ValueError("MotionPreferenceModel: llm.finetune='frozen' leaves nothing to train; use 'lora' or 'full'")
        finetune, lora = llm['finetune'], llm.get('lora')
        if init_checkpoint:  # build the bare LM, load the starting weights, then add the adapter
            llm['finetune'] = 'full'
            llm.pop('lora', None)
        self.llm = MODELS.build(llm)
        self.init_checkpoint = init_checkpoint
        if init_checkpoint:
            load_policy_weights(self.llm, init_checkpoint, init_prefix)
            if finetune == 'lora':
                self.llm.lm = self.llm._wrap_lora(lora)
                self.llm.finetune = 'lora'
        if self.llm.strategy == 'continuous':
            raise ValueError("MotionPreferenceModel: responses are motion tokens; use motion_token_strategy 'text' "
                             "or 'extended', not 'continuous'")
        if len(self.llm.fields) != 1:
            raise ValueError(f'MotionPreferenceModel: the prompt template needs exactly one field (the text '
                             f'prompt), got {self.llm.fields} in {self.llm.template!r}')
        if disable_dropout:
            _disable_dropout(self.llm.lm)
        # pi_ref: the adapter switched off (LoRA) or a frozen copy of the initial weights (full)
        self.reference_lm = None
        if self.llm.finetune == 'full' and loss_type != 'sft':
            self.reference_lm = copy.deepcopy(self.llm.lm).requires_grad_(False).eval()

    def init_weights(self) -> None:
        """Keep the weights as built. mmengine's recursive ``init_weights`` (the Runner calls it)
        would reach transformers' ``init_weights`` through the peft model, which draws the fresh
        LoRA matrices again (``B`` no longer 0), so the policy would not start at the reference."""
        self._is_init = True

    def train(self, mode: bool = True):
        super().train(mode)
        if self.reference_lm is not None:
            self.reference_lm.eval()
        return self

    # ------------------------------------------------------------------ batches
    def _prompt(self, text: str) -> str:
        return self.llm.format_prompt({self.llm.fields[0]: text})

    def _check_lengths(self, responses: Sequence[str], ids: Sequence[Sequence[int]], which: str,
                       data_samples) -> None:
        """A response the LM would have to cut cannot be scored: say which pair and by how much."""
        llm = self.llm
        has_bos = not llm.is_seq2seq and llm.tokenizer.bos_token_id is not None
        # room for the response + </s>: seq2seq decoders take max_length labels; a causal LM also
        # needs <s> and at least one prompt token
        room = llm.max_length if llm.is_seq2seq else llm.max_length - int(has_bos) - 1
        for i, text in enumerate(responses):
            n = len(llm._ids(text)) + 1
            if n > room:
                pair = (data_samples[i] or {}).get('pair_id', i) if data_samples else i
                raise ValueError(
                    f'MotionPreferenceModel: pair {pair!r}: the {which} motion has {len(ids[i])} codes = {n} '
                    f'response tokens, more than the {room} that max_length={llm.max_length} leaves; skip such '
                    "pairs with the dataset's max_motion_tokens (they are counted) or raise max_length")

    def _batch(self, prompts: Sequence[str], responses: Sequence[str]) -> dict:
        return {k: v.to(self.llm.device) for k, v in self.llm.build_batch(prompts, responses).items()}

    def _policy(self, prompts, responses):
        return lm_sequence_log_probs(self.llm.lm, self._batch(prompts, responses), self.llm.is_seq2seq)

    @torch.no_grad()
    def _reference(self, prompts, responses):
        batch = self._batch(prompts, responses)
        if self.reference_lm is not None:
            return lm_sequence_log_probs(self.reference_lm, batch, self.llm.is_seq2seq)
        lm = self.llm.lm
        if not hasattr(lm, 'disable_adapter'):
            raise RuntimeError('MotionPreferenceModel: the LoRA reference needs a peft model (disable_adapter)')
        was_training = lm.training
        lm.eval()
        try:
            with lm.disable_adapter():
                return lm_sequence_log_probs(lm, batch, self.llm.is_seq2seq)
        finally:
            lm.train(was_training)

    def _unpack(self, inputs: dict, data_samples=None):
        if not isinstance(inputs, dict) or any(k not in inputs for k in ('prompts', 'chosen', 'rejected')):
            got = sorted(inputs) if isinstance(inputs, dict) else type(inputs).__name__
            raise KeyError(f'MotionPreferenceModel: inputs must be dict(prompts, chosen, rejected) '
                           f'(preference_collate), got {got}')
        b = len(inputs['prompts'])
        if not (len(inputs['chosen']) == len(inputs['rejected']) == b) or b == 0:
            raise ValueError(f'MotionPreferenceModel: {b} prompts, {len(inputs["chosen"])} chosen, '
                             f'{len(inputs["rejected"])} rejected motions')
        prompts = [self._prompt(p) for p in inputs['prompts']]
        chosen = [self.llm.motion_text(c) for c in inputs['chosen']]
        rejected = [self.llm.motion_text(r) for r in inputs['rejected']]
        self._check_lengths(chosen, inputs['chosen'], 'chosen', data_samples)
        self._check_lengths(rejected, inputs['rejected'], 'rejected', data_samples)
        return prompts, chosen, rejected

    # ------------------------------------------------------------------ forward
    def forward(self, inputs: dict, data_samples: Optional[list] = None, mode: str = 'tensor'):
        prompts, chosen, rejected = self._unpack(inputs, data_samples)
        if mode == 'loss':
            return self.loss(prompts, chosen, rejected)
        if mode == 'predict':
            return self.predict(prompts, chosen, rejected, data_samples)
        if mode == 'tensor':
            b = len(prompts)
            logp, _ = self._policy(prompts + prompts, chosen + rejected)
            return logp[:b], logp[b:]
        raise ValueError(f"MotionPreferenceModel: mode must be 'loss', 'predict' or 'tensor', got {mode!r}")

    def loss(self, prompts: List[str], chosen: List[str], rejected: List[str]) -> Dict[str, torch.Tensor]:
        """The chosen preference loss and the reward statistics (see the class docstring)."""
        b = len(prompts)
        if self.loss_type == 'sft':
            logp, n = self._policy(prompts, chosen)
            return dict(loss_sft=sft_loss(logp, n)['loss'])
        # one policy and one reference forward over the 2B (prompt, response) rows
        logp, n = self._policy(prompts + prompts, chosen + rejected)
        ref, _ = self._reference(prompts + prompts, chosen + rejected)
        if self.loss_type == 'kto':
            out = self._kto(prompts, chosen + rejected, logp, ref, n)
        else:
            fn = ipo_loss if self.loss_type == 'ipo' else dpo_loss
            out = fn(logp[:b], logp[b:], ref[:b], ref[b:], beta=self.beta, chosen_tokens=n[:b],
                     rejected_tokens=n[b:], average_log_prob=self.average_log_prob)
        losses = {f'loss_{self.loss_type}': out['loss']}
        if self.sft_weight > 0:
            losses['loss_sft'] = self.sft_weight * sft_loss(logp[:b], n[:b])['loss']
        losses.update(reward_chosen=out['chosen_rewards'].mean(), reward_rejected=out['rejected_rewards'].mean(),
                      reward_accuracy=out['accuracy'])
        if 'margins' in out:
            losses['reward_margin'] = out['margins'].mean()
        if 'reference_point' in out:
            losses['kto_reference_point'] = out['reference_point']
        return losses

    def _kto(self, prompts, responses, logp, ref, n):
        """KTO over the 2B unpaired rows; ``z_ref`` from each prompt with the next row's response."""
        from mmengine.dist import all_reduce, get_world_size
        rows = prompts + prompts
        mismatched = responses[1:] + responses[:1]
        with torch.no_grad():
            kl_p, kl_n = self._policy(rows, mismatched)
            kl_r, _ = self._reference(rows, mismatched)
            if self.average_log_prob:
                kl_p, kl_r = kl_p / kl_n, kl_r / kl_n
            z = (kl_p - kl_r).mean()
            if get_world_size() > 1:
                all_reduce(z, op='mean')  # one reference point for the global batch
            z = z.clamp(min=0)
        desirable = torch.arange(len(rows), device=logp.device) < len(prompts)
        return kto_loss(logp, ref, desirable, beta=self.beta, desirable_weight=self.desirable_weight,
                        undesirable_weight=self.undesirable_weight, reference_point=z, n_tokens=n,
                        average_log_prob=self.average_log_prob)

    @torch.no_grad()
    def predict(self, prompts, chosen, rejected, data_samples=None) -> List[dict]:
        """Per pair: policy log-probabilities, reward margin ``beta * h`` (the loss's averaging)
        and whether the policy prefers the chosen motion."""
        b = len(prompts)
        logp, n = self._policy(prompts + prompts, chosen + rejected)
        if self.reference_lm is None and not hasattr(self.llm.lm, 'disable_adapter'):
            ref = torch.zeros_like(logp)  # SFT in full fine-tuning: no reference kept
        else:
            ref, _ = self._reference(prompts + prompts, chosen + rejected)
        score = (logp - ref) / n if self.average_log_prob else logp - ref
        margin = self.beta * (score[:b] - score[b:])
        out = []
        for i in range(b):
            sample = dict(data_samples[i]) if data_samples and data_samples[i] else {}
            sample.update(pred_chosen_logp=float(logp[i]), pred_rejected_logp=float(logp[b + i]),
                          pred_reward_margin=float(margin[i]), pred_prefers_chosen=bool(margin[i] > 0))
            out.append(sample)
        return out

    @torch.no_grad()
    def merged_lm_state_dict(self) -> Dict[str, torch.Tensor]:
        """The policy's weights as a plain LM state dict (keys of the bare backbone, as under
        ``llm.lm.`` of the :class:`MotionTextLM` it started from): with LoRA, ``W + B A * alpha / r``
        merged into a copy (this model keeps its adapter), with the trained motion embeddings."""
        lm = self.llm.lm
        if hasattr(lm, 'merge_and_unload'):
            lm = copy.deepcopy(lm).merge_and_unload()
        return {k: v.detach().clone() for k, v in lm.state_dict().items()}

    @torch.no_grad()
    def generate(self, texts: Sequence[str], **overrides) -> List[List[int]]:
        """Motion-token ids written by the policy for each text prompt (words that are not code
        ids of this strategy are dropped)."""
        replies = self.llm.generate([self._prompt(t) for t in texts], **overrides)
        out = []
        for reply in replies:
            if self.llm.strategy == 'extended':
                ids = [int(m) for m in _MOTION_ID.findall(reply)]
            else:
                ids = [int(w) for w in reply.split() if w.isdigit()]
            out.append([i for i in ids if i < self.llm.codebook_size])
        return out

"""``MotionLanguageModel``: a Hugging Face language model that reads motions in its prompt.

Motions reach the LM in one of three ways (``motion_token_strategy``):

* ``'text'`` (CigTime): the motion tokenizer's code ids written as decimal numbers in the LM's
  ordinary vocabulary (``"12 7 7 301"``);
* ``'extended'`` (MotionGPT): one added token ``<motion_id_k>`` per code, with new learnable
  embeddings; with ``motion_markers`` also MotionGPT's start / end / pad markers
  ``<motion_id_K>`` .. ``<motion_id_K+2>``, and a motion is written between start and end;
* ``'continuous'``: the tokenizer's continuous latents, projected by a learned linear layer into
  the LM's embedding space at placeholder positions.

Training scores only the response tokens (the prompt and padding get label -100). Fine-tuning is
``'full'`` (optionally with CigTime's anchor loss, eq. 10), ``'lora'`` (peft) or ``'frozen'``.
"""
from __future__ import annotations

import json

from typing import Dict, List, Optional, Sequence

import torch
from mmengine.model import BaseModule
from torch import nn

from motionkit.registry import MODELS
from motionkit.utils.remote_code import check_remote_code_kwargs
from motionkit.models.tokenizers.token_text import motiongpt_markers
from .backbones import build_backbone
from .prompt_templates import resolve_template, template_fields
from .word_level_tokenizer import build_word_vocab, detokenize, make_word_tokenizer

__all__ = ['MotionLanguageModel', 'anchor_loss', 'fused_pair_latents', 'pair_latents', 'pair_order']

LATENT_TOKEN = '<motion_latent>'
# written in a ``{pair}`` prompt where the shorter motion of the pair has no token left
PAIR_END_WORD = 'end'


def anchor_loss(weight: torch.Tensor, anchor: torch.Tensor, rows: Optional[int] = None) -> torch.Tensor:
    """CigTime eq. 10: ``||W - W0||^2`` (sum of squares) between the fine-tuned input embeddings
    and their pretrained values; rows beyond ``anchor`` (embeddings added after it was taken) have
    no anchor and are skipped. Its gradient is ``2 (W - W0)``."""
    n = anchor.shape[0] if rows is None else rows
    return (weight[:n] - anchor[:n]).pow(2).sum()


def pair_order(n_source: int, n_target: int) -> list:
    """The step-by-step order of a pair: ``(side, k)`` for source step k (side 0) then target step
    k (side 1), k = 0 .. max - 1; ``k`` is None where that motion has ended."""
    return [(side, k if k < n else None) for k in range(max(n_source, n_target))
            for side, n in enumerate((n_source, n_target))]


def pair_latents(source: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """Latents ``(n_s, C)`` / ``(n_t, C)`` of a pair in :func:`pair_order` (the order of
    :meth:`MotionLanguageModel.pair_text`; the ended motion's missing steps are skipped)."""
    sides = (source, target)
    out = [sides[side][k] for side, k in pair_order(len(source), len(target)) if k is not None]
    return torch.stack(out) if out else source[:0]


def fused_pair_latents(source: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """One row per step of a pair: ``[s_k, t_k, t_k - s_k]`` ``(max(n_s, n_t), 3C)``; the side
    that has ended (and the difference) reads zeros."""
    n = max(len(source), len(target))
    s = source.new_zeros(n, source.shape[-1])
    t = source.new_zeros(n, source.shape[-1])
    s[:len(source)], t[:len(target)] = source, target
    both = (torch.arange(n, device=source.device) < min(len(source), len(target)))[:, None]
    return torch.cat([s, t, (t - s) * both], dim=-1)


@MODELS.register_module()
class MotionLanguageModel(BaseModule):
    """Language-model head for motion-language tasks (CigTime, captioning, ExpertAF).

    Args:
        backbone: ``dict(preset='tiny-llama' | 'tiny-t5' | 'llama3-8b' | 'mistral-7b' | 'qwen2-7b' |
            't5-base', **overrides)``, ``dict(config=dict(model_type=..., ...))`` or
            ``dict(pretrained='/local/dir')``.
        tokenizer: ``dict(type='word_level', corpus=[files], fields=(...))`` (a vocabulary built from
            the dataset's text, stored in the checkpoint) or ``dict(type='pretrained', path=...)``
            (default for pretrained backbones: the backbone's directory). ``None`` only with
            ``init_device='meta'`` (parameter counting).
        motion_token_strategy: ``'text'`` | ``'extended'`` | ``'continuous'``.
        codebook_size: codes of the motion tokenizer.
        motion_markers: (``'extended'``) add MotionGPT's ``K + 3`` motion tokens (codes, then
            start, end and pad markers) instead of ``K``, and write a motion as
            ``<motion_id_K><motion_id_a>...<motion_id_K+1>`` (what a model that *writes* motions
            needs to mark where a motion ends; the MotionGPT-base conversion has these tokens).
        continuous_dim: width of the tokenizer latents (``'continuous'``).
        finetune: ``'full'`` | ``'lora'`` | ``'frozen'``.
        anchor_weight: lambda of CigTime's anchor loss (eq. 10) in full fine-tuning.
        lora: ``dict(r=8, alpha=16, dropout=0.05, target_modules=None, train_embeddings=True)``
            (``train_embeddings``: with ``'extended'``, the embeddings and head train and are saved
            with the adapter).
        template: a preset of :data:`PROMPT_TEMPLATES` or a format string.
        max_length: longest prompt + response in tokens (prompts are cut from the left).
        generation_cfg: ``generate`` arguments (default greedy, 32 new tokens), plus
            ``stop_text``: the response ends before the first occurrence of this text (e.g.
            ``'\n'`` for an in-context prompt, where a pretrained LM goes on with another example).
        init_device: ``'meta'`` builds without memory (paper-scale configs).
    """

    def __init__(self,
                 backbone: dict,
                 tokenizer: Optional[dict] = None,
                 motion_token_strategy: str = 'text',
                 codebook_size: int = 512,
                 motion_markers: bool = False,
                 continuous_dim: Optional[int] = None,
                 finetune: str = 'full',
                 anchor_weight: float = 0.0,
                 lora: Optional[dict] = None,
                 template: str = 'cigtime',
                 max_length: int = 512,
                 generation_cfg: Optional[dict] = None,
                 init_device: Optional[str] = None,
                 init_cfg: Optional[dict] = None) -> None:
        super().__init__(init_cfg=init_cfg)
        if motion_token_strategy not in ('text', 'extended', 'continuous'):
            raise ValueError("MotionLanguageModel: motion_token_strategy must be 'text', 'extended' or "
                             f"'continuous', got {motion_token_strategy!r}")
        if finetune not in ('full', 'lora', 'frozen'):
            raise ValueError(f"MotionLanguageModel: finetune must be 'full', 'lora' or 'frozen', got {finetune!r}")
        if motion_token_strategy == 'continuous' and not continuous_dim:
            raise ValueError("MotionLanguageModel: the 'continuous' strategy needs continuous_dim (the "
                             'motion tokenizer latent width)')
        self.strategy = motion_token_strategy
        self.codebook_size = int(codebook_size)
        if motion_markers and motion_token_strategy != 'extended':
            raise ValueError("MotionLanguageModel: motion_markers needs motion_token_strategy='extended'")
        self.motion_markers = bool(motion_markers)
        self.finetune = finetune
        self.anchor_weight = float(anchor_weight)
        self.template = resolve_template(template)
        self.fields = template_fields(self.template)
        self.max_length = int(max_length)
        self.generation_cfg = dict(max_new_tokens=32, num_beams=1, do_sample=False)
        self.generation_cfg.update(generation_cfg or {})
        self.stop_text = self.generation_cfg.pop('stop_text', None)
        self.init_device = init_device
        self._word_level = False
        self._vocab: Optional[List[str]] = None

        self.tokenizer = self._build_tokenizer(tokenizer, backbone)
        special = None
        if self.tokenizer is not None:
            special = dict(pad_token_id=self.tokenizer.pad_token_id, bos_token_id=self.tokenizer.bos_token_id,
                           eos_token_id=self.tokenizer.eos_token_id)
            if _is_t5(backbone):
                special['decoder_start_token_id'] = self.tokenizer.pad_token_id
        self.lm = build_backbone(backbone, vocab_size=None if self.tokenizer is None else len(self.tokenizer),
                                 special_ids=special, init_device=init_device)
        self.is_seq2seq = bool(self.lm.config.is_encoder_decoder)
        if self.tokenizer is not None and len(self.tokenizer) > self.lm.get_input_embeddings().weight.shape[0]:
            # resize BEFORE any peft wrapping (added motion tokens of a pretrained LM)
            self.lm.resize_token_embeddings(len(self.tokenizer))
        hidden = self.lm.get_input_embeddings().weight.shape[1]
        self.latent_proj = nn.Linear(continuous_dim, hidden) if self.strategy == 'continuous' else None

        if self.anchor_weight > 0:
            if finetune != 'full':
                raise ValueError('MotionLanguageModel: the anchor loss (eq. 10) applies to full fine-tuning')
            # W0: the embeddings as built / loaded (not saved: it is the starting point)
            self.register_buffer('anchor_embedding', self.lm.get_input_embeddings().weight.detach().clone(),
                                 persistent=False)
        if finetune == 'frozen':
            self.lm.requires_grad_(False)
        elif finetune == 'lora':
            self.lm = self._wrap_lora(lora or {})

    def init_weights(self) -> None:
        """With LoRA, keep the weights as built: mmengine's recursive ``init_weights`` (the Runner
        calls it) would reach transformers' ``init_weights`` through the peft model and draw the new
        LoRA matrices again (``B`` no longer 0), so fine-tuning would not start at the backbone."""
        if self.finetune == 'lora':
            self._is_init = True
            return
        super().init_weights()

    # ------------------------------------------------------------------ construction
    def _build_tokenizer(self, cfg: Optional[dict], backbone: dict):
        added = []
        if self.strategy == 'extended':
            added = [f'<motion_id_{k}>' for k in range(self.codebook_size)]
            if self.motion_markers:
                added += list(motiongpt_markers(self.codebook_size))
        elif self.strategy == 'continuous':
            added = [LATENT_TOKEN]
        if cfg is None and 'pretrained' in backbone:
            cfg = dict(type='pretrained', path=backbone['pretrained'])
        if cfg is None:
            if self.init_device == 'meta':
                return None
            raise ValueError('MotionLanguageModel: give a tokenizer (word_level or pretrained)')
        cfg = dict(cfg)
        kind = cfg.pop('type', 'word_level')
        if kind == 'word_level':
            self._word_level = True
            extra = [self.template.replace('{', ' ').replace('}', ' ')] + list(cfg.pop('extra_texts', []))
            if 'pair' in self.fields:
                extra.append(PAIR_END_WORD)
            self._vocab = build_word_vocab(cfg.pop('corpus', []), tuple(cfg.pop('fields', ('instructions', ))),
                                           extra, num_ids=self.codebook_size if self.strategy == 'text' else 0,
                                           splits=cfg.pop('splits', None))
            if cfg:
                raise KeyError(f'word-level tokenizer: unknown keys {sorted(cfg)}')
            return make_word_tokenizer(self._vocab, added)
        if kind == 'pretrained':
            import os
            from transformers import AutoTokenizer
            from .backbones import resolve_pretrained_path
            path = resolve_pretrained_path(cfg.pop('path'))
            if not os.path.isdir(path):
                raise FileNotFoundError(f'MotionLanguageModel: tokenizer directory not found: {path}')
            check_remote_code_kwargs(cfg, 'MotionLanguageModel tokenizer')
            tok = AutoTokenizer.from_pretrained(path, **cfg)
            if tok.pad_token is None:
                tok.pad_token = tok.eos_token
            if added:
                tok.add_tokens(added)
            return tok
        raise KeyError(f"MotionLanguageModel: tokenizer type must be 'word_level' or 'pretrained', got {kind!r}")

    def _wrap_lora(self, lora: dict):
        from peft import LoraConfig, TaskType, get_peft_model
        lora = dict(lora)
        targets = lora.pop('target_modules', None)
        if targets is None:
            targets = ['q', 'v'] if self.is_seq2seq else ['q_proj', 'v_proj']
        save = None
        train_embeddings = bool(lora.pop('train_embeddings', True))
        # train_embeddings=False: an LM whose motion embeddings are already trained (AToM's
        # preference tuning of MotionGPT) adapts q / v only, which merges back into a tied T5
        if self.strategy == 'extended' and train_embeddings:
            # new motion embeddings must train and be saved with the adapter
            save = ['embed_tokens', 'lm_head'] if not self.is_seq2seq else ['shared', 'lm_head']
        cfg = LoraConfig(task_type=TaskType.SEQ_2_SEQ_LM if self.is_seq2seq else TaskType.CAUSAL_LM,
                         r=int(lora.pop('r', 8)), lora_alpha=int(lora.pop('alpha', 16)),
                         lora_dropout=float(lora.pop('dropout', 0.05)), target_modules=targets,
                         modules_to_save=save)
        if lora:
            raise KeyError(f'MotionLanguageModel: unknown lora keys {sorted(lora)}')
        return get_peft_model(self.lm, cfg)

    # the word-level vocabulary travels with the weights, as the UTF-8 bytes of a JSON list in a
    # uint8 tensor: every state entry must be a tensor for DDP's start-up broadcast
    def get_extra_state(self):
        if not self._word_level:
            return torch.zeros(0, dtype=torch.uint8)
        data = json.dumps(dict(vocab=list(self._vocab))).encode('utf-8')
        return torch.tensor(list(data), dtype=torch.uint8)

    def set_extra_state(self, state) -> None:
        if isinstance(state, torch.Tensor):  # checkpoints before 2026-12-08 hold the dict itself
            state = json.loads(bytes(state.tolist()).decode('utf-8')) if state.numel() else {}
        vocab = (state or {}).get('vocab')
        if not vocab or not self._word_level or vocab == self._vocab:
            return
        if len(vocab) != len(self._vocab):
            raise ValueError(f'MotionLanguageModel: the checkpoint vocabulary has {len(vocab)} words, this '
                             f'model built {len(self._vocab)} from its corpus; build it from the same corpus')
        added = [t for t in self.tokenizer.get_added_vocab() if t not in vocab]
        self._vocab = list(vocab)
        self.tokenizer = make_word_tokenizer(self._vocab, added)

    # ------------------------------------------------------------------ text
    def motion_text(self, ids: Sequence[int]) -> str:
        """Text form of one motion's token ids for this strategy."""
        ids = [int(i) for i in ids]
        if self.strategy == 'text':
            return ' '.join(str(i) for i in ids)
        if self.strategy == 'extended':
            body = ''.join(f'<motion_id_{i}>' for i in ids)
            if self.motion_markers:
                start, end, _ = motiongpt_markers(self.codebook_size)
                return start + body + end
            return body
        return ' '.join([LATENT_TOKEN] * len(ids))

    def pair_text(self, source_ids: Sequence[int], target_ids: Sequence[int]) -> str:
        """Text form of a motion pair, step by step: source token k, then target token k
        (``{pair}`` templates). Where the shorter motion has ended its side reads
        :data:`PAIR_END_WORD`, so the lengths stay visible. For the continuous strategy the
        placeholders take the latents in the order :func:`pair_latents` gives.

        A small LM compares the two motions at neighbouring positions here, instead of across the
        whole source sequence as in the ``{source} ... {target}`` layout (CigTime Fig. 2).
        """
        sides = ([int(i) for i in source_ids], [int(i) for i in target_ids])
        return ' '.join(PAIR_END_WORD if k is None else self.motion_text([sides[side][k]])
                        for side, k in pair_order(len(sides[0]), len(sides[1])))

    def format_prompt(self, fields: Dict[str, str]) -> str:
        missing = [f for f in self.fields if f not in fields]
        if missing:
            raise KeyError(f'MotionLanguageModel: the prompt template needs {missing}; got {sorted(fields)}')
        return self.template.format(**fields)

    def _ids(self, text: str) -> List[int]:
        return self.tokenizer(text, add_special_tokens=False)['input_ids']

    def build_batch(self, prompts: Sequence[str], responses: Optional[Sequence[str]] = None) -> dict:
        """Token ids, attention mask and labels (-100 on prompt and padding) for training
        (``responses`` given; right padding) or generation (left padding for causal LMs)."""
        tok = self.tokenizer
        pad, bos, eos = tok.pad_token_id, tok.bos_token_id, tok.eos_token_id
        rows, labels, dec = [], [], []
        for k, prompt in enumerate(prompts):
            p = self._ids(prompt)
            r = [] if responses is None else self._ids(responses[k]) + [eos]
            if self.is_seq2seq:
                p = p[-(self.max_length - 1):] + [eos]
                rows.append(p)
                dec.append(r[:self.max_length])
                continue
            lead = [bos] if bos is not None else []
            budget = self.max_length - len(lead) - len(r)
            if budget < 1:
                r = r[:self.max_length - len(lead) - 1]
                budget = 1
            p = lead + p[-budget:]  # keep the end of an over-long prompt (the question)
            rows.append(p + r)
            labels.append([-100] * len(p) + r)
        n = max(len(x) for x in rows)
        left = responses is None and not self.is_seq2seq
        ids = torch.full((len(rows), n), pad, dtype=torch.long)
        att = torch.zeros((len(rows), n), dtype=torch.long)
        lab = torch.full((len(rows), n), -100, dtype=torch.long)
        for i, x in enumerate(rows):
            sl = slice(n - len(x), n) if left else slice(0, len(x))
            ids[i, sl] = torch.tensor(x)
            att[i, sl] = 1
            if labels:
                lab[i, sl] = torch.tensor(labels[i])
        out = dict(input_ids=ids, attention_mask=att)
        if responses is not None:
            if self.is_seq2seq:
                m = max(len(x) for x in dec)
                lab = torch.full((len(dec), m), -100, dtype=torch.long)
                for i, x in enumerate(dec):
                    lab[i, :len(x)] = torch.tensor(x)
            out['labels'] = lab
        return out

    def _embeds(self, input_ids: torch.Tensor, latents: Optional[List[torch.Tensor]]) -> torch.Tensor:
        """Input embeddings with the placeholder positions replaced by projected latents."""
        emb = self.lm.get_input_embeddings()(input_ids)
        if self.strategy != 'continuous':
            return emb
        if latents is None:
            raise ValueError("MotionLanguageModel: the 'continuous' strategy needs motion latents")
        pid = self.tokenizer.convert_tokens_to_ids(LATENT_TOKEN)
        emb = emb.clone()
        for i, lat in enumerate(latents):
            pos = (input_ids[i] == pid).nonzero().flatten()
            if len(pos) != len(lat):
                raise ValueError(f'MotionLanguageModel: sample {i} has {len(pos)} latent placeholders in its '
                                 f'prompt but {len(lat)} latents (prompt cut by max_length={self.max_length}?)')
            emb[i, pos] = self.latent_proj(lat.to(emb.dtype))
        return emb

    @property
    def device(self) -> torch.device:
        return self.lm.get_input_embeddings().weight.device

    # ------------------------------------------------------------------ train / generate
    def loss(self, prompts: Sequence[str], responses: Sequence[str],
             motion_latents: Optional[List[torch.Tensor]] = None) -> Dict[str, torch.Tensor]:
        """Cross-entropy on the response tokens (+ the anchor loss)."""
        if len(prompts) != len(responses):
            raise ValueError(f'MotionLanguageModel.loss: {len(prompts)} prompts, {len(responses)} responses')
        batch = {k: v.to(self.device) for k, v in self.build_batch(prompts, responses).items()}
        kwargs = dict(attention_mask=batch['attention_mask'], labels=batch['labels'])
        if self.strategy == 'continuous':
            kwargs['inputs_embeds'] = self._embeds(batch['input_ids'], motion_latents)
        else:
            kwargs['input_ids'] = batch['input_ids']
        out = self.lm(**kwargs)
        losses = dict(loss_lm=out.loss)
        if self.anchor_weight > 0:
            w = self.lm.get_input_embeddings().weight
            losses['loss_anchor'] = self.anchor_weight * anchor_loss(w, self.anchor_embedding)
        return losses

    @torch.no_grad()
    def generate_ids(self, prompts: Sequence[str], **overrides) -> List[List[int]]:
        """The generated token ids of each returned sequence (prompt stripped; the ``pad`` / ``eos``
        ids and everything after the first ``eos`` removed). With ``num_return_sequences=S`` the
        ``B * S`` rows are grouped by prompt (rows ``i * S .. i * S + S - 1`` answer prompt i)."""
        if self.strategy == 'continuous':
            raise ValueError("MotionLanguageModel.generate_ids: not for the 'continuous' strategy")
        batch = {k: v.to(self.device) for k, v in self.build_batch(prompts).items()}
        cfg = dict(self.generation_cfg, **overrides)
        cfg.setdefault('pad_token_id', self.tokenizer.pad_token_id)
        cfg.setdefault('eos_token_id', self.tokenizer.eos_token_id)
        out = self.lm.generate(input_ids=batch['input_ids'], attention_mask=batch['attention_mask'], **cfg)
        if not self.is_seq2seq:
            out = out[:, batch['input_ids'].shape[1]:]  # causal LMs echo the prompt ids
        pad, eos, bos = self.tokenizer.pad_token_id, self.tokenizer.eos_token_id, self.tokenizer.bos_token_id
        rows = []
        for row in out.tolist():
            if eos in row:
                row = row[:row.index(eos)]
            rows.append([t for t in row if t not in (pad, bos)])
        return rows

    @torch.no_grad()
    def generate(self, prompts: Sequence[str], motion_latents: Optional[List[torch.Tensor]] = None,
                 **overrides) -> List[str]:
        """Decoded responses (prompt stripped, special tokens removed)."""
        batch = {k: v.to(self.device) for k, v in self.build_batch(prompts).items()}
        cfg = dict(self.generation_cfg, **overrides)
        cfg.setdefault('pad_token_id', self.tokenizer.pad_token_id)
        cfg.setdefault('eos_token_id', self.tokenizer.eos_token_id)
        kwargs = dict(attention_mask=batch['attention_mask'])
        if self.strategy == 'continuous':
            kwargs['inputs_embeds'] = self._embeds(batch['input_ids'], motion_latents)
        else:
            kwargs['input_ids'] = batch['input_ids']
        out = self.lm.generate(**kwargs, **cfg)
        if not self.is_seq2seq and 'input_ids' in kwargs:
            out = out[:, batch['input_ids'].shape[1]:]  # causal LMs echo the prompt ids
        texts = self.tokenizer.batch_decode(out, skip_special_tokens=True)
        if self._word_level:
            texts = [detokenize(t) for t in texts]
        if self.stop_text:
            texts = [t.strip().split(self.stop_text)[0] for t in texts]
        return [t.strip() for t in texts]

    # ------------------------------------------------------------------ adapters
    def lora_state_dict(self) -> Dict[str, torch.Tensor]:
        """The LoRA adapter weights (and trained new embeddings) only."""
        from peft import get_peft_model_state_dict
        if self.finetune != 'lora':
            raise RuntimeError('MotionLanguageModel: not a LoRA model')
        return {k: v.detach().clone() for k, v in get_peft_model_state_dict(self.lm).items()}

    def load_lora_state_dict(self, state: Dict[str, torch.Tensor]) -> None:
        from peft import set_peft_model_state_dict
        if self.finetune != 'lora':
            raise RuntimeError('MotionLanguageModel: not a LoRA model')
        result = set_peft_model_state_dict(self.lm, state)
        bad = [k for k in getattr(result, 'unexpected_keys', []) if 'lora' in k]
        if bad:
            raise KeyError(f'MotionLanguageModel: adapter keys not in this model: {bad[:5]}')


def _is_t5(backbone: dict) -> bool:
    from .backbones import BACKBONE_PRESETS
    preset = BACKBONE_PRESETS.get(backbone.get('preset'), {})
    return 'pretrained' not in backbone and (preset.get('model_type') == 't5' or
                                             backbone.get('config', {}).get('model_type') == 't5')

"""``MotionTextLM``: one language model that writes motions from text and text from motions.

MotionGPT (Jiang et al., NeurIPS 2023), AToM's starting point (Han et al., CVPR 2025): a frozen
motion VQ-VAE turns a motion into code ids; the codes are words of the LM's vocabulary
(``<motion_id_k>``, plus start / end markers); text-to-motion (t2m) and motion-to-text (m2t)
pairs, written with task templates, train one LM (MotionGPT sec. 3.3: pre-training on the raw
pairs, then instruction tuning). Generated code ids are decoded back to features by the VQ-VAE.

Reading generated motion tokens (the rule, applied to the generated token ids):

* if a start marker ``<motion_id_K>`` occurs, reading starts after the first one, else at the
  first generated token; it stops at the first end marker ``<motion_id_K+1>`` after that (or at
  the end of the generation: a motion cut by ``max_new_tokens`` keeps its codes);
* in between, every code token ``<motion_id_k>`` with ``k < K`` is kept, in order; every other
  token (text words, the pad marker, a second start marker) is ignored and counted
  (``pred_motion_ignored_tokens``);
* no code at all is a failure: it is counted (``num_failed`` on the model, metainfo
  ``pred_motion_failed=True``) and, with ``on_failure='mean_pose'``, the prediction is the
  dataset's mean pose for the caption's length (zeros in normalised space, as MotionGPT's
  evaluation substitutes); ``on_failure='raise'`` raises instead.

MotionGPT itself reads only between both markers and clamps out-of-range ids to ``K - 1``; here
markers are optional and out-of-range tokens are dropped (they are not codes).
"""
from __future__ import annotations

import random
from typing import Dict, List, Optional, Sequence, Union

import torch
from mmengine.logging import print_log
from mmengine.model import BaseModel

from motionkit.motion.statistics import load_mean_std
from motionkit.registry import MODELS
from motionkit.structures.motion_data_sample import sample_captions
from motionkit.models.tokenizers.token_text import motiongpt_markers
from .task_templates import TASKS, resolve_task_templates
from .word_level_tokenizer import detokenize

__all__ = ['MotionTextLM', 'read_motion_codes']

_SAMPLING_KEYS = ('do_sample', 'temperature', 'top_k', 'top_p', 'max_new_tokens', 'num_beams',
                  'repetition_penalty')


def read_motion_codes(token_ids: Sequence[int], code_of: Dict[int, int], start_id: Optional[int],
                      end_id: Optional[int]) -> tuple:
    """Apply the module's reading rule to one generated sequence.

    Args:
        token_ids: generated token ids (prompt, pad and eos already removed).
        code_of: token id -> code ``k`` (``0 <= k < K``) for the code tokens.
        start_id, end_id: the marker token ids (None where the strategy has none).

    Returns:
        ``(codes, ignored)``: the code ids and the number of other tokens that were skipped.
    """
    ids = list(token_ids)
    if start_id is not None and start_id in ids:
        ids = ids[ids.index(start_id) + 1:]
    codes, ignored = [], 0
    for t in ids:
        if end_id is not None and t == end_id:
            break
        if t in code_of:
            codes.append(code_of[t])
        else:
            ignored += 1
    return codes, ignored


@MODELS.register_module()
class MotionTextLM(BaseModel):
    """Text-to-motion and motion-to-text language model over a frozen motion VQ-VAE.

    Args:
        tokenizer: config of the motion tokenizer (``MotionVQVAE``), frozen.
        llm: config of the :class:`MotionLanguageModel` (any backbone: T5 or decoder-only, tiny from
            config or a local Hugging Face folder; ``finetune`` full / lora). Its
            ``motion_token_strategy`` is ``'extended'`` (MotionGPT's ``<motion_id_k>`` tokens;
            ``motion_markers`` is switched on so motions have start / end) or ``'text'`` (decimal
            code words, word-level tokenizer only; the motion ends at ``eos``). Its ``template``
            is set here (the task templates write whole prompts); a word-level vocabulary gets
            the templates' words.
        tokenizer_checkpoint: the trained VQ-VAE's weights (stage 1); required unless on meta.
        task_templates: preset (``'motiongpt_pretrain'`` stage 2, ``'motiongpt_instruct'``
            stage 3) or ``dict(t2m=[(prompt, response), ...], m2t=[...])`` (see
            :mod:`.task_templates`).
        t2m_ratio: probability that a training sample is a t2m example (else m2t); each sample
            also draws one template of its task.
        predict_task: ``'t2m'`` (``pred_motion`` for :class:`T2MGenerationMetric`) or ``'m2t'``
            (``pred_caption``).
        predict_template: index of the template ``predict`` writes prompts with.
        num_samples: generations per prompt in ``predict`` / :meth:`generate_motion_codes`
            (AToM draws several motions per prompt to build preference pairs).
        sampling: ``generate`` options of prediction: ``do_sample`` (default True for t2m, as
            MotionGPT samples), ``temperature``, ``top_k``, ``top_p``, ``max_new_tokens``
            (default ``max_motion_tokens + 2`` for t2m), ``num_beams``, ``repetition_penalty``.
        max_motion_tokens: codes of the longest motion (``196 // 4 = 49`` for HumanML3D).
        on_failure: ``'mean_pose'`` or ``'raise'`` for a generation without any code (see the
            module docstring).
        data_preprocessor: default ``BaseDataPreprocessor`` (device moves: the pipeline normalises
            with ``NormalizeMotion`` and ``motion_collate`` pads).

    ``forward(inputs, data_samples, mode)`` takes ``inputs = dict(motion=(B, T, D) normalised,
    lengths=(B,))`` (``motion_collate``) and data samples with ``gt_text`` (``SampleCaption``):
    ``'loss'`` -> ``dict(loss_lm, t2m_fraction)``; ``'predict'`` -> the data samples with
    ``pred_motion`` ``(T', D)`` raw features, ``pred_motion_tokens`` and, with ``num_samples =
    R > 1``, ``pred_motion_samples`` / ``pred_motion_tokens_samples`` (lists: lengths differ) and
    ``pred_motion_replications`` ``(R, T_max, D)`` (zero-padded) with
    ``pred_motion_replication_lengths`` ``(R,)`` (each as ``pred_length``), which
    :class:`T2MGenerationMetric` scores as R replications and MultiModality repeats; metainfo
    ``pred_motion_normalized=False``, ``pred_length`` (``min(4 * codes, length)``: MotionGPT cuts a
    longer generation at the caption's length), ``pred_motion_failed``,
    ``pred_motion_ignored_tokens`` (t2m), or ``pred_caption`` / ``pred_captions`` (m2t);
    ``'tensor'`` -> the motion code ids of the batch.
    """

    def __init__(self,
                 tokenizer: dict,
                 llm: dict,
                 tokenizer_checkpoint: Optional[str] = None,
                 task_templates: Union[str, dict] = 'motiongpt_pretrain',
                 t2m_ratio: float = 0.5,
                 predict_task: str = 't2m',
                 predict_template: int = 0,
                 num_samples: int = 1,
                 sampling: Optional[dict] = None,
                 max_motion_tokens: int = 49,
                 on_failure: str = 'mean_pose',
                 data_preprocessor: Optional[Union[dict, torch.nn.Module]] = None,
                 init_cfg: Optional[dict] = None) -> None:
        super().__init__(data_preprocessor=data_preprocessor, init_cfg=init_cfg)
        self.templates = resolve_task_templates(task_templates)
        if not 0.0 <= t2m_ratio <= 1.0:
            raise ValueError(f'MotionTextLM: t2m_ratio must be in [0, 1], got {t2m_ratio}')
        for task, needed in (('t2m', t2m_ratio > 0), ('m2t', t2m_ratio < 1)):
            if needed and task not in self.templates:
                raise KeyError(f'MotionTextLM: t2m_ratio={t2m_ratio} trains {task} but the task templates '
                               f'have no {task!r} entry')
        if predict_task not in TASKS:
            raise ValueError(f'MotionTextLM: predict_task must be one of {TASKS}, got {predict_task!r}')
        if predict_task in self.templates and not 0 <= predict_template < len(self.templates[predict_task]):
            raise IndexError(f'MotionTextLM: predict_template {predict_template} out of range for the '
                             f'{len(self.templates[predict_task])} {predict_task} templates')
        if int(num_samples) < 1:
            raise ValueError(f'MotionTextLM: num_samples must be >= 1, got {num_samples}')
        if on_failure not in ('mean_pose', 'raise'):
            raise ValueError(f"MotionTextLM: on_failure must be 'mean_pose' or 'raise', got {on_failure!r}")
        sampling = dict(sampling or {})
        unknown = set(sampling) - set(_SAMPLING_KEYS)
        if unknown:
            raise KeyError(f'MotionTextLM: unknown sampling options {sorted(unknown)}; allowed {_SAMPLING_KEYS}')
        self.t2m_ratio = float(t2m_ratio)
        self.predict_task = predict_task
        self.predict_template = int(predict_template)
        self.num_samples = int(num_samples)
        self.sampling = sampling
        self.max_motion_tokens = int(max_motion_tokens)
        self.on_failure = on_failure
        self.num_failed = 0
        self.num_generated = 0

        llm = dict(llm)
        llm.setdefault('type', 'MotionLanguageModel')
        on_meta = llm.get('init_device') == 'meta'
        strategy = llm.get('motion_token_strategy', 'extended')
        if strategy not in ('extended', 'text'):
            raise ValueError("MotionTextLM: the LM writes motion tokens: motion_token_strategy must be "
                             f"'extended' or 'text', got {strategy!r}")
        llm['motion_token_strategy'] = strategy
        if strategy == 'extended':
            llm['motion_markers'] = True
        llm['template'] = '{prompt}'
        tok_cfg = llm.get('tokenizer')
        if isinstance(tok_cfg, dict) and tok_cfg.get('type', 'word_level') == 'word_level':
            words = [p + ' ' + r for pairs in self.templates.values() for p, r in pairs]
            words = [w.replace('{caption}', ' ').replace('{motion}', ' ') for w in words]
            llm['tokenizer'] = dict(tok_cfg, extra_texts=list(tok_cfg.get('extra_texts', [])) + words)

        self.motion_tokenizer = MODELS.build(tokenizer)
        if tokenizer_checkpoint and not on_meta:
            import os
            from mmengine.runner import load_checkpoint
            from motionkit.utils.checkpoint import install_safe_checkpoint_loader
            if not os.path.isfile(tokenizer_checkpoint):
                raise FileNotFoundError(f'MotionTextLM: tokenizer_checkpoint not found: {tokenizer_checkpoint} '
                                        '(train the motion tokenizer first: stage 1)')
            install_safe_checkpoint_loader()
            load_checkpoint(self.motion_tokenizer, tokenizer_checkpoint, map_location='cpu', strict=True,
                            revise_keys=[(r'^module\.', '')])
        elif not on_meta:
            print_log('MotionTextLM: no tokenizer_checkpoint; the motion VQ-VAE keeps its initial weights '
                      '(fine for tests, not for results)', logger='current', level=30)
        self.motion_tokenizer.requires_grad_(False)
        self.motion_tokenizer.eval()
        self.llm = MODELS.build(llm)
        if self.llm.codebook_size != self.motion_tokenizer.codebook_size:
            raise ValueError(f'MotionTextLM: the LM has codebook_size={self.llm.codebook_size}, the motion '
                             f'tokenizer {self.motion_tokenizer.codebook_size} codes')
        if getattr(self.motion_tokenizer, 'multi_layer', False):
            raise ValueError('MotionTextLM: residual (multi-layer) codes have no token text; use a '
                             'single-codebook VQ-VAE')

    def init_weights(self) -> None:
        """Keep the LM as built (see :meth:`MotionLanguageModel.init_weights`) and the tokenizer
        as loaded from its checkpoint."""
        self._is_init = True

    def train(self, mode: bool = True):
        super().train(mode)
        self.motion_tokenizer.eval()  # frozen: its EMA codebook must not update
        return self

    # ------------------------------------------------------------------ tokens
    def _code_table(self) -> tuple:
        """``(code_of, start_id, end_id)`` for the LM's current tokenizer."""
        tok, k = self.llm.tokenizer, self.llm.codebook_size
        if self.llm.strategy == 'extended':
            names = [f'<motion_id_{i}>' for i in range(k)]
            start, end, _ = motiongpt_markers(k)
            start_id, end_id = tok.convert_tokens_to_ids(start), tok.convert_tokens_to_ids(end)
        else:
            names = [str(i) for i in range(k)]
            start_id = end_id = None
        ids = tok.convert_tokens_to_ids(names)
        unk = tok.unk_token_id
        missing = [n for n, i in zip(names, ids) if i is None or (unk is not None and i == unk)]
        if missing:
            raise ValueError(f'MotionTextLM: the LM tokenizer has no token for {missing[:3]} ({len(missing)} '
                             'codes); with the text strategy use the word-level tokenizer')
        return {i: c for c, i in enumerate(ids)}, start_id, end_id

    @torch.no_grad()
    def encode_motions(self, motion: torch.Tensor, lengths: torch.Tensor) -> List[List[int]]:
        """Code ids of each motion ``(B, T, D)`` (normalised features), cut to ``max_motion_tokens``."""
        ids, token_len = self.motion_tokenizer.encode(motion, lengths)
        return [codes[:self.max_motion_tokens] for codes in self.motion_tokenizer.token_ids_as_list(ids, token_len)]

    def _inputs_codes(self, inputs) -> List[List[int]]:
        if not isinstance(inputs, dict) or 'motion' not in inputs or 'lengths' not in inputs:
            got = sorted(inputs) if isinstance(inputs, dict) else type(inputs).__name__
            raise KeyError(f'MotionTextLM: inputs must be dict(motion=(B, T, D), lengths=(B,)) from '
                           f'motion_collate, got {got}')
        return self.encode_motions(inputs['motion'], inputs['lengths'])

    def _fill(self, task: str, index: int, caption: str, codes: Sequence[int]) -> tuple:
        prompt, response = self.templates[task][index]
        fields = dict(caption=caption, motion=self.llm.motion_text(codes))
        return prompt.format(**fields), response.format(**fields)

    # ------------------------------------------------------------------ forward
    def forward(self, inputs: dict, data_samples: Optional[list] = None, mode: str = 'tensor'):
        if mode == 'loss':
            return self.loss(inputs, data_samples)
        if mode == 'predict':
            return self.predict(inputs, data_samples)
        if mode == 'tensor':
            return self._inputs_codes(inputs)
        raise ValueError(f"MotionTextLM: mode must be 'loss', 'predict' or 'tensor', got {mode!r}")

    def loss(self, inputs: dict, data_samples: Sequence) -> Dict[str, torch.Tensor]:
        """Cross-entropy on the responses of a batch of mixed t2m / m2t examples: each sample is
        t2m with probability ``t2m_ratio`` and draws one template of its task."""
        captions = sample_captions(data_samples, 'MotionTextLM')
        codes = self._inputs_codes(inputs)
        prompts, responses, n_t2m = [], [], 0
        for caption, ids in zip(captions, codes):
            if not ids:
                raise ValueError('MotionTextLM: a training motion has no token (fewer frames than the '
                                 "tokenizer's unit length)")
            task = 't2m' if random.random() < self.t2m_ratio else 'm2t'
            n_t2m += task == 't2m'
            p, r = self._fill(task, random.randrange(len(self.templates[task])), caption, ids)
            prompts.append(p)
            responses.append(r)
        losses = self.llm.loss(prompts, responses)
        losses['t2m_fraction'] = torch.tensor(n_t2m / max(len(prompts), 1), device=self.llm.device)
        return losses

    def _generation_cfg(self, task: str, overrides: dict) -> dict:
        cfg = dict(do_sample=task == 't2m')
        if task == 't2m':
            cfg['max_new_tokens'] = self.max_motion_tokens + 2  # codes + start + end markers
        cfg.update(self.sampling)
        cfg.update(overrides)
        if not cfg.get('do_sample'):
            if cfg.get('num_return_sequences', 1) > cfg.get('num_beams', 1):
                raise ValueError(f'MotionTextLM: {cfg["num_return_sequences"]} samples per prompt for {task} need '
                                 "sampling=dict(do_sample=True, ...) (greedy decoding gives one answer)")
            for key in ('temperature', 'top_k', 'top_p'):
                cfg.pop(key, None)
        return cfg

    @torch.no_grad()
    def generate_motion_codes(self, captions: Sequence[str], num_samples: Optional[int] = None,
                              **overrides) -> List[List[tuple]]:
        """``num_samples`` generations per caption, each ``(codes, ignored_tokens)`` read with the
        module's rule (``codes`` may be empty: a failure for the caller to count)."""
        if 't2m' not in self.templates:
            raise KeyError("MotionTextLM: the task templates have no 't2m' entry")
        s = self.num_samples if num_samples is None else int(num_samples)
        prompts = [self._fill('t2m', self.predict_template, c, [])[0] for c in captions]
        cfg = self._generation_cfg('t2m', dict(overrides, num_return_sequences=s))
        rows = self.llm.generate_ids(prompts, **cfg)
        code_of, start_id, end_id = self._code_table()
        read = [read_motion_codes(r, code_of, start_id, end_id) for r in rows]
        return [read[i * s:(i + 1) * s] for i in range(len(captions))]

    @torch.no_grad()
    def generate_captions(self, codes: Sequence[Sequence[int]], num_samples: Optional[int] = None,
                          **overrides) -> List[List[str]]:
        """``num_samples`` captions per motion (code ids)."""
        if 'm2t' not in self.templates:
            raise KeyError("MotionTextLM: the task templates have no 'm2t' entry")
        s = self.num_samples if num_samples is None else int(num_samples)
        prompts = [self._fill('m2t', self.predict_template, '', c)[0] for c in codes]
        cfg = self._generation_cfg('m2t', dict(overrides, num_return_sequences=s))
        rows = self.llm.generate_ids(prompts, **cfg)
        texts = self.llm.tokenizer.batch_decode(rows, skip_special_tokens=True)
        if self.llm._word_level:
            texts = [detokenize(t) for t in texts]
        texts = [t.strip() for t in texts]
        return [texts[i * s:(i + 1) * s] for i in range(len(codes))]

    def _stats(self, data_samples: Sequence) -> Optional[tuple]:
        """``(mean, std)`` of the pipeline's normalisation (``NormalizeMotion`` metainfo), or None."""
        for sample in data_samples:
            meta = sample.metainfo
            if meta.get('normalized'):
                if not meta.get('mean_path') or not meta.get('std_path'):
                    raise KeyError('MotionTextLM: a data sample says normalized=True but names no '
                                   'mean_path/std_path (keep them in PackMotionInputs meta_keys)')
                mean, std = load_mean_std(meta['mean_path'], meta['std_path'], self.motion_tokenizer.feature_dim)
                return (torch.as_tensor(mean, dtype=torch.float32), torch.as_tensor(std, dtype=torch.float32))
        return None

    @torch.no_grad()
    def predict(self, inputs: Optional[dict], data_samples: Sequence) -> list:
        if self.predict_task == 'm2t':
            codes = self._inputs_codes(inputs)
            for sample, caps in zip(data_samples, self.generate_captions(codes)):
                sample.pred_caption = caps[0]
                if self.num_samples > 1:
                    sample.pred_captions = caps
            return list(data_samples)
        captions = sample_captions(data_samples, 'MotionTextLM')
        generations = self.generate_motion_codes(captions)
        stats = self._stats(data_samples)
        vq = self.motion_tokenizer
        unit = vq.unit_length
        for i, (sample, gens) in enumerate(zip(data_samples, generations)):
            length = sample.metainfo.get('length')
            if length is None:
                if inputs is None or 'lengths' not in inputs:
                    raise KeyError(f'MotionTextLM: data sample {i} has no "length" in its metainfo')
                length = int(inputs['lengths'][i])
            motions, failed = [], []
            for codes, _ in gens:
                self.num_generated += 1
                if not codes:
                    self.num_failed += 1
                    if self.on_failure == 'raise':
                        raise ValueError(f'MotionTextLM: no motion token generated for caption {captions[i]!r} '
                                         f'(sample {sample.metainfo.get("sample_id", i)!r})')
                    feats = torch.zeros(int(length), vq.feature_dim)  # normalised zeros: the mean pose
                    failed.append(True)
                else:
                    feats = vq.decode(torch.tensor(codes, dtype=torch.long)).float().cpu()
                    feats = feats[:int(length)]  # MotionGPT cuts a longer generation at the length
                    failed.append(False)
                if stats is not None:
                    feats = feats * stats[1] + stats[0]
                motions.append(feats)
            sample.pred_motion = motions[0]
            sample.pred_motion_tokens = torch.tensor(gens[0][0], dtype=torch.long)
            lengths = [len(m) - len(m) % unit if len(m) >= unit else len(m) for m in motions]
            if self.num_samples > 1:
                sample.pred_motion_samples = motions
                sample.pred_motion_tokens_samples = [torch.tensor(c, dtype=torch.long) for c, _ in gens]
                # the R generations for T2MGenerationMetric (replications and MultiModality): padded
                # with zeros to the longest, each with its own length
                sample.pred_motion_replications = torch.nn.utils.rnn.pad_sequence(motions, batch_first=True)
                sample.pred_motion_replication_lengths = torch.tensor(lengths, dtype=torch.long)
            sample.set_metainfo(dict(pred_motion_normalized=False, pred_length=lengths[0],
                                     pred_motion_failed=failed[0], pred_motion_ignored_tokens=gens[0][1],
                                     pred_motion_failed_samples=sum(failed)))
        if self.num_failed:
            print_log(f'MotionTextLM: {self.num_failed} of {self.num_generated} generations had no motion '
                      f'token ({self.on_failure})', logger='current', level=30)
        return list(data_samples)

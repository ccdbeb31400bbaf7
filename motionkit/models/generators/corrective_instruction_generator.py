"""``CorrectiveInstructionGenerator`` (CigTime, Fang et al. NeurIPS 2024): (source, target) -> instruction.

A frozen motion tokenizer turns both motions into code sequences; a language-model head reads them
in its prompt (Fig. 2) and writes the corrective instruction. With a template that only uses
``{target}`` the same model is the caption-of-target baseline (a MotionGPT-style motion-to-text
model applied to the target).
"""
from __future__ import annotations

from typing import List, Optional, Sequence, Union

import torch
from mmengine.model import BaseModel

from motionkit.motion.statistics import load_mean_std
from motionkit.registry import MODELS

__all__ = ['CorrectiveInstructionGenerator']


@MODELS.register_module()
class CorrectiveInstructionGenerator(BaseModel):
    """Motion tokenizer (frozen) + :class:`MotionLanguageModel`.

    Args:
        tokenizer: config of the motion tokenizer (``MotionVQVAE``).
        llm: config of the ``MotionLanguageModel``.
        tokenizer_checkpoint: weights of the trained tokenizer (stage 2 of CigTime); required unless
            the LM is built on the meta device.
        in_context: fills the template's ``{examples}`` (CigTime's in-context baseline, Fig. 4):
            ``dict(data_root=TRIPLETS, num_examples=3, split='train', seed=0,
            example_template=...)``. ``num_examples`` triplets of ``split`` (drawn with ``seed``,
            one per edit operation where possible) are tokenised with the motion tokenizer, written
            with ``example_template`` (fields ``{source}``, ``{target}``, ``{instruction}``) and
            put in every prompt. Built on first use.
        continuous_input: what the ``'continuous'`` strategy projects into the LM at each token
            step: ``'latent'`` (the tokenizer's pre-quantisation latents, ``continuous_dim`` =
            its ``code_dim``) or ``'features'`` (the step's ``unit_length`` frames of normalised
            motion features, concatenated: ``continuous_dim`` = ``unit_length * D``; nothing is
            lost to the tokenizer, which then only sets the step and needs no checkpoint).
        pair_steps: how a ``{pair}`` template writes the two motions with the continuous
            strategy: ``'interleave'`` (source step k, target step k: two placeholders per step)
            or ``'fuse'`` (one placeholder per step taking ``[s_k, t_k, t_k - s_k]``, zeros for
            the side that has ended; ``continuous_dim`` three times the step width).
        cache_codes: keep each motion's codes (and latents), keyed by a digest of its valid frames,
            so a motion seen in an earlier epoch is not encoded again (the tokenizer is frozen;
            loading weights empties the cache). At most ``cache_size`` motions.
        data_preprocessor: pads and normalises the pair (default ``MotionPairDataPreprocessor``).

    ``forward(inputs, data_samples, mode)`` takes ``inputs = dict(source, source_mask,
    source_lengths, target, target_mask, target_lengths)`` (normalised features ``(B, T, D)``):
    ``'loss'`` -> ``dict(loss_lm, [loss_anchor])`` against ``data_sample.gt_instruction``;
    ``'predict'`` -> data samples with ``pred_instruction``; ``'tensor'`` -> the prompts.
    """

    def __init__(self,
                 tokenizer: dict,
                 llm: dict,
                 tokenizer_checkpoint: Optional[str] = None,
                 in_context: Optional[dict] = None,
                 continuous_input: str = 'latent',
                 pair_steps: str = 'interleave',
                 cache_codes: bool = True,
                 cache_size: int = 200_000,
                 data_preprocessor: Optional[Union[dict, torch.nn.Module]] = None,
                 init_cfg: Optional[dict] = None) -> None:
        if data_preprocessor is None:
            data_preprocessor = dict(type='MotionPairDataPreprocessor')
        if isinstance(data_preprocessor, dict):
            data_preprocessor = MODELS.build(data_preprocessor)
        super().__init__(data_preprocessor=data_preprocessor, init_cfg=init_cfg)
        on_meta = llm.get('init_device') == 'meta'
        # the LM reads the features themselves: the tokenizer only sets the step, no checkpoint needed
        reads_features = continuous_input == 'features' and llm.get('motion_token_strategy') == 'continuous'
        self.motion_tokenizer = MODELS.build(tokenizer)
        if tokenizer_checkpoint and not on_meta:
            import os
            from mmengine.runner import load_checkpoint
            from motionkit.utils.checkpoint import install_safe_checkpoint_loader
            if not os.path.isfile(tokenizer_checkpoint):
                raise FileNotFoundError(f'CorrectiveInstructionGenerator: tokenizer_checkpoint not found: '
                                        f'{tokenizer_checkpoint} (train the motion tokenizer first)')
            install_safe_checkpoint_loader()
            load_checkpoint(self.motion_tokenizer, tokenizer_checkpoint, map_location='cpu', strict=True,
                            revise_keys=[(r'^module\.', '')])
        elif not on_meta and not reads_features:
            from mmengine.logging import print_log
            print_log('CorrectiveInstructionGenerator: no tokenizer_checkpoint; the motion tokenizer keeps its '
                      'initial weights (fine for tests, not for results)', logger='current', level=30)
        self.motion_tokenizer.requires_grad_(False)
        self.motion_tokenizer.eval()
        self.llm = MODELS.build(llm)
        unknown = [f for f in self.llm.fields if f not in ('source', 'target', 'pair', 'examples')]
        if unknown:
            raise KeyError(f'CorrectiveInstructionGenerator: the prompt template has fields {unknown}; it '
                           'can fill {source}, {target}, {pair} and {examples}')
        self.examples = ''
        self.in_context = None
        if in_context is not None:
            in_context = dict(in_context)
            unknown = set(in_context) - {'data_root', 'num_examples', 'split', 'seed',
                                         'example_template'}
            if unknown or 'data_root' not in in_context:
                raise KeyError(f'CorrectiveInstructionGenerator: in_context needs data_root and takes '
                               f'num_examples, split, seed, example_template; got {sorted(in_context)}')
            if 'examples' not in self.llm.fields:
                raise ValueError('CorrectiveInstructionGenerator: in_context needs a template with '
                                 "{examples} (e.g. template='cigtime_icl')")
            self.in_context = in_context
        self._examples_ready = self.in_context is None
        if continuous_input not in ('latent', 'features'):
            raise ValueError("CorrectiveInstructionGenerator: continuous_input must be 'latent' or "
                             f"'features', got {continuous_input!r}")
        self.continuous_input = continuous_input
        if pair_steps not in ('interleave', 'fuse'):
            raise ValueError("CorrectiveInstructionGenerator: pair_steps must be 'interleave' or 'fuse', "
                             f'got {pair_steps!r}')
        self.fuse_pairs = pair_steps == 'fuse'
        if self.fuse_pairs and not ('pair' in self.llm.fields and self.llm.strategy == 'continuous'):
            raise ValueError("CorrectiveInstructionGenerator: pair_steps='fuse' needs a {pair} template "
                             "and the 'continuous' strategy")
        if self.llm.strategy == 'continuous':
            tok = self.motion_tokenizer
            step = tok.unit_length * tok.feature_dim if continuous_input == 'features' else tok.code_dim
            need = 3 * step if self.fuse_pairs else step
            width = self.llm.latent_proj.in_features
            if width != need:
                raise ValueError(f'CorrectiveInstructionGenerator: each LM input step has {need} values '
                                 f"(continuous_input={continuous_input!r}, pair_steps={pair_steps!r}); "
                                 f"set the LM's continuous_dim to {need}, not {width}")
        self._reads_features = reads_features
        self.cache_codes, self.cache_size = bool(cache_codes), int(cache_size)
        self._code_cache: dict = {}
        # new tokenizer weights make the cached codes stale
        self.register_load_state_dict_post_hook(lambda module, keys: module._code_cache.clear())

    def train(self, mode: bool = True):
        super().train(mode)
        self.motion_tokenizer.eval()  # frozen: its quantiser must not update
        return self

    # ------------------------------------------------------------------ motions -> prompt
    @torch.no_grad()
    def _motion_codes(self, motion: torch.Tensor, lengths: torch.Tensor) -> tuple:
        """``(ids, latents)``: one id list per motion (and its latents for the continuous strategy,
        else None), from the cache where the motion was encoded before."""
        if not self.cache_codes or self._reads_features:  # slicing features costs less than a lookup
            return self._encode_codes(motion, lengths)
        import hashlib
        lengths = torch.as_tensor(lengths).long().cpu()
        keys = []
        for i, n in enumerate(lengths.tolist()):
            frames = motion[i, :n].detach().float().cpu().contiguous().numpy()
            keys.append(hashlib.blake2b(frames.tobytes(), digest_size=16).digest() + n.to_bytes(4, 'little'))
        todo = sorted({i for i, k in enumerate(keys) if k not in self._code_cache})
        if todo:
            sub_len = lengths[todo]
            ids, lat = self._encode_codes(motion[todo, :int(sub_len.max())], sub_len.to(motion.device))
            if len(self._code_cache) + len(todo) > self.cache_size:
                self._code_cache.clear()
            for j, i in enumerate(todo):
                self._code_cache[keys[i]] = (ids[j], None if lat is None else lat[j].detach().clone())
        hits = [self._code_cache[k] for k in keys]
        latents = None if self.llm.strategy != 'continuous' else [h[1].to(motion.device) for h in hits]
        return [list(h[0]) for h in hits], latents

    def _encode_codes(self, motion: torch.Tensor, lengths: torch.Tensor) -> tuple:
        if self._reads_features:
            # the LM reads the features themselves: the tokenizer only sets the step (unit_length)
            unit = self.motion_tokenizer.unit_length
            token_len = torch.div(torch.as_tensor(lengths).long(), unit, rounding_mode='floor')
            if len(token_len) and int(token_len.min()) < 1:
                raise ValueError(f'CorrectiveInstructionGenerator: motions need at least {unit} frames '
                                 f'(one step), got lengths {torch.as_tensor(lengths).tolist()}')
            latents = [motion[i, :int(n) * unit].reshape(int(n), -1).float() for i, n in enumerate(token_len)]
            return [[0] * int(n) for n in token_len], latents
        ids, token_len = self.motion_tokenizer.encode(motion, lengths)
        latents = None
        if self.llm.strategy == 'continuous':
            motion_c, usable = self.motion_tokenizer._check_motion(motion, lengths)
            z, valid, _ = self.motion_tokenizer._encode_latent(motion_c, usable)
            latents = [z[i, :int(n)] for i, n in enumerate(token_len)]
        return self.motion_tokenizer.token_ids_as_list(ids, token_len), latents

    @torch.no_grad()
    def build_examples(self) -> str:
        """The ``{examples}`` text of the in-context prompt (see ``in_context``)."""
        import json
        import os.path as osp

        import numpy as np
        cfg = self.in_context
        root = osp.abspath(osp.expanduser(cfg['data_root']))
        ann = osp.join(root, 'triplets.jsonl')
        if not osp.isfile(ann):
            raise FileNotFoundError(f'CorrectiveInstructionGenerator.in_context: {ann} not found')
        split = cfg.get('split', 'train')
        with open(ann, encoding='utf-8') as f:
            rows = [json.loads(line) for line in f if line.strip()]
        rows = [r for r in rows if r.get('split') == split]
        n = int(cfg.get('num_examples', 3))
        if len(rows) < n:
            raise ValueError(f'CorrectiveInstructionGenerator.in_context: {ann} has {len(rows)} '
                             f'{split!r} triplets, fewer than num_examples={n}')
        rng = np.random.default_rng(int(cfg.get('seed', 0)))
        order = rng.permutation(len(rows))
        picked, ops = [], set()
        for i in order:  # one example per edit operation first, then any
            if rows[i].get('edit') not in ops:
                picked.append(rows[i])
                ops.add(rows[i].get('edit'))
            if len(picked) == n:
                break
        for i in order:
            if len(picked) == n:
                break
            if rows[i] not in picked:
                picked.append(rows[i])
        mean, std = load_mean_std(osp.join(root, 'Mean.npy'), osp.join(root, 'Std.npy'),
                                  getattr(self.motion_tokenizer, 'feature_dim', None))
        template = cfg.get('example_template',
                           'Source motion: {source}\nTarget motion: {target}\nInstruction: '
                           '{instruction}\n\n')
        device = next(self.motion_tokenizer.parameters()).device
        texts = []
        for r in picked:
            codes = {}
            for side in ('source', 'target'):
                x = (np.load(osp.join(root, r[f'{side}_vecs'])) - mean) / std
                x = torch.as_tensor(x, dtype=torch.float32, device=device)[None]
                ids, _ = self._motion_codes(x, torch.tensor([x.shape[1]], device=device))
                codes[side] = self.llm.motion_text(ids[0])
            texts.append(template.format(source=codes['source'], target=codes['target'],
                                         instruction=r['instruction']))
        return ''.join(texts)

    def prompts(self, inputs: dict) -> tuple:
        """``(prompts, latents)``: one prompt per pair (and the latents in the order the template
        uses them, for the continuous strategy)."""
        fields, latents, codes = {}, {}, {}
        paired = 'pair' in self.llm.fields
        for key in ('source', 'target'):
            if key not in self.llm.fields and not paired:
                continue
            for part in (key, f'{key}_lengths'):
                if part not in inputs:
                    raise KeyError(f'CorrectiveInstructionGenerator: inputs need {part!r} (from '
                                   f'MotionPairDataPreprocessor), got {sorted(inputs)}')
            ids, lat = self._motion_codes(inputs[key], inputs[f'{key}_lengths'])
            codes[key] = ids
            latents[key] = lat
            if key in self.llm.fields:
                fields[key] = [self.llm.motion_text(x) for x in ids]
        if paired and self.fuse_pairs:
            fields['pair'] = [self.llm.motion_text([0] * max(len(s), len(t)))
                              for s, t in zip(codes['source'], codes['target'])]
        elif paired:
            fields['pair'] = [self.llm.pair_text(s, t) for s, t in zip(codes['source'], codes['target'])]
        batch = len(next(iter(fields.values())))
        prompts = []
        for i in range(batch):
            values = {k: v[i] for k, v in fields.items()}
            if 'examples' in self.llm.fields:
                if not self._examples_ready:
                    self.examples = self.build_examples()
                    self._examples_ready = True
                values['examples'] = self.examples
            prompts.append(self.llm.format_prompt(values))
        seq = None
        if self.llm.strategy == 'continuous':
            from motionkit.models.llm_heads.motion_language_model import fused_pair_latents, pair_latents
            seq = []
            for i in range(batch):
                parts = []
                for f in self.llm.fields:  # latents in the order the template's placeholders come
                    if f == 'pair' and self.fuse_pairs:
                        parts.append(fused_pair_latents(latents['source'][i], latents['target'][i]))
                    elif f == 'pair':
                        parts.append(pair_latents(latents['source'][i], latents['target'][i]))
                    elif f in ('source', 'target'):
                        parts.append(latents[f][i])
                seq.append(torch.cat(parts))
        return prompts, seq

    # ------------------------------------------------------------------ BaseModel API
    @staticmethod
    def _responses(data_samples: Sequence) -> List[str]:
        out = []
        for i, s in enumerate(data_samples or []):
            text = s.get('gt_instruction') if hasattr(s, 'get') else None
            if not isinstance(text, str):
                raise KeyError(f'CorrectiveInstructionGenerator: data sample {i} has no gt_instruction '
                               '(PackMotionPairInputs sets it)')
            out.append(text)
        if not out:
            raise ValueError('CorrectiveInstructionGenerator: training needs data samples')
        return out

    def forward(self, inputs: dict, data_samples: Optional[Sequence] = None, mode: str = 'tensor'):
        prompts, latents = self.prompts(inputs)
        if mode == 'loss':
            return self.llm.loss(prompts, self._responses(data_samples), latents)
        if mode == 'predict':
            texts = self.llm.generate(prompts, latents)
            for sample, text in zip(data_samples, texts):
                sample.pred_instruction = text
            return list(data_samples)
        if mode == 'tensor':
            return prompts
        raise ValueError(f"CorrectiveInstructionGenerator: mode must be 'loss', 'predict' or 'tensor', got {mode!r}")

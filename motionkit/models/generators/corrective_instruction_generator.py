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
                 data_preprocessor: Optional[Union[dict, torch.nn.Module]] = None,
                 init_cfg: Optional[dict] = None) -> None:
        if data_preprocessor is None:
            data_preprocessor = dict(type='MotionPairDataPreprocessor')
        if isinstance(data_preprocessor, dict):
            data_preprocessor = MODELS.build(data_preprocessor)
        super().__init__(data_preprocessor=data_preprocessor, init_cfg=init_cfg)
        on_meta = llm.get('init_device') == 'meta'
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
        elif not on_meta:
            from mmengine.logging import print_log
            print_log('CorrectiveInstructionGenerator: no tokenizer_checkpoint; the motion tokenizer keeps its '
                      'initial weights (fine for tests, not for results)', logger='current', level=30)
        self.motion_tokenizer.requires_grad_(False)
        self.motion_tokenizer.eval()
        self.llm = MODELS.build(llm)
        unknown = [f for f in self.llm.fields if f not in ('source', 'target', 'examples')]
        if unknown:
            raise KeyError(f'CorrectiveInstructionGenerator: the prompt template has fields {unknown}; it '
                           'can fill {source}, {target} and {examples}')
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

    def train(self, mode: bool = True):
        super().train(mode)
        self.motion_tokenizer.eval()  # frozen: its quantiser must not update
        return self

    # ------------------------------------------------------------------ motions -> prompt
    @torch.no_grad()
    def _motion_codes(self, motion: torch.Tensor, lengths: torch.Tensor) -> tuple:
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
        from motionkit.datasets.transforms.processing import load_mean_std
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
        fields, latents = {}, {}
        for key in ('source', 'target'):
            if key not in self.llm.fields:
                continue
            for part in (key, f'{key}_lengths'):
                if part not in inputs:
                    raise KeyError(f'CorrectiveInstructionGenerator: inputs need {part!r} (from '
                                   f'MotionPairDataPreprocessor), got {sorted(inputs)}')
            ids, lat = self._motion_codes(inputs[key], inputs[f'{key}_lengths'])
            fields[key] = [self.llm.motion_text(x) for x in ids]
            latents[key] = lat
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
            order = [f for f in self.llm.fields if f in latents]
            seq = [torch.cat([latents[f][i] for f in order]) for i in range(batch)]
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

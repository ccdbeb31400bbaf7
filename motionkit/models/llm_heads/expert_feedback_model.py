"""``ExpertFeedbackModel``: ExpertAF's LLaVA-style multimodal language model (sec. 3.3, eq. 1-3).

One Hugging Face causal LM reads a learner's video features and PCT pose codes through
placeholders in a chat prompt and serves three uses:

* commentary generation ``F_t(V)`` (eq. 1): the expert's feedback as text;
* expert-demonstration retrieval ``F_r`` (eq. 2): every candidate's pose token stream scored by
  its log-likelihood given the video and the *generated* commentary;
* pose generation ``F_g`` (eq. 3): the corrected pose as a pose token stream, decoded to COCO-17
  joints by the :class:`~motionkit.models.tokenizers.PoseTokenizer` decoder.

Input contract (what a dataset item carries; ``default_collate`` or ``pseudo_collate``):

=====================  ==========================  ==============================================
``inputs`` key         type / shape                meaning
=====================  ==========================  ==============================================
``learner_video``      float ``(T_v, D_v)``        cached per-frame (or per-clip) video features
``learner_pose``       long ``(F, M)``             PCT code ids of the learner's ``F`` poses
``expert_video``       float ``(T_v, D_v)``        optional; only templates with ``<expert_video>``
``expert_pose``        long ``(F, M)``             the expert's codes: pose-generation target and
                                                   retrieval candidate
=====================  ==========================  ==============================================

Data sample fields: ``gt_text`` (or ``gt_texts``, first used for training) the expert commentary;
``task`` (``'commentary'`` | ``'pose_generation'``, default: every task of ``train_tasks``, see
below); ``sample_id``; optional ``gt_expert_joints`` ``(F, 17, 3)`` (else decoded from
``expert_pose``) and ``learner_joints``.

Predictions (fields the metrics read): ``pred_text`` (:class:`CaptionMetric`, ``expertaf``
preset), ``pred_retrieval_scores`` ``(N,)`` over the candidate pool and ``gt_candidate_index``
(:class:`CandidateRetrievalMetric`), ``pred_expert_joints`` / ``gt_expert_joints`` ``(F, 17, 3)``
root-relative metres and ``pred_pose_stream`` counts (:class:`GeneratedPoseMetric`, PA-MPJPE mm).

The ``K`` pose tokens ``<pose_k>`` plus frame-end and sequence-end are ``K + 2`` ids appended
after the LM's vocabulary (:mod:`.pose_token_stream`); their input embeddings and output-head rows
are the modules ``pose_token_embed`` and ``pose_token_head``, so an optimizer param group can give
them their own (lower) learning rate (``paramwise_cfg.custom_keys``), and any HF causal LM works
without resizing its vocabulary. As in the reference code, their rows start at the mean of the
LM's input / output embeddings.
"""
from __future__ import annotations

import copy
import json
import re
from typing import Dict, List, Optional, Sequence

import torch
import torch.nn.functional as F
from mmengine.model import BaseModel
from torch import nn

from motionkit.registry import MODELS
from motionkit.utils.checkpoint import safe_load
from motionkit.utils.remote_code import check_remote_code_kwargs
from .backbones import build_backbone, resolve_pretrained_path
from .pose_token_stream import parse_pose_stream, pose_stream_ids
from .word_level_tokenizer import build_word_vocab, detokenize, make_word_tokenizer

__all__ = ['ExpertFeedbackModel', 'EXPERTAF_TEMPLATES', 'PLACEHOLDERS']

PLACEHOLDERS = ('<learner_video>', '<learner_pose>', '<expert_video>', '<expert_pose>')
_PLACEHOLDER_RE = re.compile('(' + '|'.join(re.escape(p) for p in PLACEHOLDERS) + ')')
TASKS = ('commentary', 'pose_generation')

# motionkit's paraphrases of ExpertAF's conversational prompts (not the reference wording): the
# learner's video and pose, then the question; pose generation also reads the commentary.
EXPERTAF_TEMPLATES = {
    'commentary': ('<learner_video> <learner_pose> This video and pose sequence show a person doing '
                   'one step of a task. As an expert coach, say what they should do better.'),
    'pose_generation': ('<learner_video> <learner_pose> This video and pose sequence show a person '
                        'doing one step of a task. An expert says: {commentary} Give the pose '
                        'sequence of the step done as the expert says.'),
}


def _field(sample, key, default=None):
    if sample is None:
        return default
    if isinstance(sample, dict):
        return sample.get(key, default)
    return sample.get(key, default) if hasattr(sample, 'get') else getattr(sample, key, default)


def _commentary(sample) -> Optional[str]:
    text = _field(sample, 'gt_text')
    if text is None:
        texts = _field(sample, 'gt_texts')
        text = texts[0] if texts else None
    return text


@MODELS.register_module()
class ExpertFeedbackModel(BaseModel):
    """ExpertAF's multimodal LLM head over any Hugging Face causal LM.

    Args:
        backbone: :func:`~motionkit.models.llm_heads.build_backbone` spec
            (``dict(preset='tiny-llama')``, ``dict(preset='llama3-8b')``,
            ``dict(pretrained='smollm2-135m-instruct' | '/local/dir')``).
        tokenizer: ``dict(type='word_level', corpus=[...], fields=(...), extra_texts=[...])`` or
            ``dict(type='pretrained', path=...)`` (default for a pretrained backbone). ``None``
            only with ``init_device='meta'``.
        pose_tokenizer: config of the (frozen) :class:`PoseTokenizer` whose codes the data carry.
        pose_tokenizer_checkpoint: its trained weights (a runner checkpoint or a state dict).
        video_dim: width ``D_v`` of the cached video features.
        num_pose_frames: ``F`` poses per clip (ExpertAF: 10).
        video_projector, pose_projector: projector types (ExpertAF: ``mlp2x_gelu`` for both).
        pose_input: how the learner's (and expert's) pose enters the prompt: ``'tokens'`` (one
            mapped embedding per code, ``F * M`` tokens; ExpertAF), ``'global'`` (one token: the
            mean code vector of the clip through the projector; the global-pose ablation),
            ``'text'`` (the pose written as ``<pose_k>`` tokens of the LM vocabulary; the
            LLaVA-FT w/ pose baseline) or ``None`` (the no-pose ablation).
        use_video: ``False`` drops the video placeholders (the no-video ablation).
        templates: ``{task: prompt}``; prompts use the placeholders and ``{commentary}``.
        chat_format: ``'auto'`` (the tokenizer's chat template if it has one, else plain),
            ``'chat'`` or ``'plain'`` (``'USER: ... ASSISTANT:'``).
        train_tasks: tasks a sample without a ``task`` field is trained on (each is one
            sequence in the batch: the mixing of sec. 3.3).
        pose_loss_weight: weight of the pose-generation cross-entropy.
        finetune: ``'full'`` or ``'frozen'`` (only mappers and pose tokens train).
        max_new_tokens: commentary generation budget; pose streams get ``F * (M + 1) + 1``.
        pose_decoding: ``'free'`` (as the reference: any id may come, :func:`parse_pose_stream`
            repairs) or ``'constrained'`` (the stream grammar is enforced while decoding).
        condition_on: commentary that conditions retrieval and pose generation at test time,
            ``'generated'`` (eq. 2: ``F_r`` reads the generated commentary) or ``'gt'``.
        predict_tasks: what ``predict`` computes: any of ``'commentary'``, ``'retrieval'``,
            ``'pose_generation'``.
        retrieval_chunk: candidates scored per forward pass.
        init_device: ``'meta'`` builds without memory (paper-scale parameter counts).
    """

    def __init__(self,
                 backbone: dict,
                 pose_tokenizer: dict,
                 video_dim: int,
                 tokenizer: Optional[dict] = None,
                 pose_tokenizer_checkpoint: Optional[str] = None,
                 num_pose_frames: int = 10,
                 video_projector: str = 'mlp2x_gelu',
                 pose_projector: str = 'mlp2x_gelu',
                 pose_input: Optional[str] = 'tokens',
                 use_video: bool = True,
                 templates: Optional[dict] = None,
                 chat_format: str = 'auto',
                 train_tasks: Sequence[str] = ('commentary', 'pose_generation'),
                 pose_loss_weight: float = 1.0,
                 finetune: str = 'full',
                 max_length: int = 2048,
                 max_new_tokens: int = 48,
                 pose_decoding: str = 'free',
                 condition_on: str = 'generated',
                 predict_tasks: Sequence[str] = ('commentary', 'retrieval', 'pose_generation'),
                 retrieval_chunk: int = 64,
                 init_device: Optional[str] = None,
                 data_preprocessor: Optional[dict] = None,
                 init_cfg: Optional[dict] = None) -> None:
        super().__init__(data_preprocessor=data_preprocessor, init_cfg=init_cfg)
        checks = [('pose_input', pose_input, ('tokens', 'global', 'text', None)),
                  ('chat_format', chat_format, ('auto', 'chat', 'plain')),
                  ('finetune', finetune, ('full', 'frozen')),
                  ('pose_decoding', pose_decoding, ('free', 'constrained')),
                  ('condition_on', condition_on, ('generated', 'gt'))]
        for name, value, allowed in checks:
            if value not in allowed:
                raise ValueError(f'ExpertFeedbackModel: {name} must be one of {allowed}, got {value!r}')
        bad = set(train_tasks) - set(TASKS)
        if bad or not train_tasks:
            raise ValueError(f'ExpertFeedbackModel: train_tasks must be a non-empty subset of {TASKS}, '
                             f'got {list(train_tasks)}')
        bad = set(predict_tasks) - {'commentary', 'retrieval', 'pose_generation'}
        if bad:
            raise ValueError(f'ExpertFeedbackModel: unknown predict_tasks {sorted(bad)}')
        self.pose_input = pose_input
        self.use_video = bool(use_video)
        self.templates = dict(EXPERTAF_TEMPLATES)
        self.templates.update(templates or {})
        for task in TASKS:
            if task not in self.templates:
                raise KeyError(f'ExpertFeedbackModel: templates lack the {task!r} prompt')
        self.chat_format = chat_format
        self.train_tasks = tuple(train_tasks)
        self.pose_loss_weight = float(pose_loss_weight)
        self.finetune = finetune
        self.max_length = int(max_length)
        self.max_new_tokens = int(max_new_tokens)
        self.pose_decoding = pose_decoding
        self.condition_on = condition_on
        self.predict_tasks = tuple(predict_tasks)
        self.retrieval_chunk = int(retrieval_chunk)
        self.num_pose_frames = int(num_pose_frames)
        self.init_device = init_device
        self._word_level = False
        self._vocab: Optional[List[str]] = None

        # the frozen PCT tokenizer: its codebook feeds PoseMapper, its decoder gives joints
        self.pose_tokenizer = MODELS.build(copy.deepcopy(pose_tokenizer))
        if pose_tokenizer_checkpoint:
            self._load_pose_tokenizer(pose_tokenizer_checkpoint)
        elif init_device != 'meta' and not bool(getattr(self.pose_tokenizer.quantizer, 'initialized', True)):
            # an untrained EMA codebook is all zeros: every code would map to the same vector
            from mmengine.logging import print_log
            print_log('ExpertFeedbackModel: no pose_tokenizer_checkpoint; the PCT codebook is drawn at random '
                      '(seed 0). Set pose_tokenizer_checkpoint to the trained PoseTokenizer for real runs.',
                      logger='current', level=30)
            with torch.no_grad():
                q = self.pose_tokenizer.quantizer
                q.codebook.copy_(torch.randn(q.codebook.shape, generator=torch.Generator().manual_seed(0)))
                q.initialized.fill_(True)  # so that encode() (float pose inputs) uses this codebook
        self.pose_tokenizer.requires_grad_(False)
        self.num_pose_tokens = int(self.pose_tokenizer.num_tokens)
        self.codebook_size = int(self.pose_tokenizer.codebook_size)
        code_dim = int(self.pose_tokenizer.quantizer.codebook.shape[1])

        self.tokenizer = self._build_tokenizer(tokenizer, backbone)
        special = None
        if self.tokenizer is not None:
            special = dict(pad_token_id=self.tokenizer.pad_token_id, bos_token_id=self.tokenizer.bos_token_id,
                           eos_token_id=self.tokenizer.eos_token_id)
        self.lm = build_backbone(backbone, vocab_size=None if self.tokenizer is None else len(self.tokenizer),
                                 special_ids=special, init_device=init_device)
        if self.lm.config.is_encoder_decoder:
            raise ValueError('ExpertFeedbackModel: the backbone must be a causal (decoder-only) LM')
        emb = self.lm.get_input_embeddings().weight
        hidden = emb.shape[1]
        self.base_vocab = int(self.lm.get_output_embeddings().weight.shape[0])
        if self.tokenizer is not None and len(self.tokenizer) > emb.shape[0]:
            raise ValueError(f'ExpertFeedbackModel: the tokenizer has {len(self.tokenizer)} tokens but the '
                             f'LM embeds {emb.shape[0]}')
        factory = dict(device='meta') if init_device == 'meta' else {}
        # K code tokens + frame end + sequence end (ExpertAF adds 2,048 + 2 tokens)
        self.pose_token_embed = nn.Embedding(self.codebook_size + 2, hidden, **factory)
        self.pose_token_head = nn.Linear(hidden, self.codebook_size + 2, bias=False, **factory)
        self._init_pose_rows()
        self.video_mapper = MODELS.build(dict(type='VisualMapper', in_dim=video_dim, out_dim=hidden,
                                              projector=video_projector)).to(emb.device)
        self.pose_mapper = MODELS.build(dict(type='PoseMapper', codebook_size=self.codebook_size,
                                             code_dim=code_dim, out_dim=hidden,
                                             projector=pose_projector)).to(emb.device)
        if init_device != 'meta':
            self.pose_mapper.load_codebook(self.pose_tokenizer.quantizer.codebook)
        if finetune == 'frozen':
            self.lm.requires_grad_(False)
        self.pool_codes: Optional[torch.Tensor] = None
        self.pool_ids: Optional[List[str]] = None

    # ------------------------------------------------------------------ construction
    def _load_pose_tokenizer(self, path: str) -> None:
        import os
        path = os.path.expanduser(path)
        if not os.path.isfile(path):
            raise FileNotFoundError(f'ExpertFeedbackModel: pose_tokenizer_checkpoint not found: {path}')
        # a runner checkpoint holds the message hub's HistoryBuffer: motionkit's safe loader
        # (weights_only with inert stand-ins) reads it, a bare weights_only torch.load does not
        state = safe_load(path, map_location='cpu')
        state = state.get('state_dict', state)
        missing, unexpected = self.pose_tokenizer.load_state_dict(state, strict=False)
        if missing:
            raise KeyError(f'ExpertFeedbackModel: {path} lacks pose tokenizer weights {missing[:5]}')

    @torch.no_grad()
    def _init_pose_rows(self) -> None:
        """Pose-token rows start at the mean input / output embedding (as the reference code)."""
        if self.init_device == 'meta':
            return
        self.pose_token_embed.weight.copy_(self.lm.get_input_embeddings().weight.mean(0, keepdim=True))
        self.pose_token_head.weight.copy_(self.lm.get_output_embeddings().weight.mean(0, keepdim=True))

    def init_weights(self) -> None:
        """Keep every weight as built: the LM is already initialised (from config) or loaded, the
        pose rows start at the embedding means, and the Runner's recursive ``init_weights`` would
        otherwise reach transformers' initialisation and redraw the LM."""
        self._is_init = True

    def _build_tokenizer(self, cfg: Optional[dict], backbone: dict):
        if cfg is None and 'pretrained' in backbone:
            cfg = dict(type='pretrained', path=backbone['pretrained'])
        if cfg is None:
            if self.init_device == 'meta':
                return None
            raise ValueError('ExpertFeedbackModel: give a tokenizer (word_level or pretrained)')
        cfg = dict(cfg)
        kind = cfg.pop('type', 'word_level')
        if kind == 'word_level':
            self._word_level = True
            extra = [_PLACEHOLDER_RE.sub(' ', t).replace('{commentary}', ' ') for t in self.templates.values()]
            extra += ['user assistant :'] + list(cfg.pop('extra_texts', []))
            self._vocab = build_word_vocab(cfg.pop('corpus', []), tuple(cfg.pop('fields', ('commentary', ))),
                                           extra, splits=cfg.pop('splits', None))
            if cfg:
                raise KeyError(f'ExpertFeedbackModel: unknown word-level tokenizer keys {sorted(cfg)}')
            if self.chat_format == 'chat':
                raise ValueError("ExpertFeedbackModel: a word-level tokenizer has no chat template; use "
                                 "chat_format='plain' or 'auto'")
            return make_word_tokenizer(self._vocab)
        if kind == 'pretrained':
            import os
            from transformers import AutoTokenizer
            path = resolve_pretrained_path(cfg.pop('path'))
            if not os.path.isdir(path):
                raise FileNotFoundError(f'ExpertFeedbackModel: tokenizer directory not found: {path}')
            check_remote_code_kwargs(cfg, 'ExpertFeedbackModel tokenizer')
            tok = AutoTokenizer.from_pretrained(path, **cfg)
            if tok.pad_token is None:
                tok.pad_token = tok.eos_token
            return tok
        raise KeyError(f"ExpertFeedbackModel: tokenizer type must be 'word_level' or 'pretrained', got {kind!r}")

    # the word-level vocabulary travels with the weights (uint8 JSON bytes: DDP broadcasts tensors)
    def get_extra_state(self):
        if not self._word_level:
            return torch.zeros(0, dtype=torch.uint8)
        return torch.tensor(list(json.dumps(dict(vocab=self._vocab)).encode('utf-8')), dtype=torch.uint8)

    def set_extra_state(self, state) -> None:
        state = json.loads(bytes(state.tolist()).decode('utf-8')) if state.numel() else {}
        vocab = state.get('vocab')
        if not vocab or not self._word_level or vocab == self._vocab:
            return
        if len(vocab) != len(self._vocab):
            raise ValueError(f'ExpertFeedbackModel: the checkpoint vocabulary has {len(vocab)} words, this '
                             f'model built {len(self._vocab)}; build it from the same corpus')
        self._vocab = list(vocab)
        self.tokenizer = make_word_tokenizer(self._vocab)

    @property
    def device(self) -> torch.device:
        return self.lm.get_input_embeddings().weight.device

    # ------------------------------------------------------------------ ids
    @property
    def frame_end_id(self) -> int:
        return self.base_vocab + self.codebook_size

    @property
    def seq_end_id(self) -> int:
        return self.base_vocab + self.codebook_size + 1

    @property
    def pose_stream_length(self) -> int:
        return self.num_pose_frames * (self.num_pose_tokens + 1) + 1

    def pose_token_strings(self, ids: Sequence[int]) -> str:
        """Readable form of extended ids: ``<pose_k>``, ``<pose_frame_end>``, ``<pose_seq_end>``,
        LM tokens as text."""
        out = []
        for i in ids:
            i = int(i)
            if i == self.frame_end_id:
                out.append('<pose_frame_end>')
            elif i == self.seq_end_id:
                out.append('<pose_seq_end>')
            elif i >= self.base_vocab:
                out.append(f'<pose_{i - self.base_vocab}>')
            else:
                out.append(self.tokenizer.decode([i]))
        return ''.join(out)

    def _text_ids(self, text: str) -> List[int]:
        return self.tokenizer(text, add_special_tokens=False)['input_ids'] if text.strip() else []

    def _format(self, task: str, commentary: Optional[str]) -> str:
        prompt = self.templates[task]
        if '{commentary}' in prompt:
            if commentary is None:
                raise KeyError(f'ExpertFeedbackModel: the {task!r} prompt needs a commentary (gt_text)')
            prompt = prompt.replace('{commentary}', commentary)
        if not self.use_video:
            prompt = prompt.replace('<learner_video>', '').replace('<expert_video>', '')
        if self.pose_input is None:
            prompt = prompt.replace('<learner_pose>', '').replace('<expert_pose>', '')
        use_chat = self.chat_format == 'chat' or (self.chat_format == 'auto' and not self._word_level and
                                                  getattr(self.tokenizer, 'chat_template', None))
        if use_chat:
            return self.tokenizer.apply_chat_template([dict(role='user', content=prompt)], tokenize=False,
                                                      add_generation_prompt=True)
        return f'user : {prompt} assistant :'

    def _slots(self, name: str, sample: dict) -> tuple:
        """-> (ids for this placeholder, embedding rows or None). Video and mapped pose slots are
        sentinel ids ``-1 - index`` replaced in :meth:`_embed`."""
        value = sample.get(name[1:-1])
        if value is None:
            raise KeyError(f'ExpertFeedbackModel: the prompt has {name} but the sample has no '
                           f'inputs[{name[1:-1]!r}]')
        sentinel = -1 - PLACEHOLDERS.index(name)
        if name.endswith('video>'):
            if value.ndim != 2 or value.shape[-1] != self.video_mapper.in_dim:
                raise ValueError(f'ExpertFeedbackModel: {name[1:-1]} must be (T, {self.video_mapper.in_dim}) '
                                 f'features, got {tuple(value.shape)}')
            return [sentinel] * value.shape[0], ('video', value)
        expect = (self.num_pose_frames, self.num_pose_tokens)
        if tuple(value.shape) != expect or value.is_floating_point():
            raise ValueError(f'ExpertFeedbackModel: {name[1:-1]} must be {expect} integer PCT codes, got '
                             f'{tuple(value.shape)} {value.dtype}')
        if self.pose_input == 'text':  # LLaVA-FT w/ pose: the pose as <pose_k> tokens
            return pose_stream_ids(value, self.base_vocab, self.codebook_size).tolist(), None
        if self.pose_input == 'global':
            return [sentinel], ('global_pose', value)
        return [sentinel] * value.numel(), ('pose', value)

    def prompt_row(self, task: str, sample: dict, commentary: Optional[str]) -> tuple:
        """Ids of one prompt (sentinels at placeholders) and the features that fill them in order."""
        text = self._format(task, commentary)
        ids, fills = [], []
        bos = self.tokenizer.bos_token_id
        if bos is not None and not (self.tokenizer.bos_token and text.startswith(self.tokenizer.bos_token)):
            ids.append(bos)
        for chunk in _PLACEHOLDER_RE.split(text):
            if chunk in PLACEHOLDERS:
                slot_ids, fill = self._slots(chunk, sample)
                ids += slot_ids
                if fill is not None:
                    fills.append(fill)
            elif chunk:
                ids += self._text_ids(chunk)
        if len(ids) > self.max_length:
            raise ValueError(f'ExpertFeedbackModel: a {task} prompt has {len(ids)} tokens > max_length='
                             f'{self.max_length}')
        return ids, fills

    def response_ids(self, task: str, sample: dict, commentary: Optional[str]) -> List[int]:
        eos = self.tokenizer.eos_token_id
        if task == 'commentary':
            if commentary is None:
                raise KeyError('ExpertFeedbackModel: a commentary sample needs gt_text')
            return self._text_ids(commentary) + [eos]
        codes = sample.get('expert_pose')
        if codes is None:
            raise KeyError("ExpertFeedbackModel: a pose_generation sample needs inputs['expert_pose']")
        return pose_stream_ids(codes, self.base_vocab, self.codebook_size).tolist() + [eos]

    # ------------------------------------------------------------------ embeddings / logits
    def _map_fills(self, fills: List[tuple]) -> List[torch.Tensor]:
        """Map every sample's features in one call per kind (video, pose, global pose)."""
        out: List[Optional[torch.Tensor]] = [None] * len(fills)
        for kind in ('video', 'pose', 'global_pose'):
            idx = [i for i, (k, _) in enumerate(fills) if k == kind]
            if not idx:
                continue
            values = [fills[i][1].to(self.device) for i in idx]
            if kind == 'video':
                dtype = next(self.video_mapper.parameters()).dtype
                mapped = self.video_mapper(torch.cat(values).to(dtype))
                sizes = [len(v) for v in values]
            elif kind == 'pose':
                mapped = self.pose_mapper(torch.stack(values)).flatten(0, 2)  # (n * F * M, H)
                sizes = [v.numel() for v in values]
            else:  # one token: the clip's mean code vector through the projector
                vectors = self.pose_mapper.codebook(torch.stack(values).long()).mean(dim=(1, 2))
                mapped = self.pose_mapper.proj(vectors)
                sizes = [1] * len(values)
            for i, m in zip(idx, mapped.split(sizes)):
                out[i] = m
        return out

    def _embed(self, ids: torch.Tensor, fills: List[List[tuple]]) -> torch.Tensor:
        """``(B, L)`` extended ids with sentinels -> ``(B, L, H)`` input embeddings."""
        embed = self.lm.get_input_embeddings()
        is_pose = ids >= self.base_vocab
        emb = embed(ids.clamp(0, self.base_vocab - 1).masked_fill(is_pose, 0))
        if bool(is_pose.any()):
            pose_emb = self.pose_token_embed((ids - self.base_vocab).clamp(0, self.codebook_size + 1))
            emb = torch.where(is_pose[..., None], pose_emb.to(emb.dtype), emb)
        flat = [(b, f) for b, row in enumerate(fills) for f in row]
        if not flat:
            return emb
        mapped = self._map_fills([f for _, f in flat])
        emb = emb.clone()
        start = 0
        for b, row in enumerate(fills):
            pos = (ids[b] < 0).nonzero().flatten()
            rows = torch.cat(mapped[start:start + len(row)]) if row else emb.new_zeros(0, emb.shape[-1])
            start += len(row)
            if len(rows) != len(pos):
                raise ValueError(f'ExpertFeedbackModel: sample {b} has {len(pos)} placeholder positions but '
                                 f'{len(rows)} feature rows')
            emb[b, pos] = rows.to(emb.dtype)
        return emb

    def _logits(self, hidden: torch.Tensor) -> torch.Tensor:
        """Hidden states ``(..., H)`` -> logits over the extended vocabulary ``(..., V + K + 2)``."""
        return torch.cat([self.lm.get_output_embeddings()(hidden), self.pose_token_head(hidden)], -1).float()

    def _decoder(self):
        return self.lm.get_decoder()

    def _run(self, emb: torch.Tensor, mask: Optional[torch.Tensor] = None,
             positions: Optional[torch.Tensor] = None, cache=None, use_cache: bool = False) -> tuple:
        """The LM body on input embeddings -> ``(last hidden states (B, L, H), KV cache)``.
        transformers renamed ``past_key_values`` to ``cache`` (5.2x): pass whichever it takes."""
        import inspect
        decoder = self._decoder()
        kwargs = dict(inputs_embeds=emb, attention_mask=mask, position_ids=positions, use_cache=use_cache)
        if cache is not None:
            name = 'cache' if 'cache' in inspect.signature(decoder.forward).parameters else 'past_key_values'
            kwargs[name] = cache
        out = decoder(**kwargs)
        new_cache = getattr(out, 'cache', None)
        if new_cache is None:
            new_cache = getattr(out, 'past_key_values', None)
        return out.last_hidden_state, new_cache

    # ------------------------------------------------------------------ batches
    @torch.no_grad()
    def pose_codes(self, pose, where: str = 'pose') -> torch.Tensor:
        """PCT codes ``(F, M)`` of a pose input: integer codes pass through; float joints
        ``(F, J, 3)`` (any root) are encoded by the frozen PoseTokenizer (the data pipeline cannot:
        datasets never import models)."""
        pose = torch.as_tensor(pose)
        if not pose.is_floating_point():
            return pose
        j = int(self.pose_tokenizer.num_joints)
        if pose.ndim != 3 or tuple(pose.shape[1:]) != (j, 3):
            raise ValueError(f'ExpertFeedbackModel: {where} must be (F, M) integer PCT codes or (F, {j}, 3) '
                             f'joints, got {tuple(pose.shape)} {pose.dtype}')
        return self.pose_tokenizer.encode(pose.to(self.device)).cpu()

    def _per_sample(self, inputs: dict, n: int) -> List[dict]:
        if not isinstance(inputs, dict):
            raise TypeError(f'ExpertFeedbackModel: inputs must be a dict of learner_video / learner_pose / '
                            f'expert_pose, got {type(inputs).__name__}')
        rows = [dict() for _ in range(n)]
        for key, value in inputs.items():
            if value is None:
                continue
            if len(value) != n:
                raise ValueError(f'ExpertFeedbackModel: inputs[{key!r}] has {len(value)} items for {n} samples')
            for i in range(n):
                rows[i][key] = self.pose_codes(value[i], key) if key.endswith('_pose') else value[i]
        return rows

    def _batch_size(self, inputs: dict, data_samples) -> int:
        if data_samples is not None:
            return len(data_samples)
        for value in inputs.values():
            if value is not None:
                return len(value)
        raise ValueError('ExpertFeedbackModel: empty inputs')

    def _pad(self, rows: List[List[int]], left: bool) -> tuple:
        n = max(len(r) for r in rows)
        pad = self.tokenizer.pad_token_id
        ids = torch.full((len(rows), n), pad, dtype=torch.long)
        mask = torch.zeros((len(rows), n), dtype=torch.long)
        for i, r in enumerate(rows):
            sl = slice(n - len(r), n) if left else slice(0, len(r))
            ids[i, sl] = torch.tensor(r, dtype=torch.long)
            mask[i, sl] = 1
        return ids.to(self.device), mask.to(self.device)

    def build_train_batch(self, inputs: dict, data_samples: Sequence) -> dict:
        """Right-padded prompt + response rows with labels (-100 on prompt and padding) and the
        task of each row. A sample without ``task`` gives one row per task of ``train_tasks``."""
        samples = self._per_sample(inputs, len(data_samples))
        rows, labels, fills, tasks = [], [], [], []
        for sample, ds in zip(samples, data_samples):
            task = _field(ds, 'task')
            for t in ([task] if task else self.train_tasks):
                if t not in TASKS:
                    raise ValueError(f'ExpertFeedbackModel: unknown task {t!r} (sample '
                                     f'{_field(ds, "sample_id")!r}); use {TASKS}')
                text = _commentary(ds)
                p, f = self.prompt_row(t, sample, text)
                r = self.response_ids(t, sample, text)
                if len(p) + len(r) > self.max_length:
                    raise ValueError(f'ExpertFeedbackModel: prompt + response of {len(p) + len(r)} tokens > '
                                     f'max_length={self.max_length} (sample {_field(ds, "sample_id")!r})')
                rows.append(p + r)
                labels.append([-100] * len(p) + r)
                fills.append(f)
                tasks.append(t)
        ids, mask = self._pad(rows, left=False)
        lab = torch.full_like(ids, -100)
        for i, r in enumerate(labels):
            lab[i, :len(r)] = torch.tensor(r, device=ids.device)
        return dict(input_ids=ids, attention_mask=mask, labels=lab, fills=fills, tasks=tasks)

    # ------------------------------------------------------------------ forward
    def forward(self, inputs: dict, data_samples: Optional[list] = None, mode: str = 'tensor'):
        if mode == 'loss':
            return self.loss(inputs, data_samples)
        if mode == 'predict':
            return self.predict(inputs, data_samples)
        if mode == 'tensor':
            batch = self.build_train_batch(inputs, data_samples)
            emb = self._embed(batch['input_ids'], batch['fills'])
            return self._logits(self._run(emb, batch['attention_mask'])[0])
        raise ValueError(f"ExpertFeedbackModel: mode must be 'loss', 'predict' or 'tensor', got {mode!r}")

    def loss(self, inputs: dict, data_samples: Sequence) -> Dict[str, torch.Tensor]:
        """Response-only cross-entropy, averaged over the response tokens of each task:
        ``loss_commentary`` and ``pose_loss_weight * loss_pose``."""
        if data_samples is None:
            raise ValueError('ExpertFeedbackModel.loss needs data_samples (commentary, task)')
        batch = self.build_train_batch(inputs, data_samples)
        emb = self._embed(batch['input_ids'], batch['fills'])
        hidden = self._run(emb, batch['attention_mask'])[0]
        # causal shift: hidden t predicts label t + 1; only response positions get logits
        labels = batch['labels'][:, 1:]
        hidden = hidden[:, :-1]
        losses = {}
        for task, key in (('commentary', 'loss_commentary'), ('pose_generation', 'loss_pose')):
            rows = torch.tensor([t == task for t in batch['tasks']], device=labels.device)
            sel = (labels != -100) & rows[:, None]
            if not bool(sel.any()):
                if task in self.train_tasks:  # keep every trainable parameter in the graph (DDP)
                    losses[key] = hidden.sum() * 0.0 + self.pose_token_head.weight.sum() * 0.0
                continue
            loss = F.cross_entropy(self._logits(hidden[sel]), labels[sel])
            losses[key] = loss * (self.pose_loss_weight if task == 'pose_generation' else 1.0)
        return losses

    # ------------------------------------------------------------------ generation
    @torch.no_grad()
    def generate(self, task: str, samples: List[dict], commentaries: Sequence[Optional[str]]) -> List[List[int]]:
        """Greedy decoding with a KV cache over the extended vocabulary; returns the generated ids
        of each sample (with the stop token when one came). Commentary may only use the LM's own vocabulary;
        pose streams are free or grammar-constrained (``pose_decoding``)."""
        rows, fills = [], []
        for sample, text in zip(samples, commentaries):
            p, f = self.prompt_row(task, sample, text)
            rows.append(p)
            fills.append(f)
        ids, mask = self._pad(rows, left=True)
        emb = self._embed(ids, fills)
        positions = (mask.cumsum(-1) - 1).clamp(min=0)
        hidden, cache = self._run(emb, mask, positions, use_cache=True)
        h = hidden[:, -1]
        n = len(rows)
        eos = self.tokenizer.eos_token_id
        stops = {eos, self.seq_end_id} if task == 'pose_generation' else {eos}
        budget = self.pose_stream_length if task == 'pose_generation' else self.max_new_tokens
        generated = [[] for _ in range(n)]
        done = torch.zeros(n, dtype=torch.bool, device=self.device)
        last_pos = positions[:, -1]
        for step in range(budget):
            logits = self._logits(h)
            logits = logits + self._vocab_mask(task, step, generated, logits)
            nxt = logits.argmax(-1)
            for i in range(n):
                if not done[i]:
                    generated[i].append(int(nxt[i]))
                    done[i] = int(nxt[i]) in stops
            if bool(done.all()) or step == budget - 1:
                break
            nxt_emb = self._embed(nxt[:, None], [[] for _ in range(n)])
            mask = torch.cat([mask, mask.new_ones(n, 1)], dim=1)
            last_pos = last_pos + 1
            hidden, cache = self._run(nxt_emb, mask, last_pos[:, None], cache, use_cache=True)
            h = hidden[:, -1]
        return generated

    def _vocab_mask(self, task: str, step: int, generated: List[List[int]], logits: torch.Tensor) -> torch.Tensor:
        """Additive ``-inf`` mask over the extended vocabulary for the next token."""
        mask = torch.zeros_like(logits)
        if task == 'commentary':
            mask[:, self.base_vocab:] = float('-inf')  # text only
            return mask
        if self.pose_decoding == 'free':
            return mask
        m, k = self.num_pose_tokens, self.codebook_size
        mask[:] = float('-inf')
        for i, g in enumerate(generated):
            done_frames = len(g) // (m + 1)
            in_frame = len(g) % (m + 1)
            if done_frames >= self.num_pose_frames:
                mask[i, self.seq_end_id] = 0
            elif in_frame == m:
                mask[i, self.frame_end_id] = 0
            else:
                mask[i, self.base_vocab:self.base_vocab + k] = 0
        return mask

    def decode_text(self, ids: Sequence[int]) -> str:
        text = self.tokenizer.decode([i for i in ids if i < self.base_vocab], skip_special_tokens=True)
        return (detokenize(text) if self._word_level else text).strip()

    # ------------------------------------------------------------------ retrieval (eq. 2)
    def set_retrieval_pool(self, codes: torch.Tensor, ids: Optional[Sequence] = None) -> None:
        """The candidate expert poses ``(N, F, M)`` (ExpertAF: the test set's expert demonstrations)
        and their ids (matched to ``sample_id`` for ``gt_candidate_index``)."""
        codes = torch.as_tensor(codes)
        if codes.ndim != 3 or tuple(codes.shape[1:]) != (self.num_pose_frames, self.num_pose_tokens):
            raise ValueError(f'ExpertFeedbackModel.set_retrieval_pool: codes must be (N, {self.num_pose_frames}, '
                             f'{self.num_pose_tokens}), got {tuple(codes.shape)}')
        if ids is not None and len(ids) != len(codes):
            raise ValueError(f'ExpertFeedbackModel.set_retrieval_pool: {len(ids)} ids for {len(codes)} candidates')
        self.pool_codes = codes.long()
        self.pool_ids = None if ids is None else [str(i) for i in ids]

    def set_candidates_from_items(self, items) -> int:
        """Fill the retrieval pool from dataset items (``inputs['expert_pose']``, ``sample_id``)."""
        codes, ids = [], []
        for n, item in enumerate(items):
            inputs = item.get('inputs') or {}
            if inputs.get('expert_pose') is None:
                raise KeyError(f'ExpertFeedbackModel: pool item {n} has no inputs["expert_pose"]')
            codes.append(self.pose_codes(inputs['expert_pose'], f'pool item {n} expert_pose'))
            ids.append(_field(item.get('data_samples'), 'sample_id', n))
        self.set_retrieval_pool(torch.stack(codes), ids)
        return len(codes)

    @torch.no_grad()
    def retrieval_scores(self, sample: dict, commentary: str, candidates: torch.Tensor) -> torch.Tensor:
        """ExpertAF eq. 2: ``sum_t log p(c_t | V, commentary, c_<t)`` over the code tokens of each
        candidate stream ``(N, F, M)`` -> ``(N,)``. The prompt runs once; its KV cache is repeated
        over a chunk of candidates, which run as one batch. Frame-end / sequence-end tokens are the
        same in every candidate and are not scored."""
        p, fills = self.prompt_row('pose_generation', sample, commentary)
        ids = torch.tensor([p], device=self.device)
        hidden, prefix = self._run(self._embed(ids, [fills]), use_cache=True)
        h_last = hidden[:, -1]
        first = torch.log_softmax(self._logits(h_last), -1)[0]  # (V + K + 2,)
        streams = pose_stream_ids(candidates.to(self.device), self.base_vocab, self.codebook_size)
        is_code = streams < self.frame_end_id
        scores = []
        for chunk, code_mask in zip(streams.split(self.retrieval_chunk), is_code.split(self.retrieval_chunk)):
            c = len(chunk)
            cache = copy.deepcopy(prefix)
            cache.batch_repeat_interleave(c)
            mask = torch.ones(c, len(p) + chunk.shape[1] - 1, dtype=torch.long, device=self.device)
            hid = self._run(self._embed(chunk[:, :-1], [[] for _ in range(c)]), mask, cache=cache,
                            use_cache=True)[0]
            logp = torch.log_softmax(self._logits(hid), -1).gather(-1, chunk[:, 1:, None])[..., 0]
            logp = torch.cat([first[chunk[:, 0]][:, None], logp], dim=1)
            scores.append((logp * code_mask).sum(-1))
        return torch.cat(scores).cpu()

    # ------------------------------------------------------------------ predict
    @torch.no_grad()
    def decode_poses(self, codes: torch.Tensor) -> torch.Tensor:
        """``(F, M)`` codes -> ``(F, 17, 3)`` root-relative joints (the PoseTokenizer decoder)."""
        return self.pose_tokenizer.decode(codes.to(self.device)).cpu()

    @torch.no_grad()
    def predict(self, inputs: dict, data_samples: Optional[list] = None) -> list:
        n = self._batch_size(inputs, data_samples)
        if data_samples is None:
            from mmengine.structures import BaseDataElement
            data_samples = [BaseDataElement() for _ in range(n)]
        samples = self._per_sample(inputs, n)
        gt = [_commentary(ds) for ds in data_samples]
        generated = None
        if 'commentary' in self.predict_tasks or self.condition_on == 'generated':
            generated = [self.decode_text(g) for g in self.generate('commentary', samples, [None] * n)]
            for ds, text in zip(data_samples, generated):
                ds.pred_text = text
        cond = generated if self.condition_on == 'generated' else gt
        if 'retrieval' in self.predict_tasks:
            if self.pool_codes is None:
                raise RuntimeError('ExpertFeedbackModel: retrieval needs a candidate pool: call '
                                   'set_retrieval_pool() or add ExpertAFPoolHook to custom_hooks')
            for sample, ds, text in zip(samples, data_samples, cond):
                ds.pred_retrieval_scores = self.retrieval_scores(sample, text, self.pool_codes)
                sid = _field(ds, 'sample_id')
                if self.pool_ids is not None and sid is not None and str(sid) in self.pool_ids:
                    ds.gt_candidate_index = self.pool_ids.index(str(sid))
        if 'pose_generation' in self.predict_tasks:
            streams = self.generate('pose_generation', samples, cond)
            for sample, ds, stream in zip(samples, data_samples, streams):
                codes, counts = parse_pose_stream(stream, self.base_vocab, self.codebook_size,
                                                  self.num_pose_frames, self.num_pose_tokens,
                                                  stop_ids=(self.tokenizer.eos_token_id, ))
                if codes is None:  # no valid frame: predict "no correction" (the learner's pose)
                    codes = torch.as_tensor(sample['learner_pose']).long().cpu()
                ds.pred_expert_pose = codes
                ds.pred_expert_joints = self.decode_poses(codes)
                ds.pred_pose_stream = counts
                if _field(ds, 'gt_expert_joints') is None and sample.get('expert_pose') is not None:
                    ds.gt_expert_joints = self.decode_poses(torch.as_tensor(sample['expert_pose']).long())
        return data_samples


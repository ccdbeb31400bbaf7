"""``MultimodalActionRecognizer``: CoAMD's multi-modal action recognizer (MAR).

Kuang, Wang and Gui, "Multi-modal Action Recognizer Bridges Human Motion Generation and
Understanding" (CoAMD; arXiv 2604.17090, "Marrying Text-to-Motion Generation with Skeleton-Based
Action Recognition"), sec. 3.1-3.3, eq. 1 and 6, fig. 3:

* motion side (:class:`MultiStreamMotionEncoder`): joint / bone / motion streams of the absolute
  joint coordinates, a shallow projection per stream, a spatio-temporal transformer backbone, and
  per-stream embeddings ``e_j, e_b, e_m`` plus a fused ``e_f``, all unit vectors in the space of
  a frozen text encoder;
* text side: the frozen text encoder embeds the captions and the class-label texts (offline
  all-MiniLM-L6-v2 by default; CLIP ViT-B/32's text tower through :class:`HFTextEncoder` where its
  weights exist locally, as in the paper);
* training (eq. 1): InfoNCE with cosine similarity and temperature ``tau`` for every combination
  of a motion embedding (``e_j, e_b, e_m, e_f``) and a text embedding (the caption, the class
  label), optionally without the false negatives of the batch (texts whose sentence embeddings
  have ``(cos + 1) / 2`` above 0.9, the threshold of the reference code);
* recognition: multi-label scores = cosine between the motion embedding(s) and the embeddings of
  every class-label text;
* guidance (eq. 6): :meth:`score` ``S = sum_k w_k cos(R^k(x), c)``, differentiable w.r.t. the
  joints; default weights 0.7 for ``e_f`` and 0.1 for each stream (the reference code's).

The released reference recognizer trains only the class-label term with the fused embedding; this
class implements eq. 1 as the paper states it (both terms, all embeddings), with per-term weights
in the config.
"""
from __future__ import annotations

import math
import os.path as osp
from collections import OrderedDict
from typing import Dict, List, Mapping, Optional, Sequence, Union

import torch
import torch.nn.functional as F
from mmengine.model import BaseModel

from motionkit.registry import MODELS
from ..losses.info_nce import info_nce_loss
from .multi_stream_motion_encoder import MAR_STREAMS, MultiStreamMotionEncoder

__all__ = ['MultimodalActionRecognizer', 'DEFAULT_FUSED_WEIGHT', 'DEFAULT_STREAM_WEIGHT']

#: eq. 6 weights of the reference code's guidance: 0.7 * cos(e_f, c) + 0.1 * each stream.
DEFAULT_FUSED_WEIGHT = 0.7
DEFAULT_STREAM_WEIGHT = 0.1
_TEXT_KINDS = ('caption', 'label')

WeightsLike = Union[None, Mapping[str, float], Sequence[float], torch.Tensor]


def read_class_texts(path: str) -> List[str]:
    """Class-label texts from a file, one per line (blank lines are an error: they shift ids)."""
    if not osp.isfile(path):
        raise FileNotFoundError(f'class_texts file not found: {path}')
    with open(path, encoding='utf-8') as f:
        lines = [line.rstrip('\n') for line in f]
    while lines and not lines[-1].strip():
        lines.pop()
    empty = [i + 1 for i, line in enumerate(lines) if not line.strip()]
    if empty:
        raise ValueError(f'{path}: empty class text on line(s) {empty[:5]} (one class per line)')
    if not lines:
        raise ValueError(f'{path}: no class texts')
    return [line.strip() for line in lines]


@MODELS.register_module()
class MultimodalActionRecognizer(BaseModel):
    """CoAMD's MAR (see the module docstring).

    ``forward(inputs, data_samples, mode)``; ``inputs`` from :class:`MotionDataPreprocessor`:
    ``motion`` = absolute joints ``(B, T, J, 3)`` in metres (un-normalised: the model keeps its own
    statistics) and ``lengths``. Data samples carry ``gt_text`` (the caption) and, for the label
    term and the recognition metrics, ``gt_labels`` (class ids, from ``LoadActionLabels`` for
    classes built from captions or ``EncodeActionLabels`` for named classes; motions with an
    empty set leave the label term).

    * ``loss``: ``loss_caption`` and ``loss_label`` (each the sum over the motion embeddings of
      eq. 1's InfoNCE), plus the per-embedding terms for the log;
    * ``predict``: data samples with ``pred_score`` ``(C,)`` (cosine to every class text, weighted
      over the embeddings by ``predict_weights``), ``motion_embedding`` (``e_f``),
      ``motion_embedding_{joint,bone,motion}``, and with a caption ``text_embedding`` and
      ``sentence_embedding`` (the frozen caption embedding), as :class:`RecognitionMetric` and
      :class:`RetrievalMetric` read them;
    * ``tensor``: the embeddings dict.

    Args:
        arch: Size preset of the motion encoder (``'tiny'``, ``'paper'``; see ``MAR_ARCHS``).
        streams: Input streams (``('joint',)`` for the joints-only ablation of table 7).
        skeleton: Skeleton of the input joints.
        encoder: Extra :class:`MultiStreamMotionEncoder` arguments (``num_layers``, ...).
        text_encoder: Config (or module) of the frozen text encoder; default the offline MiniLM.
        class_texts: Class-label texts, or a file with one per line (read on first use, so the
            model builds without it); ``None``: no recognition scores and no label term.
        num_classes: Expected number of classes (checked against ``class_texts``).
        temperature: ``tau`` of eq. 1: one value, or ``dict(caption=, label=)``. Default: the
            reference code's 0.1 for captions and 0.4 for class labels.
        false_negative_threshold: Filtering threshold on the ``(cos + 1) / 2`` scale of the frozen
            text embeddings (0.9 in the reference code); ``None`` disables the filtering.
        loss_weights: ``dict(caption=, label=)`` weights of the two terms of eq. 1.
        predict_weights: Weights of the embeddings in the recognition scores (a dict as
            :meth:`score` takes); default ``{'fused': 1.0}`` (the reference evaluates ``e_f``).
        text_cache_size: Text embeddings kept in memory (the text encoder is frozen); 0 = none.
        data_preprocessor: Default ``MotionDataPreprocessor`` without statistics.
    """

    def __init__(self,
                 arch: str = 'paper',
                 streams: Sequence[str] = MAR_STREAMS,
                 skeleton: str = 't2m22',
                 encoder: Optional[dict] = None,
                 text_encoder: Optional[Union[dict, torch.nn.Module]] = None,
                 class_texts: Optional[Union[Sequence[str], str]] = None,
                 num_classes: Optional[int] = None,
                 temperature: Union[float, Mapping[str, float]] = None,
                 false_negative_threshold: Optional[float] = 0.9,
                 loss_weights: Optional[Mapping[str, float]] = None,
                 predict_weights: WeightsLike = None,
                 text_cache_size: int = 100_000,
                 data_preprocessor: Optional[dict] = None,
                 init_cfg: Optional[dict] = None) -> None:
        if data_preprocessor is None:
            data_preprocessor = dict(type='MotionDataPreprocessor')
        if isinstance(data_preprocessor, dict):  # motionkit's registry: works outside its scope
            data_preprocessor = MODELS.build(data_preprocessor)
        super().__init__(data_preprocessor=data_preprocessor, init_cfg=init_cfg)
        if text_encoder is None:
            text_encoder = dict(type='MiniLMSentenceEncoder')
        if isinstance(text_encoder, dict):
            text_encoder = MODELS.build(text_encoder)
        self.text_encoder = text_encoder
        self.text_encoder.requires_grad_(False)
        self.text_encoder.eval()
        text_dim = getattr(text_encoder, 'out_dim', None) or getattr(text_encoder, 'embed_dim',
                                                                      None)
        if not isinstance(text_dim, int):
            raise TypeError(f'MultimodalActionRecognizer: the text encoder '
                            f'{type(text_encoder).__name__} declares no out_dim / embed_dim')
        self.embed_dim = text_dim
        self.encoder = MultiStreamMotionEncoder(out_dims=text_dim, streams=streams,
                                                skeleton=skeleton, arch=arch, **(encoder or {}))

        if temperature is None:
            temperature = dict(caption=0.1, label=0.4)
        if not isinstance(temperature, Mapping):
            temperature = {k: float(temperature) for k in _TEXT_KINDS}
        self.temperature = self._check_kinds(temperature, 'temperature')
        if any(not v > 0 for v in self.temperature.values()):
            raise ValueError(f'temperature must be > 0, got {self.temperature}')
        if false_negative_threshold is not None and not 0 <= false_negative_threshold <= 1:
            raise ValueError(f'false_negative_threshold must be in [0, 1] or None, got '
                             f'{false_negative_threshold}')
        self.false_negative_threshold = false_negative_threshold
        self.loss_weights = self._check_kinds(loss_weights or dict(caption=1.0, label=1.0),
                                              'loss_weights')

        if isinstance(class_texts, str):
            self._class_texts_path, self._class_texts = class_texts, None
        elif class_texts is not None:
            texts = list(class_texts)
            if not texts or not all(isinstance(t, str) and t.strip() for t in texts):
                raise ValueError('class_texts must be non-empty strings')
            self._class_texts_path, self._class_texts = None, texts
        else:
            self._class_texts_path = self._class_texts = None
        if (num_classes is not None and self._class_texts is not None
                and len(self._class_texts) != num_classes):
            raise ValueError(f'num_classes={num_classes} but {len(self._class_texts)} class_texts')
        self.num_classes = num_classes if num_classes is not None else (
            None if self._class_texts is None else len(self._class_texts))
        self.predict_weights = self.resolve_weights(
            predict_weights if predict_weights is not None else {'fused': 1.0}, fill=False)
        self.text_cache_size = int(text_cache_size)
        self._text_cache: 'OrderedDict[str, torch.Tensor]' = OrderedDict()
        self._class_emb: List[torch.Tensor] = []  # a list: kept out of state_dict and .to()
        # a checkpoint can change a text encoder that lives in the state dict: forget the cache
        self._register_load_state_dict_pre_hook(self._clear_text_cache_hook)

    # ------------------------------------------------------------------ helpers
    @staticmethod
    def _check_kinds(values: Mapping[str, float], name: str) -> Dict[str, float]:
        unknown = set(values) - set(_TEXT_KINDS)
        missing = set(_TEXT_KINDS) - set(values)
        if unknown or missing:
            raise KeyError(f'{name} needs exactly the keys {_TEXT_KINDS}, got {sorted(values)}')
        return {k: float(values[k]) for k in _TEXT_KINDS}

    def _clear_text_cache_hook(self, *args, **kwargs) -> None:
        self._text_cache.clear()
        self._class_emb.clear()

    def train(self, mode: bool = True):
        super().train(mode)
        self.text_encoder.eval()  # frozen: no dropout, ever
        return self

    @property
    def streams(self) -> tuple:
        return self.encoder.streams

    @property
    def embedding_names(self) -> tuple:
        """Embeddings of :meth:`encode_motion`, in the order a weight vector follows."""
        return self.encoder.embedding_names

    @property
    def class_texts(self) -> Optional[List[str]]:
        """The class-label texts (read from ``class_texts`` file on first use)."""
        if self._class_texts is None and self._class_texts_path is not None:
            texts = read_class_texts(self._class_texts_path)
            if self.num_classes is not None and len(texts) != self.num_classes:
                raise ValueError(f'{self._class_texts_path}: {len(texts)} class texts, but '
                                 f'num_classes={self.num_classes}')
            self._class_texts = texts
            self.num_classes = len(texts)
        return self._class_texts

    @property
    def default_weights(self) -> Dict[str, float]:
        """eq. 6 default: 0.7 fused, 0.1 per stream of this model (the reference code's)."""
        return {'fused': DEFAULT_FUSED_WEIGHT, **{s: DEFAULT_STREAM_WEIGHT for s in self.streams}}

    def resolve_weights(self, weights: WeightsLike = None, fill: bool = True) -> Dict[str, float]:
        """Weights ``w_k`` of eq. 6 as ``{embedding: weight}``.

        Args:
            weights: ``None`` (:attr:`default_weights`); a dict over a subset of
                :attr:`embedding_names` (missing ones weigh 0); or a sequence / 1-D tensor with one
                weight per name of :attr:`embedding_names`, in that order (``fused``, then the
                streams: ``(fused, joint, bone, motion)`` as in recognizer guidance).
            fill: Give the missing names weight 0 in the result.

        Raises:
            KeyError: an unknown embedding name.
            ValueError: a vector of the wrong length, or non-finite weights.
        """
        names = self.embedding_names
        if weights is None:
            out = self.default_weights
        elif isinstance(weights, Mapping):
            unknown = [k for k in weights if k not in names]
            if unknown:
                raise KeyError(f'MultimodalActionRecognizer: unknown embedding(s) {unknown} in the '
                               f'weights; this model has {list(names)}')
            out = {k: float(v) for k, v in weights.items()}
        else:
            if isinstance(weights, torch.Tensor):
                weights = weights.detach().flatten().tolist()
            if isinstance(weights, str) or not isinstance(weights, Sequence):
                raise TypeError(f'weights must be a dict, a sequence or a tensor, got '
                                f'{type(weights).__name__}')
            if len(weights) != len(names):
                raise ValueError(f'MultimodalActionRecognizer: {len(weights)} weights given, but '
                                 f'this model has {len(names)} embeddings {list(names)} (one '
                                 f'weight each, in that order)')
            out = {k: float(v) for k, v in zip(names, weights)}
        if not all(math.isfinite(v) for v in out.values()):
            raise ValueError(f'weights must be finite, got {out}')
        if fill:
            out = {k: out.get(k, 0.0) for k in names}
        return out

    # ------------------------------------------------------------------ encoders
    def encode_motion(self, joints: torch.Tensor,
                      lengths: Optional[torch.Tensor] = None) -> Dict[str, torch.Tensor]:
        """Absolute joints ``(B, T, J, 3)`` (+ ``(B,)`` lengths) -> ``{joint, bone, motion, fused}``
        embeddings ``(B, D)``, unit norm (only the streams this model has)."""
        return self.encoder(joints, lengths)['embeddings']

    @torch.no_grad()
    def encode_text(self, texts: Sequence[str]) -> torch.Tensor:
        """``B`` texts -> ``(B, D)`` unit-norm embeddings of the frozen text encoder (cached)."""
        if isinstance(texts, str) or not isinstance(texts, Sequence) or not len(texts):
            raise TypeError('MultimodalActionRecognizer.encode_text: texts must be a non-empty '
                            'list of str')
        bad = [i for i, t in enumerate(texts) if not isinstance(t, str)]
        if bad:
            raise TypeError(f'MultimodalActionRecognizer.encode_text: texts[{bad[0]}] is '
                            f'{type(texts[bad[0]]).__name__}, not str')
        device = self.encoder.fusion_head[1].weight.device
        todo = list(OrderedDict.fromkeys(t for t in texts if t not in self._text_cache))
        new = {}
        if todo:
            emb = self.text_encoder(todo).float()
            if emb.shape != (len(todo), self.embed_dim):
                raise ValueError(f'text encoder {type(self.text_encoder).__name__} returned '
                                 f'{tuple(emb.shape)} for {len(todo)} texts; expected '
                                 f'({len(todo)}, {self.embed_dim})')
            if not torch.isfinite(emb).all():
                raise ValueError('text encoder returned non-finite embeddings')
            emb = F.normalize(emb, dim=-1)
            new = dict(zip(todo, emb))
            if self.text_cache_size > 0:
                for t, e in new.items():
                    self._text_cache[t] = e.detach().cpu()
                while len(self._text_cache) > self.text_cache_size:
                    self._text_cache.popitem(last=False)
        if not todo:  # all cached: one host-to-device copy
            return torch.stack([self._text_cache[t] for t in texts]).to(device)
        rows = [new[t] if t in new else self._text_cache[t].to(device) for t in texts]
        return torch.stack(rows).to(device)

    def class_text_embeddings(self) -> torch.Tensor:
        """``(C, D)`` embeddings of the class-label texts (kept on the model's device)."""
        if self.class_texts is None:
            raise ValueError('MultimodalActionRecognizer: no class_texts configured')
        device = self.encoder.fusion_head[1].weight.device
        cached = self._class_emb[0] if self._class_emb else None
        if cached is None or cached.device != device:
            self._class_emb[:] = [self.encode_text(self.class_texts)]
        return self._class_emb[0]

    def _text_target(self, texts_or_text_emb, batch: int, device) -> torch.Tensor:
        if isinstance(texts_or_text_emb, torch.Tensor):
            c = texts_or_text_emb.to(device).float()
            if c.ndim == 1:
                c = c[None]
            if c.ndim != 2 or c.shape[1] != self.embed_dim or c.shape[0] not in (1, batch):
                raise ValueError(f'score: text embeddings must be ({batch}, {self.embed_dim}) or '
                                 f'({self.embed_dim},), got {tuple(texts_or_text_emb.shape)}')
            if not torch.isfinite(c).all():
                raise ValueError('score: text embeddings contain NaN or inf')
            return F.normalize(c, dim=-1).expand(batch, -1)
        texts = [texts_or_text_emb] if isinstance(texts_or_text_emb, str) else \
            list(texts_or_text_emb)
        if len(texts) not in (1, batch):
            raise ValueError(f'score: {len(texts)} texts for a batch of {batch} motions')
        return self.encode_text(texts).expand(batch, -1)

    def score(self, joints: torch.Tensor, texts_or_text_emb: Union[str, Sequence[str], torch.Tensor],
              weights: WeightsLike = None,
              lengths: Optional[torch.Tensor] = None) -> torch.Tensor:
        """CoAMD eq. 6: ``S = sum_k w_k cos(R^k(x), c)`` per motion, differentiable w.r.t. joints.

        Args:
            joints: ``(B, T, J, 3)`` absolute joints.
            texts_or_text_emb: ``B`` texts (or one for all), or ``(B, D)`` / ``(D,)`` embeddings.
            weights: see :meth:`resolve_weights`; default 0.7 fused + 0.1 per stream.
            lengths: ``(B,)`` valid frames.

        Returns:
            ``(B,)`` scores. Call it in eval mode for guidance: in train mode the input
            normalisation uses the batch's statistics.
        """
        w = self.resolve_weights(weights)
        emb = self.encode_motion(joints, lengths)
        c = self._text_target(texts_or_text_emb, joints.shape[0], joints.device)
        total = joints.new_zeros(joints.shape[0])
        for name, weight in w.items():
            if weight != 0.0:
                total = total + weight * (emb[name] * c).sum(-1)
        return total

    # ------------------------------------------------------------------ forward
    def _captions(self, data_samples) -> List[str]:
        texts = []
        for i, sample in enumerate(data_samples):
            text = sample.get('gt_text') if hasattr(sample, 'get') else None
            if not isinstance(text, str):
                sid = sample.metainfo.get('sample_id', i) if hasattr(sample, 'metainfo') else i
                raise KeyError(f'MultimodalActionRecognizer: data sample {sid!r} has no gt_text '
                               '(caption); put SampleCaption in the pipeline')
            texts.append(text)
        return texts

    def _sampled_labels(self, data_samples) -> tuple:
        """One class per motion: a random one of its ``gt_labels`` in training, else the first
        (the reference data loader draws one label per caption).

        Returns:
            ``(rows, labels)``: the batch rows that have a class and their class ids. A motion
            with an empty label set (a caption without verb, see ``LoadActionLabels``) has no
            positive text in the label term and leaves it.
        """
        rows, out = [], []
        for i, sample in enumerate(data_samples):
            labels = sample.get('gt_labels') if hasattr(sample, 'get') else None
            if labels is None:
                sid = sample.metainfo.get('sample_id', i) if hasattr(sample, 'metainfo') else i
                raise KeyError(f'MultimodalActionRecognizer: data sample {sid!r} has no gt_labels; '
                               'put LoadActionLabels / EncodeActionLabels in the pipeline, or set '
                               "loss_weights['label']=0")
            labels = labels.flatten()
            if labels.numel() == 0:
                continue
            if (labels < 0).any() or (labels >= self.num_classes).any():
                raise ValueError(f'MultimodalActionRecognizer: labels {labels.tolist()} outside '
                                 f'[0, {self.num_classes})')
            k = int(torch.randint(len(labels), ())) if self.training else 0
            rows.append(i)
            out.append(int(labels[k]))
        return torch.tensor(rows, dtype=torch.long), torch.tensor(out, dtype=torch.long)

    def loss(self, embeddings: Dict[str, torch.Tensor], data_samples) -> dict:
        """eq. 1: InfoNCE for every (motion embedding, text embedding) combination."""
        device = self.encoder.fusion_head[1].weight.device
        targets = {}  # kind -> (batch rows, text embeddings)
        if self.loss_weights['caption'] > 0:
            targets['caption'] = (None, self.encode_text(self._captions(data_samples)))
        if self.loss_weights['label'] > 0:
            if self.class_texts is None:
                raise ValueError("MultimodalActionRecognizer: the label term needs class_texts "
                                 "(or set loss_weights['label']=0)")
            rows, labels = self._sampled_labels(data_samples)
            if len(rows) == len(data_samples):
                rows = None
            targets['label'] = (rows, self.class_text_embeddings()[labels.to(device)])
        losses = {}
        for kind, (rows, text) in targets.items():
            # the frozen text embeddings decide which pairs are the same text
            sentence = text if self.false_negative_threshold is not None else None
            total = 0.0
            for name, emb in embeddings.items():
                emb = emb if rows is None else emb[rows.to(device)]
                if emb.shape[0] == 0:  # no motion of the batch has a class
                    term = embeddings[name].sum() * 0.0
                else:
                    term = info_nce_loss(emb, text, self.temperature[kind], sentence,
                                         self.false_negative_threshold)
                losses[f'nce_{kind}_{name}'] = term.detach()
                total = total + term
            losses[f'loss_{kind}'] = self.loss_weights[kind] * total
        return losses

    def class_scores(self, embeddings: Dict[str, torch.Tensor]) -> torch.Tensor:
        """``(B, C)`` recognition scores: ``sum_k w_k cos(e_k, class text)`` (``predict_weights``)."""
        classes = self.class_text_embeddings()
        scores = 0.0
        for name, weight in self.predict_weights.items():
            scores = scores + weight * embeddings[name] @ classes.t()
        return scores

    def forward(self, inputs: dict, data_samples=None, mode: str = 'tensor'):
        if not isinstance(inputs, dict) or 'motion' not in inputs:
            raise TypeError('MultimodalActionRecognizer: inputs must be dict(motion=(B, T, J, 3), '
                            'lengths=(B,)) from MotionDataPreprocessor')
        embeddings = self.encode_motion(inputs['motion'], inputs.get('lengths'))
        if mode == 'tensor':
            return embeddings
        if mode == 'loss':
            if data_samples is None:
                raise ValueError("MultimodalActionRecognizer: mode='loss' needs data samples")
            return self.loss(embeddings, data_samples)
        if mode == 'predict':
            if data_samples is None:
                raise ValueError("MultimodalActionRecognizer: mode='predict' needs data samples")
            scores = self.class_scores(embeddings) if self.class_texts is not None else None
            has_text = [isinstance(s.get('gt_text'), str) for s in data_samples]
            text_emb = self.encode_text(self._captions(data_samples)) if all(has_text) else None
            for i, sample in enumerate(data_samples):
                if scores is not None:
                    sample.pred_score = scores[i].detach()
                sample.motion_embedding = embeddings['fused'][i].detach()
                for name in self.streams:
                    sample.set_field(embeddings[name][i].detach(), f'motion_embedding_{name}')
                if text_emb is not None:
                    sample.text_embedding = text_emb[i]
                    sample.sentence_embedding = text_emb[i]
            return data_samples
        raise ValueError(f"mode must be 'loss', 'predict' or 'tensor', got {mode!r}")

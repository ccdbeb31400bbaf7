"""Text-motion matching evaluator of Guo et al. (CVPR 2022, "Generating Diverse and Natural 3D
Human Motions from Text"), trainable in-house.

Every published text-to-motion number (FID, R-precision, MM-Dist, Diversity, MultiModality) is
computed in the embedding space of this evaluator. Its design:

* text encoder: per token, a word vector plus a linear projection of a 15-way part-of-speech
  one-hot, then a bidirectional GRU over the caption (``sos`` ... ``eos``), and an MLP on the two
  final hidden states;
* motion encoder: a "movement" convolution encoder that downsamples the features (without the 4
  foot-contact channels) by ``unit_length`` = 4, then a bidirectional GRU and an MLP;
  on absolute joint coordinates (``feature_dim = 3 J``, ``contact_dims = 0``: the in-house
  evaluators MARDM / ACMDM / CoAMD retrain for their absolute-coordinate generators, normalised
  with per-coordinate ``22 x 3`` statistics) the same network reads the flattened joints;
* loss: contrastive hinge loss with margin 10 on Euclidean distances, negatives made by shifting
  the batch (``ContrastiveLoss`` of the original training script).

Word vectors: the original uses GloVe 840B (300-d). Where it is not available, a learned embedding
over hashed word ids is used (``word_embedding='hashed'``); a GloVe-style ``.npy`` matrix with its
vocabulary can be given instead. A modern alternative objective is ``loss='infonce'``
(symmetric InfoNCE on cosine similarities, as TMR).

The evaluator keeps its own feature statistics (``mean``/``std`` buffers saved in its checkpoint):
it takes raw features and normalises them itself, whatever the generator under test used.
"""
from __future__ import annotations

import json
import zlib
from typing import Optional, Sequence, Union

import numpy as np
import torch
import torch.nn.functional as F
from mmengine.model import BaseModel
from torch import nn
from torch.nn.utils.rnn import pack_padded_sequence

from motionkit.registry import MODELS

# The 15 part-of-speech categories of Guo et al.'s word vectorizer: universal POS tags, five
# motion-specific word classes ("VIP" words), and OTHER.
POS_CATEGORIES = ('VERB', 'NOUN', 'DET', 'ADP', 'NUM', 'AUX', 'PRON', 'ADJ', 'ADV', 'Loc_VIP',
                  'Body_VIP', 'Obj_VIP', 'Act_VIP', 'Desc_VIP', 'OTHER')

# motionkit's own word lists for the VIP classes (the class names follow Guo et al.; to reproduce
# the official evaluator's inputs exactly, pass its lists as ``vip_words``).
DEFAULT_VIP_WORDS = {
    'Loc_VIP': ('left', 'right', 'clockwise', 'counterclockwise', 'anticlockwise', 'forward',
                'backward', 'back', 'front', 'up', 'down', 'straight', 'sideways', 'around',
                'circle', 'place', 'side', 'behind', 'ahead', 'diagonally'),
    'Body_VIP': ('arm', 'arms', 'hand', 'hands', 'leg', 'legs', 'foot', 'feet', 'knee', 'knees',
                 'head', 'shoulder', 'shoulders', 'elbow', 'elbows', 'wrist', 'hip', 'hips',
                 'waist', 'torso', 'body', 'chest', 'back', 'toe', 'toes', 'heel', 'finger'),
    'Obj_VIP': ('ball', 'chair', 'stair', 'stairs', 'step', 'box', 'floor', 'ground', 'wall',
                'table', 'obstacle', 'basket', 'rope', 'bench'),
    'Act_VIP': ('walk', 'walks', 'run', 'runs', 'jog', 'jogs', 'jump', 'jumps', 'hop', 'hops',
                'kick', 'kicks', 'punch', 'punches', 'wave', 'waves', 'squat', 'squats', 'lunge',
                'lunges', 'throw', 'throws', 'clap', 'claps', 'bow', 'bows', 'turn', 'turns',
                'raise', 'raises', 'sit', 'sits', 'stand', 'stands', 'dribble', 'dribbles',
                'shoot', 'shoots', 'balance', 'balances', 'step', 'steps', 'spin', 'spins'),
    'Desc_VIP': ('slowly', 'quickly', 'fast', 'slow', 'carefully', 'high', 'low', 'wide',
                 'deep', 'deeply', 'twice', 'once', 'again', 'briskly', 'gently', 'hard'),
}

SPECIAL_WORDS = ('unk', 'sos', 'eos')


def pos_category(word: str, pos: str, vip_lookup: dict) -> int:
    """Index in :data:`POS_CATEGORIES` of a ``word/POS`` token: VIP classes win over the tag."""
    if word in vip_lookup:
        return vip_lookup[word]
    if pos in POS_CATEGORIES[:9]:
        return POS_CATEGORIES.index(pos)
    return POS_CATEGORIES.index('OTHER')


def hashed_word_id(word: str, num_buckets: int) -> int:
    """Stable word id (crc32, identical across processes and machines); 0..2 are unk/sos/eos."""
    if word in SPECIAL_WORDS:
        return SPECIAL_WORDS.index(word)
    return len(SPECIAL_WORDS) + zlib.crc32(word.encode('utf-8')) % (num_buckets - len(SPECIAL_WORDS))


class MovementConvEncoder(nn.Module):
    """Two stride-2 convolutions: (B, T, D) -> (B, T // 4, out) (Guo et al.'s movement encoder).

    With ``lengths``, the first convolution's outputs past each motion's end are zeroed, so the
    second convolution sees exactly what it would see for that motion alone (the original code lets
    the padding leak into the last unit; pass ``lengths=None`` to reproduce that).
    """

    def __init__(self, in_dim: int, hidden: int, out_dim: int, dropout: float = 0.2):
        super().__init__()
        self.conv1 = nn.Sequential(nn.Conv1d(in_dim, hidden, 4, 2, 1), nn.Dropout(dropout),
                                   nn.LeakyReLU(0.2, inplace=True))
        self.conv2 = nn.Sequential(nn.Conv1d(hidden, out_dim, 4, 2, 1), nn.Dropout(dropout),
                                   nn.LeakyReLU(0.2, inplace=True))
        self.out = nn.Linear(out_dim, out_dim)

    def forward(self, x: torch.Tensor, lengths: Optional[torch.Tensor] = None) -> torch.Tensor:
        h = self.conv1(x.transpose(1, 2))
        if lengths is not None:
            half = torch.div(lengths.to(h.device), 2, rounding_mode='floor')
            h = h * (torch.arange(h.shape[-1], device=h.device)[None] < half[:, None])[:, None]
        return self.out(self.conv2(h).transpose(1, 2))


class BiGRUEncoder(nn.Module):
    """Bidirectional GRU over a padded sequence; the two final hidden states -> MLP -> embedding."""

    def __init__(self, in_dim: int, hidden: int, out_dim: int):
        super().__init__()
        self.input_emb = nn.Linear(in_dim, hidden)
        self.gru = nn.GRU(hidden, hidden, batch_first=True, bidirectional=True)
        self.hidden0 = nn.Parameter(torch.randn(2, 1, hidden) * 0.01)
        self.out = nn.Sequential(nn.Linear(2 * hidden, hidden), nn.LayerNorm(hidden),
                                 nn.LeakyReLU(0.2, inplace=True), nn.Linear(hidden, out_dim))

    def forward(self, x: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
        h0 = self.hidden0.expand(-1, x.shape[0], -1).contiguous()
        packed = pack_padded_sequence(self.input_emb(x), lengths.clamp(min=1).cpu(),
                                      batch_first=True, enforce_sorted=False)
        _, hidden = self.gru(packed, h0)
        return self.out(torch.cat([hidden[0], hidden[1]], dim=-1))


@MODELS.register_module()
class T2MEvaluator(BaseModel):
    """Guo et al.'s text-motion matching model (see the module docstring).

    ``forward(inputs, data_samples, mode)``: ``inputs`` from :class:`MotionDataPreprocessor` (raw,
    un-normalised features ``motion`` (B, T, D) and ``lengths``); each data sample holds
    ``gt_tokens`` (``word/POS`` strings, ``sos``/``eos`` included, as ``SampleCaption`` makes them)
    and ``sent_len`` in its metainfo.

    * ``loss``: the matching loss;
    * ``predict``: data samples with ``text_embedding`` and ``gt_motion_embedding`` (and
      ``pred_motion_embedding`` = the same, so that T2M metrics on real data give the real-vs-real
      reference numbers);
    * ``tensor``: ``(text_embedding, motion_embedding)``.

    Args:
        feature_dim: Motion feature width (263 HumanML3D, 251 KIT; 66 for t2m22 absolute joint
            coordinates, which may also be given as ``(B, T, 22, 3)``).
        contact_dims: Trailing feature channels the motion encoder drops: 4 (the foot contacts of
            HumanML3D / KIT features, as in the original evaluator), 0 for absolute coordinates.
        mean, std / mean_path, std_path: The evaluator's own feature statistics.
        unit_length: Temporal downsampling of the movement encoder (4).
        movement_hidden, movement_dim: Movement encoder widths (512, 512 in the paper).
        motion_hidden, text_hidden: GRU widths (1024 and 512 in the paper).
        embed_dim: Shared embedding size (512).
        word_dim: Word-vector size (300, GloVe).
        word_embedding: ``'hashed'`` (learned, ``num_word_buckets`` rows) or ``'pretrained'``
            (``word_vectors_path``: ``(V, word_dim)`` .npy, ``word_vocab_path``: one word per line).
            Without ``word_vectors_path`` the vectors come from the checkpoint (a converted
            official evaluator; ``num_words`` rows, or as many as the checkpoint has when None) and
            the vocabulary file is read on first use, so the model builds without the files.
        freeze_word_vectors: Keep pretrained word vectors fixed (as GloVe is in the paper).
        oov_pos: Part of speech of a word outside the ``'pretrained'`` vocabulary: ``'tag'`` (its
            own tag / VIP class) or ``'other'`` (Guo et al.'s ``WordVectorizer``: the ``unk``
            vector with the OTHER class, what the published evaluator saw).
        loss: ``'hinge'`` (Guo et al., ``margin``) or ``'infonce'`` (``temperature``).
        vip_words: Word lists of the VIP part-of-speech classes, or a JSON file of them (read on
            first use; ``tools/model_converters/t2m_evaluator_official.py`` writes the official
            lists from the user's copy of the original code).
        mask_padding: Keep padding out of the movement convolutions, so a padded batch encodes
            exactly like each motion alone. ``False`` reproduces the original code, where the last
            unit of a motion sees some padding.
    """

    def __init__(self,
                 feature_dim: int = 263,
                 contact_dims: int = 4,
                 mean: Optional[Sequence[float]] = None,
                 std: Optional[Sequence[float]] = None,
                 mean_path: Optional[str] = None,
                 std_path: Optional[str] = None,
                 unit_length: int = 4,
                 movement_hidden: int = 512,
                 movement_dim: int = 512,
                 motion_hidden: int = 1024,
                 text_hidden: int = 512,
                 embed_dim: int = 512,
                 word_dim: int = 300,
                 word_embedding: str = 'hashed',
                 num_word_buckets: int = 8192,
                 word_vectors_path: Optional[str] = None,
                 word_vocab_path: Optional[str] = None,
                 num_words: Optional[int] = None,
                 freeze_word_vectors: bool = True,
                 oov_pos: str = 'tag',
                 loss: str = 'hinge',
                 margin: float = 10.0,
                 temperature: float = 0.1,
                 vip_words: Optional[Union[dict, str]] = None,
                 mask_padding: bool = True,
                 data_preprocessor: Optional[dict] = None,
                 init_cfg: Optional[dict] = None):
        super().__init__(data_preprocessor=data_preprocessor, init_cfg=init_cfg)
        if unit_length != 4:
            raise ValueError(f'unit_length must be 4 (two stride-2 convolutions), got {unit_length}')
        if loss not in ('hinge', 'infonce'):
            raise ValueError(f"loss must be 'hinge' or 'infonce', got {loss!r}")
        if not 0 <= contact_dims < feature_dim:
            raise ValueError(f'contact_dims must be in [0, feature_dim={feature_dim}), got '
                             f'{contact_dims}')
        self.feature_dim = feature_dim
        self.contact_dims = contact_dims
        self.unit_length = unit_length
        self.loss_type = loss
        self.mask_padding = mask_padding
        self.margin = margin
        self.temperature = temperature
        if mean_path is not None or std_path is not None:
            if mean is not None or std is not None:
                raise ValueError('T2MEvaluator: give mean/std or mean_path/std_path, not both')
            mean, std = np.load(mean_path), np.load(std_path)
        mean_t = torch.zeros(feature_dim) if mean is None else torch.as_tensor(
            np.asarray(mean, dtype=np.float32))
        std_t = torch.ones(feature_dim) if std is None else torch.as_tensor(
            np.asarray(std, dtype=np.float32))
        if mean_t.shape != (feature_dim, ) or std_t.shape != (feature_dim, ):
            raise ValueError(f'T2MEvaluator: mean/std must have shape ({feature_dim},), got '
                             f'{tuple(mean_t.shape)} and {tuple(std_t.shape)}')
        # checked in numpy: the model may be built on the meta device (no values there)
        std_np = None if std is None else np.asarray(std, dtype=np.float32)
        if std_np is not None and (not np.isfinite(std_np).all() or (std_np <= 0).any()):
            raise ValueError('T2MEvaluator: std must be finite and > 0')
        # persistent: the statistics travel with the checkpoint
        self.register_buffer('mean', mean_t)
        self.register_buffer('std', std_t)
        self.register_buffer('stats_flag', torch.tensor(mean is not None))

        if oov_pos not in ('tag', 'other'):
            raise ValueError(f"oov_pos must be 'tag' or 'other', got {oov_pos!r}")
        if oov_pos == 'other' and word_embedding != 'pretrained':
            raise ValueError("oov_pos='other' needs word_embedding='pretrained' (a vocabulary)")
        self.oov_pos = oov_pos
        self._vip_words = vip_words if vip_words is not None else DEFAULT_VIP_WORDS
        self._vip_lookup = None if isinstance(self._vip_words, str) else \
            self._make_vip_lookup(self._vip_words, 'vip_words')

        self.word_embedding_type = word_embedding
        self._vocab_path = word_vocab_path
        self.vocab = None
        self._vectors_from_checkpoint = False
        if word_embedding == 'hashed':
            self.num_word_buckets = num_word_buckets
            self.word_emb = nn.Embedding(num_word_buckets, word_dim)
        elif word_embedding == 'pretrained':
            if word_vocab_path is None:
                raise ValueError("word_embedding='pretrained' needs word_vocab_path (and "
                                 'word_vectors_path, unless the vectors come from the checkpoint)')
            if word_vectors_path is not None:
                vectors = np.load(word_vectors_path)
                self.vocab = self._read_vocab(word_vocab_path)
                if vectors.ndim != 2 or vectors.shape != (len(self.vocab), word_dim):
                    raise ValueError(f'{word_vectors_path}: expected ({len(self.vocab)}, {word_dim}) '
                                     f'to match {word_vocab_path}, got {vectors.shape}')
                self.word_emb = nn.Embedding.from_pretrained(
                    torch.as_tensor(vectors, dtype=torch.float32), freeze=freeze_word_vectors)
            else:
                self.word_emb = nn.Embedding(num_words or 1, word_dim)
                self.word_emb.weight.requires_grad_(not freeze_word_vectors)
                self._vectors_from_checkpoint = num_words is None
        else:
            raise ValueError(f"word_embedding must be 'hashed' or 'pretrained', got "
                             f'{word_embedding!r}')
        self.pos_emb = nn.Linear(len(POS_CATEGORIES), word_dim)
        self.text_encoder = BiGRUEncoder(word_dim, text_hidden, embed_dim)
        self.movement_encoder = MovementConvEncoder(feature_dim - contact_dims, movement_hidden,
                                                    movement_dim)
        self.motion_encoder = BiGRUEncoder(movement_dim, motion_hidden, embed_dim)

    @staticmethod
    def _make_vip_lookup(vip_words: dict, where: str) -> dict:
        lookup = {}
        for name, words in vip_words.items():
            if name not in POS_CATEGORIES:
                raise KeyError(f'{where}: unknown class {name!r}; known: {POS_CATEGORIES[9:14]}')
            for word in words:
                lookup.setdefault(word, POS_CATEGORIES.index(name))
        return lookup

    @property
    def vip_lookup(self) -> dict:
        """word -> VIP class index (read from the ``vip_words`` JSON file on first use)."""
        if self._vip_lookup is None:
            with open(self._vip_words, encoding='utf-8') as f:
                self._vip_lookup = self._make_vip_lookup(json.load(f), self._vip_words)
        return self._vip_lookup

    @staticmethod
    def _read_vocab(path: str) -> dict:
        with open(path, encoding='utf-8') as f:
            vocab = {line.rstrip('\n'): i for i, line in enumerate(f)}
        if 'unk' not in vocab:
            raise ValueError(f'{path}: the vocabulary needs an "unk" entry')
        return vocab

    def _pretrained_vocab(self) -> dict:
        if self.vocab is None:
            vocab = self._read_vocab(self._vocab_path)
            if len(vocab) != self.word_emb.num_embeddings:
                raise ValueError(f'{self._vocab_path}: {len(vocab)} words, but the word vectors '
                                 f'have {self.word_emb.num_embeddings} rows')
            self.vocab = vocab
        return self.vocab

    def _load_from_state_dict(self, state_dict, prefix, *args, **kwargs):
        # vectors that come from the checkpoint: take its vocabulary size (children load after
        # this, so the new embedding is filled by the same load_state_dict call, strict or not)
        key = prefix + 'word_emb.weight'
        if self._vectors_from_checkpoint and key in state_dict:
            rows, dim = state_dict[key].shape
            if dim != self.word_emb.embedding_dim:
                raise ValueError(f'{key}: checkpoint word vectors are {dim}-d, the model expects '
                                 f'{self.word_emb.embedding_dim}')
            if rows != self.word_emb.num_embeddings:
                frozen = not self.word_emb.weight.requires_grad
                self.word_emb = nn.Embedding(rows, dim).to(self.word_emb.weight.device)
                self.word_emb.weight.requires_grad_(not frozen)
                self.vocab = None
        super()._load_from_state_dict(state_dict, prefix, *args, **kwargs)

    @property
    def feature_stats_set(self) -> bool:
        """Whether real statistics were given (config, ``set_feature_stats`` or a checkpoint)."""
        return bool(self.stats_flag.item())

    def set_feature_stats(self, mean, std) -> None:
        """Set the evaluator's own feature statistics (``DatasetStatsHook`` calls this)."""
        mean_t = torch.as_tensor(np.asarray(mean, dtype=np.float32))
        std_t = torch.as_tensor(np.asarray(std, dtype=np.float32))
        if mean_t.shape != self.mean.shape or std_t.shape != self.std.shape:
            raise ValueError(f'T2MEvaluator.set_feature_stats: expected ({self.feature_dim},), got '
                             f'{tuple(mean_t.shape)} and {tuple(std_t.shape)}')
        if not torch.isfinite(std_t).all() or (std_t <= 0).any():
            raise ValueError('T2MEvaluator.set_feature_stats: std must be finite and > 0')
        self.mean.copy_(mean_t)
        self.std.copy_(std_t)
        self.stats_flag.fill_(True)

    # ------------------------------------------------------------------ text
    def word_id(self, word: str) -> int:
        if self.word_embedding_type == 'pretrained':
            vocab = self._pretrained_vocab()
            return vocab.get(word, vocab['unk'])
        return hashed_word_id(word, self.num_word_buckets)

    def tokenize(self, token_lists: Sequence[Sequence[str]]) -> tuple:
        """``word/POS`` token lists -> word ids (B, L), POS one-hots (B, L, 15), lengths (B,)."""
        if not token_lists:
            raise ValueError('T2MEvaluator.tokenize: empty batch')
        max_len = max(len(t) for t in token_lists)
        ids = torch.zeros(len(token_lists), max_len, dtype=torch.long)
        pos = torch.zeros(len(token_lists), max_len, len(POS_CATEGORIES))
        lengths = torch.zeros(len(token_lists), dtype=torch.long)
        for b, tokens in enumerate(token_lists):
            n = 0
            for i, token in enumerate(tokens):
                word, sep, tag = token.rpartition('/')
                if not sep:
                    raise ValueError(f'T2MEvaluator: token {token!r} is not "word/POS"')
                ids[b, i] = self.word_id(word)
                if self.oov_pos == 'other' and word not in self._pretrained_vocab():
                    pos[b, i, POS_CATEGORIES.index('OTHER')] = 1.0
                else:
                    pos[b, i, pos_category(word, tag, self.vip_lookup)] = 1.0
                if word != 'unk' or i == 0:
                    n = i + 1
            lengths[b] = n
        return ids, pos, lengths

    def encode_text(self, token_lists: Sequence[Sequence[str]],
                    sent_lens: Optional[Sequence[int]] = None) -> torch.Tensor:
        """Caption tokens -> (B, embed_dim). Trailing ``unk`` padding is ignored."""
        ids, pos, lengths = self.tokenize(token_lists)
        if sent_lens is not None:
            lengths = torch.as_tensor(list(sent_lens), dtype=torch.long)
        device = self.mean.device
        x = self.word_emb(ids.to(device)) + self.pos_emb(pos.to(device))
        return self.text_encoder(x, lengths)

    # ---------------------------------------------------------------- motion
    def encode_motion(self, motion: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
        """Raw features (B, T, D) (or joints (B, T, J, 3) with ``D = 3 J``) with valid lengths
        (B,) -> (B, embed_dim)."""
        if motion.ndim == 4 and motion.shape[-1] == 3:
            motion = motion.flatten(2)
        if motion.ndim != 3 or motion.shape[-1] != self.feature_dim:
            raise ValueError(f'T2MEvaluator: motion must be (B, T, {self.feature_dim}), got '
                             f'{tuple(motion.shape)}')
        if not torch.isfinite(motion).all():
            raise ValueError('T2MEvaluator: motion contains NaN or inf')
        x = (motion - self.mean) / self.std
        if self.contact_dims:
            x = x[..., :-self.contact_dims]
        t = x.shape[1] - x.shape[1] % self.unit_length
        if t == 0:
            raise ValueError(f'T2MEvaluator: motions need at least {self.unit_length} frames')
        # zero the padding so that a padded batch encodes like each motion alone
        frame = torch.arange(x.shape[1], device=x.device)[None, :, None]
        x = torch.where(frame < lengths.to(x.device)[:, None, None], x, torch.zeros_like(x))
        movements = self.movement_encoder(x[:, :t], lengths if self.mask_padding else None)
        return self.motion_encoder(movements, torch.div(lengths, self.unit_length,
                                                         rounding_mode='floor'))

    # ------------------------------------------------------------------ loss
    def matching_loss(self, text_emb: torch.Tensor, motion_emb: torch.Tensor) -> dict:
        batch = text_emb.shape[0]
        if self.loss_type == 'infonce':
            t = F.normalize(text_emb, dim=-1)
            m = F.normalize(motion_emb, dim=-1)
            logits = t @ m.t() / self.temperature
            target = torch.arange(batch, device=logits.device)
            return dict(loss_infonce=0.5 * (F.cross_entropy(logits, target)
                                            + F.cross_entropy(logits.t(), target)))
        # Guo et al.: matched pairs pulled together, pairs made by shifting the motions by a random
        # offset pushed beyond the margin; loss = mean over both sets.
        if batch < 2:
            raise ValueError('T2MEvaluator: the hinge loss needs a batch of at least 2')
        shift = int(torch.randint(1, batch, (1, )).item())
        neg_motion = motion_emb.roll(shift, dims=0)
        pos_dist = (text_emb - motion_emb).norm(dim=-1)
        neg_dist = (text_emb - neg_motion).norm(dim=-1)
        pos_loss = pos_dist.pow(2)
        neg_loss = (self.margin - neg_dist).clamp(min=0).pow(2)
        return dict(loss_pos=pos_loss.mean() / 2, loss_neg=neg_loss.mean() / 2)

    def _text_inputs(self, data_samples) -> tuple:
        tokens, sent_lens = [], []
        for sample in data_samples:
            if 'gt_tokens' not in sample:
                raise KeyError('T2MEvaluator: data samples need gt_tokens (use SampleCaption in '
                               'the pipeline)')
            tokens.append(list(sample.gt_tokens))
            sent_lens.append(sample.metainfo.get('sent_len', None))
        if any(s is None for s in sent_lens):
            sent_lens = None
        return tokens, sent_lens

    def forward(self, inputs: dict, data_samples=None, mode: str = 'tensor'):
        motion, lengths = inputs['motion'], inputs['lengths']
        motion_emb = self.encode_motion(motion, lengths)
        if data_samples is None:
            if mode == 'tensor':
                return motion_emb
            raise ValueError(f'T2MEvaluator: mode {mode!r} needs data samples with captions')
        text_emb = self.encode_text(*self._text_inputs(data_samples))
        if mode == 'loss':
            return self.matching_loss(text_emb, motion_emb)
        if mode == 'tensor':
            return text_emb, motion_emb
        if mode == 'predict':
            for sample, t, m in zip(data_samples, text_emb.detach(), motion_emb.detach()):
                sample.text_embedding = t
                sample.gt_motion_embedding = m
                sample.pred_motion_embedding = m
            return data_samples
        raise ValueError(f"mode must be 'loss', 'predict' or 'tensor', got {mode!r}")

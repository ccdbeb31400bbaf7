"""``LearnedTextEncoder``: a small trainable sentence encoder over hashed word ids (no downloads)."""
from __future__ import annotations

import math
import re
import zlib
from typing import Optional, Sequence

import torch
from mmengine.model import BaseModule
from torch import nn

from motionkit.registry import MODELS

__all__ = ['LearnedTextEncoder', 'split_words', 'hash_word']

_WORD_RE = re.compile(r"[a-z0-9']+")
PAD_ID, EMPTY_ID, NUM_SPECIAL = 0, 1, 2


def split_words(text: str) -> list:
    """Lower-cased words and numbers of ``text`` (punctuation dropped)."""
    if not isinstance(text, str):
        raise TypeError(f'a caption must be a str, got {type(text).__name__}: {text!r}')
    return _WORD_RE.findall(text.lower())


def hash_word(word: str, num_buckets: int) -> int:
    """Stable id of a word in ``[2, num_buckets)`` (crc32: the same in every process)."""
    return NUM_SPECIAL + zlib.crc32(word.encode('utf-8')) % (num_buckets - NUM_SPECIAL)


@MODELS.register_module()
class LearnedTextEncoder(BaseModule):
    """Captions -> ``(B, embed_dim)`` sentence embeddings, trained with the model that uses them.

    Words are hashed into ``num_buckets`` ids (two captions that share no word collide only by
    hash accident), embedded, optionally contextualised by a small transformer encoder with
    learned positions, mean-pooled over the words and projected to ``embed_dim``. A caption
    without words (``''``) is one special "empty" token. It is motionkit's offline default text
    condition for tests and CPU presets; use :class:`HFTextEncoder` for CLIP or another
    pretrained text model.

    Args:
        embed_dim: Output size (``out_dim``).
        num_buckets: Hashed vocabulary size (ids 0 and 1 are padding and "empty").
        word_dim: Word-embedding (and transformer) width.
        num_layers: Transformer layers over the words; 0 = mean of word embeddings (bag of words).
        num_heads, ff_dim, dropout: Transformer settings (``ff_dim`` default ``2 * word_dim``).
        max_words: Longer captions are cut to their first ``max_words`` words.
    """

    def __init__(self,
                 embed_dim: int = 512,
                 num_buckets: int = 8192,
                 word_dim: int = 128,
                 num_layers: int = 1,
                 num_heads: int = 4,
                 ff_dim: Optional[int] = None,
                 dropout: float = 0.0,
                 max_words: int = 32,
                 init_cfg: Optional[dict] = None) -> None:
        super().__init__(init_cfg=init_cfg)
        if num_buckets <= NUM_SPECIAL:
            raise ValueError(f'num_buckets must be > {NUM_SPECIAL}, got {num_buckets}')
        if num_layers > 0 and word_dim % num_heads:
            raise ValueError(f'word_dim ({word_dim}) must be divisible by num_heads ({num_heads})')
        self.embed_dim = embed_dim
        self.num_buckets = num_buckets
        self.max_words = max_words
        self.word_emb = nn.Embedding(num_buckets, word_dim, padding_idx=PAD_ID)
        nn.init.normal_(self.word_emb.weight, std=1.0 / math.sqrt(word_dim))
        with torch.no_grad():
            self.word_emb.weight[PAD_ID].zero_()
        if num_layers > 0:
            self.pos_emb = nn.Parameter(torch.zeros(max_words, word_dim))
            nn.init.normal_(self.pos_emb, std=0.02)
            layer = nn.TransformerEncoderLayer(word_dim, num_heads, ff_dim or 2 * word_dim,
                                               dropout, activation='gelu', batch_first=True)
            self.encoder = nn.TransformerEncoder(layer, num_layers, enable_nested_tensor=False)
        else:
            self.pos_emb = None
            self.encoder = None
        self.proj = nn.Linear(word_dim, embed_dim)

    @property
    def out_dim(self) -> int:
        return self.embed_dim

    def tokenize(self, texts: Sequence[str]) -> tuple:
        """Captions -> ids ``(B, L)`` long and a valid-word mask ``(B, L)`` bool (on CPU)."""
        if isinstance(texts, str) or not isinstance(texts, Sequence):
            raise TypeError(f'LearnedTextEncoder: texts must be a list of str, got '
                            f'{type(texts).__name__}')
        if len(texts) == 0:
            raise ValueError('LearnedTextEncoder: empty batch of texts')
        rows = []
        for text in texts:
            words = split_words(text)[:self.max_words]
            rows.append([hash_word(w, self.num_buckets) for w in words] or [EMPTY_ID])
        length = max(len(r) for r in rows)
        ids = torch.full((len(rows), length), PAD_ID, dtype=torch.long)
        for i, r in enumerate(rows):
            ids[i, :len(r)] = torch.tensor(r)
        return ids, ids != PAD_ID

    def forward(self, texts: Sequence[str]) -> torch.Tensor:
        """``B`` captions -> ``(B, embed_dim)``."""
        ids, mask = self.tokenize(texts)
        device = self.proj.weight.device
        ids, mask = ids.to(device), mask.to(device)
        x = self.word_emb(ids)
        if self.encoder is not None:
            x = self.encoder(x + self.pos_emb[:x.shape[1]], src_key_padding_mask=~mask)
        m = mask.unsqueeze(-1).to(x.dtype)
        pooled = (x * m).sum(1) / m.sum(1).clamp(min=1)
        return self.proj(pooled)

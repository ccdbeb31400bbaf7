"""``HFTextEncoder``: a Hugging Face text model from a local path (e.g. CLIP's text tower)."""
from __future__ import annotations

import os.path as osp
from typing import Optional, Sequence

import torch
from mmengine.model import BaseModule

from motionkit.registry import MODELS

__all__ = ['HFTextEncoder']

_CLIP_TYPES = ('clip', 'clip_text_model')


@MODELS.register_module()
class HFTextEncoder(BaseModule):
    """Sentence embeddings ``(B, embed_dim)`` from a Hugging Face model folder.

    MDM conditions on CLIP ViT-B/32's projected text embedding (``clip_model.encode_text``, 512-d);
    for a CLIP folder (``model_type`` ``clip`` / ``clip_text_model``) ``pooling='auto'`` gives
    exactly that (``CLIPTextModelWithProjection.text_embeds``). Other models are mean-pooled over
    their last hidden states (``'mean'``), or use the first token (``'cls'``) or the pooler output
    (``'pooler'``).

    Nothing is downloaded: the folder must exist (``local_files_only=True``). A frozen encoder
    (the default, as in MDM) is loaded on first use and kept out of ``state_dict`` and
    ``parameters()``, so checkpoints do not carry its weights and configs build without the files;
    a trainable one (``freeze=False``) is loaded at construction so that the optimizer sees it.

    Args:
        model_path: Local folder with ``config.json``, weights and tokenizer files.
        embed_dim: Expected output size; checked against the loaded model.
        pooling: ``'auto'``, ``'clip'``, ``'mean'``, ``'cls'`` or ``'pooler'``.
        max_length: Tokenizer truncation (77 for CLIP).
        freeze: Keep the text model fixed (eval mode, no gradients).
        local_files_only: Passed to ``from_pretrained``; keep True for offline use.
    """

    def __init__(self,
                 model_path: str,
                 embed_dim: int = 512,
                 pooling: str = 'auto',
                 max_length: int = 77,
                 freeze: bool = True,
                 local_files_only: bool = True,
                 init_cfg: Optional[dict] = None) -> None:
        super().__init__(init_cfg=init_cfg)
        if pooling not in ('auto', 'clip', 'mean', 'cls', 'pooler'):
            raise ValueError(f"pooling must be 'auto', 'clip', 'mean', 'cls' or 'pooler', got "
                             f'{pooling!r}')
        self.model_path = model_path
        self.embed_dim = embed_dim
        self.pooling = pooling
        self.max_length = max_length
        self.freeze = freeze
        self.local_files_only = local_files_only
        self._tokenizer = None
        self._frozen = []  # holds a frozen model outside the module tree
        # tracks the device/dtype the encoder is moved to, for a frozen model kept outside
        self.register_buffer('_device_probe', torch.zeros(()), persistent=False)
        if not freeze:
            self.model = self._load()

    @property
    def out_dim(self) -> int:
        return self.embed_dim

    def _load(self):
        if not osp.isdir(osp.expanduser(self.model_path)):
            raise FileNotFoundError(
                f'HFTextEncoder: model folder {self.model_path!r} not found. motionkit does not '
                'download weights at run time: put a Hugging Face model folder (config.json, '
                'weights, tokenizer files) there, or use LearnedTextEncoder')
        try:
            import transformers
        except ImportError as err:
            raise ImportError('HFTextEncoder needs the "transformers" package '
                              '(pip install transformers)') from err
        path = osp.expanduser(self.model_path)
        try:
            config = transformers.AutoConfig.from_pretrained(
                path, local_files_only=self.local_files_only)
            self._tokenizer = transformers.AutoTokenizer.from_pretrained(
                path, local_files_only=self.local_files_only)
            self._is_clip = config.model_type in _CLIP_TYPES
            if self._is_clip:
                model = transformers.CLIPTextModelWithProjection.from_pretrained(
                    path, local_files_only=self.local_files_only, dtype=torch.float32)
            else:
                model = transformers.AutoModel.from_pretrained(
                    path, local_files_only=self.local_files_only, dtype=torch.float32)
        except OSError as err:
            raise FileNotFoundError(f'HFTextEncoder: could not load a model from '
                                    f'{self.model_path!r}: {err}') from err
        if self.pooling == 'clip' and not self._is_clip:
            raise ValueError(f"HFTextEncoder: pooling='clip' needs a CLIP model, "
                             f'{self.model_path!r} is {config.model_type!r}')
        cfg = model.config
        dim = (getattr(cfg, 'projection_dim', None) if self._is_clip and self.pooling in
               ('auto', 'clip') else getattr(cfg, 'hidden_size', None))
        if dim != self.embed_dim:
            raise ValueError(f'HFTextEncoder: {self.model_path!r} gives {dim}-d embeddings with '
                             f'pooling={self.pooling!r}, but embed_dim={self.embed_dim}')
        if self.freeze:
            model.eval()
            model.requires_grad_(False)
        return model

    def _model(self):
        if not self.freeze:
            return self.model
        if not self._frozen:
            self._frozen.append(self._load())
        model = self._frozen[0]
        device = self._device_probe.device
        if next(model.parameters()).device != device:
            model.to(device)
        return model

    def forward(self, texts: Sequence[str]) -> torch.Tensor:
        """``B`` captions -> ``(B, embed_dim)`` float32."""
        if isinstance(texts, str) or not isinstance(texts, Sequence) or not texts:
            raise TypeError('HFTextEncoder: texts must be a non-empty list of str')
        model = self._model()
        batch = self._tokenizer(list(texts), padding=True, truncation=True,
                                max_length=self.max_length, return_tensors='pt')
        batch = {k: v.to(self._device_probe.device) for k, v in batch.items()}
        with torch.set_grad_enabled(not self.freeze and torch.is_grad_enabled()):
            out = model(**batch)
            if self._is_clip and self.pooling in ('auto', 'clip'):
                emb = out.text_embeds
            elif self.pooling == 'pooler':
                emb = out.pooler_output
            elif self.pooling == 'cls':
                emb = out.last_hidden_state[:, 0]
            else:
                m = batch['attention_mask'].unsqueeze(-1).to(out.last_hidden_state.dtype)
                emb = (out.last_hidden_state * m).sum(1) / m.sum(1).clamp(min=1)
        return emb.float()

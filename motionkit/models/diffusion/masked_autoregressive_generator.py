"""``MaskedAutoregressiveGenerator``: CoAMD's text-to-motion generator (Kuang, Wang and Gui,
"Multi-modal Action Recognizer Bridges Human Motion Generation and Understanding", sec. 3.3,
eq. 3-8; built on MARDM, Meng et al. 2025; reference code jidongkuang/CoAMD ``models/coamd.py``).

Motions are first mapped by a frozen :class:`MultimodalAutoencoder` (the "tokenizer") to
continuous latent tokens ``z`` ``(L' x D)``, one per 4 frames. The generator then learns them with

* a masked transformer over the tokens (eq. 3): a random ratio ``cos(pi u / 2)`` of each motion's
  tokens is masked (``u ~ U[0, 1)``); of the masked tokens 10% are replaced by Gaussian noise and
  88% of the rest by a learned mask token, the others keep their value (BERT-style corruption of
  the reference); each token is embedded (``Linear(D -> d)``), sinusoidal positions are added and
  ``num_layers`` adaLN-Zero transformer blocks conditioned on the text embedding (a registered
  text encoder, ``Linear(text -> d)``) give a context ``h`` per token. The text is replaced by the
  null (zero) embedding for ``cond_drop_prob`` (10%) of the training motions (classifier-free
  guidance);
* a small MLP flow-matching head (:class:`FlowMatchingHead`, eq. 4-5) that learns every masked
  token from its context: ``t ~ U[0, 1)``, ``eps ~ N(0, I)``, ``z_t = t z + (1 - t) eps`` and the
  velocity target ``z - eps``, MSE over the masked tokens, each drawn ``head_batch_mul`` (4) times
  with fresh ``t`` and ``eps``.

Sampling (:meth:`sample`): every token starts masked; over ``num_ar_steps`` (N, 12 in the paper's
evaluation) steps the masked set shrinks along the cosine schedule (a random order fixed per
motion); at each step the transformer gives the context of the masked tokens (with and without the
text) and each masked token is drawn by integrating the head's ODE from noise (``t = 0``) to data
(``t = 1``) with classifier-free guidance on the velocity, ``v = v_u + s (v_c - v_u)``
(``guidance_scale`` 4.5). The ODE runs on :class:`FlowMatchingScheduler` (Euler or Heun): its
``sigma`` is ``1 - t`` and its velocity ``eps - z``, the negative of the head's.

Recognizer guidance (eq. 6-8, :func:`recognizer_guidance_step`): after the tokens of a step are
drawn, the latents are decoded to joints, a frozen action recognizer (``recognizer``, e.g. CoAMD's
MAR, loaded from ``recognizer_checkpoint``) scores them against the caption,
``S = sum_k w_k cos(R^k(D(z')), c)``, and the masked tokens move by ``gamma * g / ||g||`` along
the gradient of ``S``. Variants: ``guidance_gamma=0`` or no recognizer (unguided, "w/o MAR"),
weights with only the joint stream (joints-only guidance), ``guidance_mode='once_at_end'`` (one
step on every token after the last autoregressive step: "w/o autoregression", table 8).

Editing (:meth:`edit`, :meth:`edit_temporal`, table 6): the input is encoded, the tokens that
cover a frame to regenerate are masked and filled by the same schedule while the others keep the
input's latents; after decoding, the kept frames are copied from the input, so they equal it
exactly.

Differences from the reference: the number of tokens masked in training follows each motion's own
token count (the reference uses the padded length), the ODE is Euler / Heun on a fixed grid (the
reference integrates with dopri5), and the autoencoder is padding-exact.
"""
from __future__ import annotations

import math
from typing import Any, Mapping, Optional, Sequence, Union

import torch
from mmengine.logging import print_log
from mmengine.model import BaseModel
from torch import nn

from motionkit.registry import MODELS
from motionkit.structures.motion_data_sample import sample_captions
from .guidance import classifier_free_guidance
from .recognizer_guidance import (DEFAULT_GUIDANCE_WEIGHTS, check_guidance_weights,
                                  recognizer_guidance_step)
from .sampling import build_noise_schedule, sample_loop
from .temporal_editing import fill_tokens_from_keep_mask, temporal_edit_keep_mask
from .token_masking import sampling_step_mask, subset_mask, training_token_mask

__all__ = ['MaskedAutoregressiveGenerator', 'AdaLNTransformerBlock']

_GUIDANCE_MODES = ('every_step', 'once_at_end')


def _sinusoid_table(length: int, dim: int) -> torch.Tensor:
    """``(length, dim)`` sinusoidal positions (Vaswani et al.; sin on even, cos on odd channels)."""
    pos = torch.arange(length, dtype=torch.float32)[:, None]
    div = torch.exp(torch.arange(0, dim, 2, dtype=torch.float32) * (-math.log(10000.0) / dim))
    table = torch.zeros(length, dim)
    table[:, 0::2] = torch.sin(pos * div)
    table[:, 1::2] = torch.cos(pos * div)[:, :dim // 2]
    return table


class AdaLNTransformerBlock(nn.Module):
    """Pre-norm transformer block whose norms are modulated by the condition (DiT's adaLN-Zero;
    MARDM's ``MARTransBlock``): shift / scale / gate of attention and MLP from ``SiLU(c)``."""

    def __init__(self, dim: int, num_heads: int, ff_size: int, dropout: float) -> None:
        super().__init__()
        self.norm1 = nn.LayerNorm(dim, elementwise_affine=False, eps=1e-6)
        self.attn = nn.MultiheadAttention(dim, num_heads, dropout=dropout, batch_first=True)
        self.drop = nn.Dropout(dropout)
        self.norm2 = nn.LayerNorm(dim, elementwise_affine=False, eps=1e-6)
        self.mlp = nn.Sequential(nn.Linear(dim, ff_size), nn.GELU(approximate='tanh'),
                                 nn.Linear(ff_size, dim))
        self.ada = nn.Sequential(nn.SiLU(), nn.Linear(dim, 6 * dim))

    def forward(self, x: torch.Tensor, c: torch.Tensor,
                padding_mask: Optional[torch.Tensor] = None) -> torch.Tensor:
        """``x`` ``(B, L, d)``, ``c`` ``(B, d)``, ``padding_mask`` ``(B, L)`` True on padding."""
        s1, sc1, g1, s2, sc2, g2 = self.ada(c)[:, None].chunk(6, dim=-1)
        h = self.norm1(x) * (1 + sc1) + s1
        a, _ = self.attn(h, h, h, key_padding_mask=padding_mask, need_weights=False)
        x = x + g1 * self.drop(a)
        return x + g2 * self.mlp(self.norm2(x) * (1 + sc2) + s2)


@MODELS.register_module()
class MaskedAutoregressiveGenerator(BaseModel):
    """Masked autoregressive flow-matching text-to-motion generator with recognizer guidance.

    ``forward(inputs, data_samples, mode)`` with ``inputs`` from :class:`MotionDataPreprocessor`
    (``motion``: ``(B, T, J, 3)`` joints in metres, ``lengths``) and data samples with
    ``gt_text`` (or ``gt_texts``):

    * ``'loss'``: ``dict(loss_flow)``;
    * ``'predict'``: one motion per sample (its caption, its metainfo ``length`` cut to a multiple
      of 4), or with ``predict_task`` the sample's motion edited by that temporal task; sets
      ``pred_joints`` ``(n, J, 3)`` metres, ``pred_motion`` ``(n, 3 J)`` (the same as
      :class:`~motionkit.motion.AbsoluteCoordinates` features, raw: metainfo
      ``pred_motion_normalized=False``, ``pred_motion_representation='AbsoluteCoordinates'``),
      ``gt_joints`` (the input's first ``n`` frames, when
      absent) and metainfo ``pred_length`` = n; with ``num_replications`` R > 1 also
      ``pred_motion_replications`` ``(R, n, 3 J)``: R independent generations for the same caption
      (the first is ``pred_motion``), for the T2M protocol's replications and MultiModality;
      with guidance, ``guidance_score`` / ``guidance_grad_norm`` ``(S,)``: the recognizer's score
      before each of the S guided steps of the first generation, and its gradient's norm;
    * ``'tensor'``: the transformer context ``(B, L', latent_dim)`` of the unmasked tokens.

    Args:
        tokenizer: Config of the autoencoder (:class:`MultimodalAutoencoder`), frozen.
        tokenizer_checkpoint: Its trained weights (with its statistics); without one it keeps its
            initial weights (tests only; a warning says so).
        latent_dim, ff_size, num_layers, num_heads, dropout: Transformer (paper: 1024, 4096, 8,
            16, 0.2).
        text_encoder: Config of a text encoder (``out_dim``, ``forward(list[str])``); the paper
            uses CLIP ViT-B/32 (frozen ``HFTextEncoder``); default ``LearnedTextEncoder``.
        cond_drop_prob: Null text for this fraction of training motions (0.1).
        head: Config of the flow-matching head (``FlowMatchingHead``; ``in_dim`` / ``cond_dim``
            are filled in). Paper: width 1792, depth 16.
        head_batch_mul: Draws of ``(t, eps)`` per masked token in training (4).
        mask_noise_prob, mask_token_prob: Of the masked tokens, the fraction replaced by noise
            (0.1), and of the rest the fraction replaced by the mask token (0.88).
        noise_scheduler: ``FlowMatchingScheduler`` config (solver ``'euler'`` or ``'heun'``).
        num_inference_steps: ODE steps per autoregressive step.
        num_ar_steps: Autoregressive steps N (12).
        guidance_scale: Classifier-free guidance on the head's velocity (4.5; 1 disables it).
        recognizer: The guiding recognizer: a ``MODELS`` config dict, a ``.py`` config whose
            ``model`` is it, or an object with :class:`GuidanceRecognizer`'s ``score``; built on
            first guided sampling, frozen and kept out of this model's ``state_dict``.
        recognizer_checkpoint: Its weights.
        guidance_gamma: Step size gamma of eq. 8 (0 disables guidance). The reference code steps
            by ``0.5 + guidance_lambda`` and only when ``guidance_lambda > 0``: 0.5 is its
            smallest step, the default here.
        guidance_weights: ``w_k`` of eq. 6: a dict over ``'fused'``, ``'joint'``, ``'bone'``,
            ``'motion'`` (missing ones weigh 0) or a sequence of four in that order (reference:
            0.7, 0.1, 0.1, 0.1); ``dict(joint=1.0)`` guides with the joint stream only. The
            recognizer's ``score`` receives the non-zero weights as a dict.
        guidance_mode: ``'every_step'`` (eq. 8 at each autoregressive step) or ``'once_at_end'``.
        guidance_norm: ``'all'`` (the reference's per-motion norm over every token) or
            ``'masked'`` (over the step's masked tokens only).
        guidance_eps: ``eps`` of eq. 7.
        edit_with_guidance: Also guide :meth:`edit` (the reference's ``edit`` does not).
        predict_task: ``None`` (text-to-motion) or a temporal editing task for ``'predict'``.
        num_replications: Independent generations per data sample in ``'predict'`` (1; the T2M
            protocols generate the test set 20 times).
        max_len: Longest token sequence of the positional table.
        data_preprocessor: Defaults to ``MotionDataPreprocessor`` without statistics (the
            autoencoder normalises).
    """

    def __init__(self,
                 tokenizer: dict,
                 tokenizer_checkpoint: Optional[str] = None,
                 latent_dim: int = 1024,
                 ff_size: int = 4096,
                 num_layers: int = 8,
                 num_heads: int = 16,
                 dropout: float = 0.2,
                 text_encoder: Optional[dict] = None,
                 cond_drop_prob: float = 0.1,
                 head: Optional[dict] = None,
                 head_batch_mul: int = 4,
                 mask_noise_prob: float = 0.1,
                 mask_token_prob: float = 0.88,
                 noise_scheduler: Optional[Union[dict, Any]] = None,
                 num_inference_steps: int = 32,
                 num_ar_steps: int = 12,
                 guidance_scale: float = 4.5,
                 recognizer: Optional[Union[dict, str, Any]] = None,
                 recognizer_checkpoint: Optional[str] = None,
                 guidance_gamma: float = 0.5,
                 guidance_weights: Union[Mapping[str, float],
                                         Sequence[float]] = DEFAULT_GUIDANCE_WEIGHTS,
                 guidance_mode: str = 'every_step',
                 guidance_norm: str = 'all',
                 guidance_eps: float = 1e-8,
                 edit_with_guidance: bool = False,
                 predict_task: Optional[str] = None,
                 num_replications: int = 1,
                 max_len: int = 1024,
                 data_preprocessor: Optional[Union[dict, nn.Module]] = None,
                 init_cfg: Optional[dict] = None) -> None:
        if data_preprocessor is None:
            data_preprocessor = dict(type='MotionDataPreprocessor')
        if isinstance(data_preprocessor, dict):
            data_preprocessor = MODELS.build(data_preprocessor)
        super().__init__(data_preprocessor=data_preprocessor, init_cfg=init_cfg)
        owner = 'MaskedAutoregressiveGenerator'
        if latent_dim % num_heads:
            raise ValueError(f'{owner}: latent_dim ({latent_dim}) must be divisible by num_heads '
                             f'({num_heads})')
        if not 0.0 <= cond_drop_prob < 1.0:
            raise ValueError(f'{owner}: cond_drop_prob must lie in [0, 1), got {cond_drop_prob}')
        for name, p in (('mask_noise_prob', mask_noise_prob), ('mask_token_prob', mask_token_prob)):
            if not 0.0 <= p <= 1.0:
                raise ValueError(f'{owner}: {name} must lie in [0, 1], got {p}')
        if head_batch_mul < 1 or num_ar_steps < 1 or num_inference_steps < 1:
            raise ValueError(f'{owner}: head_batch_mul, num_ar_steps and num_inference_steps must '
                             f'be >= 1, got {head_batch_mul}, {num_ar_steps}, {num_inference_steps}')
        if guidance_mode not in _GUIDANCE_MODES:
            raise ValueError(f'{owner}: guidance_mode must be one of {_GUIDANCE_MODES}, got '
                             f'{guidance_mode!r}')
        if guidance_norm not in ('all', 'masked'):
            raise ValueError(f"{owner}: guidance_norm must be 'all' or 'masked', got "
                             f'{guidance_norm!r}')
        if not math.isfinite(guidance_gamma) or guidance_gamma < 0:
            raise ValueError(f'{owner}: guidance_gamma must be a finite number >= 0, got '
                             f'{guidance_gamma}')
        if predict_task is not None:
            temporal_edit_keep_mask(predict_task, [4], 4)  # raises on an unknown task
        self.guidance_weights = check_guidance_weights(guidance_weights, owner)
        self.cond_drop_prob = float(cond_drop_prob)
        self.head_batch_mul = int(head_batch_mul)
        self.mask_noise_prob, self.mask_token_prob = float(mask_noise_prob), float(mask_token_prob)
        self.num_inference_steps = int(num_inference_steps)
        self.num_ar_steps = int(num_ar_steps)
        self.guidance_scale = float(guidance_scale)
        self.guidance_gamma = float(guidance_gamma)
        self.guidance_mode = guidance_mode
        self.guidance_norm = guidance_norm
        self.guidance_eps = float(guidance_eps)
        self.edit_with_guidance = bool(edit_with_guidance)
        self.predict_task = predict_task
        if int(num_replications) < 1:
            raise ValueError(f'num_replications must be >= 1, got {num_replications}')
        self.num_replications = int(num_replications)
        self.latent_dim = int(latent_dim)

        on_meta = torch.empty(()).device.type == 'meta'
        self.tokenizer = MODELS.build(tokenizer)
        for attr in ('encode', 'decode', 'code_dim', 'unit_length', 'check_joints'):
            if not hasattr(self.tokenizer, attr):
                raise TypeError(f'{owner}: the tokenizer {type(self.tokenizer).__name__} has no '
                                f'{attr!r} (a continuous autoencoder such as MultimodalAutoencoder '
                                'is needed)')
        if tokenizer_checkpoint and not on_meta:
            import os
            from mmengine.runner import load_checkpoint
            from motionkit.utils.checkpoint import install_safe_checkpoint_loader
            if not os.path.isfile(tokenizer_checkpoint):
                raise FileNotFoundError(f'{owner}: tokenizer_checkpoint not found: '
                                        f'{tokenizer_checkpoint} (train the autoencoder first)')
            install_safe_checkpoint_loader()
            load_checkpoint(self.tokenizer, tokenizer_checkpoint, map_location='cpu', strict=True,
                            revise_keys=[(r'^module\.', '')], logger='silent')
        elif not on_meta:
            print_log(f'{owner}: no tokenizer_checkpoint; the autoencoder keeps its initial weights '
                      '(fine for tests, not for results)', logger='current', level=30)
        self.tokenizer.requires_grad_(False)
        self.tokenizer.eval()
        self.code_dim = int(self.tokenizer.code_dim)
        self.unit_length = int(self.tokenizer.unit_length)

        self.text_encoder = MODELS.build(text_encoder or dict(
            type='LearnedTextEncoder', embed_dim=latent_dim))
        text_dim = getattr(self.text_encoder, 'out_dim', None)
        if not isinstance(text_dim, int):
            raise TypeError(f'{owner}: the text encoder {type(self.text_encoder).__name__} must '
                            'have an int out_dim')
        self.text_dim = text_dim
        self.cond_emb = nn.Linear(text_dim, latent_dim)
        self.input_process = nn.Linear(self.code_dim, latent_dim)
        self.register_buffer('position_table', _sinusoid_table(max_len, latent_dim),
                             persistent=False)
        self.position_dropout = nn.Dropout(dropout)
        self.blocks = nn.ModuleList(
            AdaLNTransformerBlock(latent_dim, num_heads, ff_size, dropout) for _ in range(num_layers))
        self.mask_latent = nn.Parameter(torch.zeros(1, 1, self.code_dim))
        self._init_transformer()
        head_cfg = dict(head or dict(type='FlowMatchingHead', width=1792, depth=16))
        head_cfg.setdefault('in_dim', self.code_dim)
        head_cfg.setdefault('cond_dim', latent_dim)
        if head_cfg['in_dim'] != self.code_dim or head_cfg['cond_dim'] != latent_dim:
            raise ValueError(f'{owner}: head in_dim/cond_dim must be {self.code_dim}/{latent_dim} '
                             f"(the tokenizer's code_dim and latent_dim), got "
                             f"{head_cfg['in_dim']}/{head_cfg['cond_dim']}")
        self.head = MODELS.build(head_cfg)
        self.noise_scheduler = build_noise_schedule(noise_scheduler or dict(
            type='FlowMatchingScheduler', num_train_timesteps=1000, solver='euler'))
        if getattr(self.noise_scheduler, 'prediction_type', None) != 'velocity':
            raise TypeError(f'{owner}: noise_scheduler must be a velocity (flow-matching) schedule, '
                            f'got {type(self.noise_scheduler).__name__}')

        # a tuple, not the module itself: a recognizer object given here must not become a
        # submodule (its weights would enter the state_dict and the optimizer)
        self._recognizer_source = (recognizer, recognizer_checkpoint)
        self._recognizer = []  # built on first use, outside the module tree (not in state_dict)
        self.guidance_trace: list = []

    def _init_transformer(self) -> None:
        # MARDM's initialisation: N(0, 0.02) linear weights, zero biases, adaLN-Zero
        for module in [self.cond_emb, self.input_process, *self.blocks.modules()]:
            if isinstance(module, nn.Linear):
                nn.init.normal_(module.weight, std=0.02)
                if module.bias is not None:
                    nn.init.zeros_(module.bias)
        for block in self.blocks:
            nn.init.normal_(block.attn.in_proj_weight, std=0.02)
            nn.init.zeros_(block.attn.in_proj_bias)
            nn.init.zeros_(block.ada[-1].weight)
            nn.init.zeros_(block.ada[-1].bias)

    def train(self, mode: bool = True):
        super().train(mode)
        self.tokenizer.eval()  # frozen
        return self

    @property
    def device(self) -> torch.device:
        return self.mask_latent.device

    # ------------------------------------------------------------------ recognizer
    @property
    def guided(self) -> bool:
        """True when sampling applies recognizer guidance (a recognizer and ``gamma > 0``)."""
        return self._recognizer_source[0] is not None and self.guidance_gamma > 0

    @property
    def recognizer(self):
        """The frozen guiding recognizer (built and loaded on first use), or None."""
        spec, checkpoint = self._recognizer_source
        if spec is None:
            return None
        if not self._recognizer:
            from motionkit.utils.owned_model import build_owned_model
            rec = build_owned_model(spec, checkpoint, 'MaskedAutoregressiveGenerator', 'score')
            if isinstance(rec, nn.Module):
                rec.requires_grad_(False)
                rec.eval()
            names = getattr(rec, 'embedding_names', None)
            if names is not None:
                used = [k for k, w in self.guidance_weights.items() if w != 0.0]
                missing = [k for k in used if k not in tuple(names)]
                if missing:
                    raise KeyError(f'MaskedAutoregressiveGenerator: guidance_weights weigh '
                                   f'{missing}, but the recognizer {type(rec).__name__} has only '
                                   f'the embeddings {list(names)}')
            self._recognizer.append(rec)
        rec = self._recognizer[0]
        if isinstance(rec, nn.Module):
            rec.to(self.device)
        return rec

    def set_recognizer(self, recognizer: Optional[Union[dict, str, Any]],
                       checkpoint: Optional[str] = None) -> None:
        """Swap the guiding recognizer (None: unguided); built on next use."""
        self._recognizer_source = (recognizer, checkpoint)
        self._recognizer = []

    # ------------------------------------------------------------------ text
    def encode_text(self, texts: Optional[Sequence[str]], batch_size: int) -> torch.Tensor:
        """``(B, text_dim)`` text embeddings; ``texts=None`` gives the null condition (zeros)."""
        if texts is None:
            return torch.zeros(batch_size, self.text_dim, device=self.device)
        if isinstance(texts, str):
            raise TypeError('MaskedAutoregressiveGenerator: texts must be a list of str, got a str')
        texts = list(texts)
        if len(texts) != batch_size:
            raise ValueError(f'MaskedAutoregressiveGenerator: {len(texts)} texts for a batch of '
                             f'{batch_size}')
        return self.text_encoder(texts).to(self.device).float()

    # ------------------------------------------------------------------ transformer (eq. 3)
    def context(self, tokens: torch.Tensor, text_emb: torch.Tensor,
                valid: torch.Tensor) -> torch.Tensor:
        """The transformer: tokens ``(B, L, D)``, text embeddings ``(B, text_dim)`` (zeros: null)
        and valid-token mask ``(B, L)`` -> context ``h`` ``(B, L, latent_dim)``."""
        if tokens.shape[1] > self.position_table.shape[0]:
            raise ValueError(f'MaskedAutoregressiveGenerator: {tokens.shape[1]} tokens exceed the '
                             f'positional table ({self.position_table.shape[0]}); raise max_len')
        x = self.input_process(tokens) + self.position_table[:tokens.shape[1]].to(tokens.dtype)
        x = self.position_dropout(x)
        c = self.cond_emb(text_emb)
        pad = ~valid
        for block in self.blocks:
            x = block(x, c, pad)
        return x

    # ------------------------------------------------------------------ training (eq. 3-5)
    def loss(self, joints: torch.Tensor, lengths: Optional[torch.Tensor],
             texts: Sequence[str]) -> dict:
        """Masked flow-matching loss of a batch of joints ``(B, T, J, 3)`` and their captions."""
        with torch.no_grad():
            z, tok_len = self.tokenizer.encode(joints, lengths)
        batch, L, _ = z.shape
        valid = torch.arange(L, device=z.device)[None] < tok_len[:, None]
        mask = training_token_mask(valid)
        noised = subset_mask(mask, self.mask_noise_prob)
        replaced = subset_mask(mask & ~noised, self.mask_token_prob)
        tokens = torch.where(noised[..., None], torch.randn_like(z), z)
        tokens = torch.where(replaced[..., None], self.mask_latent.expand_as(z), tokens)
        text_emb = self.encode_text(texts, batch)
        if self.cond_drop_prob > 0:
            keep = torch.rand(batch, device=z.device) >= self.cond_drop_prob
            text_emb = text_emb * keep[:, None].to(text_emb.dtype)
        h = self.context(tokens, text_emb, valid)
        target = z[mask].repeat(self.head_batch_mul, 1)
        cond = h[mask].repeat(self.head_batch_mul, 1)
        t = torch.rand(target.shape[0], device=z.device)  # eq. 4: t in [0, 1), 0 = noise
        eps = torch.randn_like(target)
        sched = self.noise_scheduler
        sigma_steps = (1.0 - t) * sched.num_train_timesteps
        z_t = sched.add_noise(target, eps, sigma_steps)  # t z + (1 - t) eps
        velocity = -sched.training_target(target, eps, sigma_steps)  # eq. 5: z - eps
        pred = self.head(z_t, t, cond)
        return dict(loss_flow=(pred - velocity).pow(2).mean())

    # ------------------------------------------------------------------ sampling
    def _draw_tokens(self, h_cond: torch.Tensor, h_uncond: Optional[torch.Tensor], scale: float,
                     steps: int, generator: Optional[torch.Generator]) -> torch.Tensor:
        """Integrate the head's ODE from noise to tokens ``(M, D)`` for contexts ``(M, d)``."""
        gen_device = generator.device if generator is not None else h_cond.device
        noise = torch.randn(h_cond.shape[0], self.code_dim, generator=generator,
                            device=gen_device).to(h_cond)
        n_train = self.noise_scheduler.num_train_timesteps

        def model_fn(x: torch.Tensor, timesteps: torch.Tensor) -> torch.Tensor:
            t = 1.0 - timesteps.to(x.dtype) / n_train
            if h_uncond is None:
                v = self.head(x, t, h_cond)
            else:
                both = self.head(torch.cat([x, x]), torch.cat([t, t]), torch.cat([h_cond, h_uncond]))
                v_c, v_u = both.chunk(2)
                v = classifier_free_guidance(v_c, v_u, scale)
            return -v  # the scheduler's velocity is eps - z

        return sample_loop(model_fn, self.noise_scheduler, noise, steps)

    def _score_fn(self, texts: Sequence[str], tok_len: torch.Tensor, valid: torch.Tensor):
        """``z' -> S`` (eq. 6): decode, then the recognizer's weighted cosine score."""
        rec = self.recognizer
        text_input = list(texts)
        if hasattr(rec, 'encode_text'):
            with torch.no_grad():
                text_input = rec.encode_text(text_input)
        frames = tok_len * self.unit_length
        weights = {k: w for k, w in self.guidance_weights.items() if w != 0.0}

        def score_fn(z: torch.Tensor) -> torch.Tensor:
            z = z * valid[..., None].to(z.dtype)
            joints = self.tokenizer.decode(z, tok_len)
            return rec.score(joints, text_input, weights=weights, lengths=frames)

        return score_fn

    @torch.no_grad()
    def fill_tokens(self, latents: torch.Tensor, fill: torch.Tensor, valid: torch.Tensor,
                    texts: Optional[Sequence[str]], tok_len: torch.Tensor,
                    guidance_scale: Optional[float] = None,
                    num_ar_steps: Optional[int] = None,
                    num_inference_steps: Optional[int] = None,
                    guided: Optional[bool] = None,
                    guidance_mode: Optional[str] = None,
                    generator: Optional[torch.Generator] = None) -> torch.Tensor:
        """Generate the tokens of ``fill`` by masked autoregression, the others stay as given.

        Args:
            latents: ``(B, L, D)`` tokens (values under ``fill`` are ignored).
            fill: ``(B, L)`` bool, tokens to generate.
            valid: ``(B, L)`` bool, each motion's tokens.
            texts: ``B`` captions (None: unconditional, no guidance).
            tok_len: ``(B,)`` valid tokens.
            guidance_scale, num_ar_steps, num_inference_steps, guidance_mode: override the
                model's settings.
            guided: apply recognizer guidance (default :attr:`guided`).
            generator: source of the token order and the ODE noise.

        Returns:
            ``(B, L, D)``; :attr:`guidance_trace` lists the score and gradient norm of every
            guidance step.
        """
        batch, L, D = latents.shape
        scale = self.guidance_scale if guidance_scale is None else float(guidance_scale)
        n_ar = self.num_ar_steps if num_ar_steps is None else int(num_ar_steps)
        steps = self.num_inference_steps if num_inference_steps is None else int(num_inference_steps)
        mode = self.guidance_mode if guidance_mode is None else guidance_mode
        if mode not in _GUIDANCE_MODES:
            raise ValueError(f'guidance_mode must be one of {_GUIDANCE_MODES}, got {mode!r}')
        guided = (self.guided if guided is None else bool(guided)) and texts is not None
        fill = fill & valid
        text_emb = self.encode_text(texts, batch)
        use_cfg = texts is not None and scale != 1.0
        null = torch.zeros_like(text_emb)
        mask_tok = self.mask_latent.to(latents).expand(batch, L, D)
        latents = torch.where(valid[..., None], latents, torch.zeros_like(latents))
        latents = torch.where(fill[..., None], mask_tok, latents)
        gen_device = generator.device if generator is not None else latents.device
        scores = torch.rand(batch, L, generator=generator, device=gen_device).to(latents.device)
        scores = scores.masked_fill(~fill, float('inf'))
        num_fill = fill.sum(1)
        score_fn = self._score_fn(texts, tok_len, valid) if guided else None
        self.guidance_trace = []
        for k in range(n_ar):
            step = sampling_step_mask(scores, num_fill, k, n_ar)
            if not bool(step.any()):
                break
            latents = torch.where(step[..., None], mask_tok, latents)
            if use_cfg:
                h = self.context(torch.cat([latents, latents]), torch.cat([text_emb, null]),
                                 torch.cat([valid, valid]))
                h_c, h_u = h.chunk(2)
                drawn = self._draw_tokens(h_c[step], h_u[step], scale, steps, generator)
            else:
                h_c = self.context(latents, text_emb, valid)
                drawn = self._draw_tokens(h_c[step], None, scale, steps, generator)
            latents = latents.clone()
            latents[step] = drawn.to(latents.dtype)
            if score_fn is not None and mode == 'every_step':
                latents = self._guide(latents, step, score_fn, k)
            scores = scores.masked_fill(~step, float('inf'))
        if score_fn is not None and mode == 'once_at_end':
            latents = self._guide(latents, fill, score_fn, n_ar)
        return latents

    def _guide(self, latents, step_mask, score_fn, k) -> torch.Tensor:
        new, info = recognizer_guidance_step(latents, step_mask, score_fn, self.guidance_gamma,
                                             norm=self.guidance_norm, eps=self.guidance_eps)
        self.guidance_trace.append(dict(step=k, score=info['score'].cpu(),
                                        grad_norm=info['grad_norm'].cpu()))
        return new

    def _token_lengths(self, lengths, owner: str) -> torch.Tensor:
        lengths = torch.as_tensor(lengths, device=self.device).long()
        if lengths.ndim != 1 or lengths.numel() == 0:
            raise ValueError(f'{owner}: lengths must be a non-empty (B,) sequence, got shape '
                             f'{tuple(lengths.shape)}')
        if int(lengths.min()) < self.unit_length:
            raise ValueError(f'{owner}: every length must be >= {self.unit_length} frames (one '
                             f'token), got {lengths.tolist()}')
        return torch.div(lengths, self.unit_length, rounding_mode='floor')

    @torch.no_grad()
    def sample(self, texts: Optional[Sequence[str]], lengths: Union[Sequence[int], torch.Tensor],
               generator: Optional[torch.Generator] = None, **overrides) -> torch.Tensor:
        """Generate motions for ``texts`` with ``lengths`` frames.

        Args:
            texts: ``B`` captions (None: unconditional).
            lengths: ``(B,)`` frames; each motion gets ``4 * (length // 4)``.
            generator: random generator (token order, ODE noise): same seed, same motions.
            **overrides: ``guidance_scale``, ``num_ar_steps``, ``num_inference_steps``,
                ``guided``, ``guidance_mode`` (see :meth:`fill_tokens`).

        Returns:
            ``(B, 4 max(length // 4), J, 3)`` joints in metres, zero past each motion.
        """
        tok_len = self._token_lengths(lengths, 'MaskedAutoregressiveGenerator.sample')
        batch, L = len(tok_len), int(tok_len.max())
        valid = torch.arange(L, device=self.device)[None] < tok_len[:, None]
        latents = torch.zeros(batch, L, self.code_dim, device=self.device)
        latents = self.fill_tokens(latents, valid, valid, texts, tok_len, generator=generator,
                                   **overrides)
        return self.tokenizer.decode(latents, tok_len)

    # ------------------------------------------------------------------ editing (table 6)
    @torch.no_grad()
    def edit(self, joints: torch.Tensor, keep_mask: torch.Tensor, texts: Optional[Sequence[str]],
             lengths: Optional[Union[Sequence[int], torch.Tensor]] = None,
             generator: Optional[torch.Generator] = None, **overrides) -> torch.Tensor:
        """Regenerate the frames outside ``keep_mask`` of ``joints`` following ``texts``.

        Args:
            joints: ``(B, T, J, 3)`` source motions in metres.
            keep_mask: ``(B, T)`` bool, True on the frames to keep.
            texts: ``B`` captions (None: unconditional).
            lengths: valid frames (default ``T``); each motion keeps ``4 * (length // 4)`` frames.
            generator, **overrides: as :meth:`sample` (guidance only with ``edit_with_guidance``
                unless ``guided`` is given).

        Returns:
            ``(B, T4, J, 3)`` with ``T4 = 4 * max(length // 4)``: the kept frames are exactly
            the input's, the others generated; zero past each motion.
        """
        owner = 'MaskedAutoregressiveGenerator.edit'
        joints, usable = self.tokenizer.check_joints(joints.to(self.device), lengths, owner=owner)
        keep_mask = torch.as_tensor(keep_mask, device=self.device)
        if keep_mask.dtype != torch.bool or keep_mask.shape != joints.shape[:2]:
            raise ValueError(f'{owner}: keep_mask must be a bool (B, T) = {tuple(joints.shape[:2])} '
                             f'tensor, got {keep_mask.dtype} {tuple(keep_mask.shape)}')
        z, tok_len = self.tokenizer.encode(joints, usable)
        L = z.shape[1]
        valid = torch.arange(L, device=self.device)[None] < tok_len[:, None]
        fill = fill_tokens_from_keep_mask(keep_mask, tok_len, self.unit_length)
        overrides.setdefault('guided', self.guided and self.edit_with_guidance)
        latents = self.fill_tokens(z, fill, valid, texts, tok_len, generator=generator, **overrides)
        decoded = self.tokenizer.decode(latents, tok_len)
        t4 = decoded.shape[1]
        frames = torch.arange(t4, device=self.device)[None] < usable[:, None]
        kept = keep_mask[:, :t4] & frames
        return torch.where(kept[..., None, None], joints[:, :t4], decoded)

    def edit_temporal(self, joints: torch.Tensor, texts: Optional[Sequence[str]], task: str,
                      lengths: Optional[Union[Sequence[int], torch.Tensor]] = None,
                      generator: Optional[torch.Generator] = None, **overrides) -> torch.Tensor:
        """Temporal inpainting / outpainting / prefix / suffix (:func:`temporal_edit_keep_mask`,
        the regions of the reference evaluation); see :meth:`edit`."""
        batch, frames = joints.shape[:2]
        if lengths is None:
            lengths = torch.full((batch, ), frames, dtype=torch.long)
        keep = temporal_edit_keep_mask(task, torch.as_tensor(lengths).cpu(), frames,
                                       self.unit_length)
        return self.edit(joints, keep, texts, lengths, generator=generator, **overrides)

    # ------------------------------------------------------------------ BaseModel API
    @staticmethod
    def _texts(data_samples: Optional[Sequence]) -> list:
        return sample_captions(data_samples, 'MaskedAutoregressiveGenerator')

    @staticmethod
    def _lengths(inputs: Optional[dict], data_samples: Sequence) -> torch.Tensor:
        lengths = []
        for i, sample in enumerate(data_samples):
            n = sample.metainfo.get('length')
            if n is None:
                if inputs is None or 'lengths' not in inputs:
                    raise KeyError(f'MaskedAutoregressiveGenerator: data sample {i} has no "length" '
                                   'in its metainfo')
                n = int(inputs['lengths'][i])
            lengths.append(int(n))
        return torch.tensor(lengths, dtype=torch.long)

    def predict(self, inputs: Optional[dict], data_samples: Sequence) -> list:
        """Generate (or, with ``predict_task``, edit) ``num_replications`` motions per data sample
        (one batch of ``R x B``: replication r of sample i is row ``r * B + i``)."""
        texts = self._texts(data_samples)
        lengths = self._lengths(inputs, data_samples)
        source = None
        if inputs is not None and 'motion' in inputs:
            source, _ = self.tokenizer.check_joints(inputs['motion'], lengths,
                                                    owner='MaskedAutoregressiveGenerator.predict')
        reps = self.num_replications
        rep_texts = None if texts is None else list(texts) * reps
        rep_lengths = lengths.repeat(reps)
        if self.predict_task is not None:
            if source is None:
                raise KeyError(f'MaskedAutoregressiveGenerator: predict_task={self.predict_task!r} '
                               'needs the source motions in inputs["motion"]')
            joints = self.edit_temporal(source.repeat(reps, 1, 1, 1), rep_texts, self.predict_task,
                                        rep_lengths)
        else:
            joints = self.sample(rep_texts, rep_lengths)
        batch, J = len(data_samples), joints.shape[-2]
        joints = joints.reshape(reps, batch, *joints.shape[1:])
        # the guidance of each sample's first generation: the recognizer's score before each
        # guided step and the gradient norm (how guidance went, for the tables)
        trace = self.guidance_trace
        if trace:
            trace_score = torch.stack([t['score'][:batch] for t in trace], dim=1).float()
            trace_norm = torch.stack([t['grad_norm'][:batch] for t in trace], dim=1).float()
        for i, (sample, n) in enumerate(zip(data_samples, lengths.tolist())):
            n4 = n - n % self.unit_length
            pred = joints[:, i, :n4].detach().float().cpu()
            sample.pred_joints = pred[0]
            sample.pred_motion = pred[0].reshape(n4, 3 * J)
            if reps > 1:
                sample.pred_motion_replications = pred.reshape(reps, n4, 3 * J)
            if trace:
                sample.guidance_score = trace_score[i]
                sample.guidance_grad_norm = trace_norm[i]
            if 'gt_joints' not in sample and source is not None:
                sample.gt_joints = source[i, :n4].detach().float().cpu()
            sample.set_metainfo(dict(pred_motion_normalized=False, pred_length=n4,
                                     pred_motion_representation='AbsoluteCoordinates'))
        return list(data_samples)

    def forward(self, inputs: dict, data_samples: Optional[Sequence] = None, mode: str = 'tensor'):
        if mode == 'predict':
            return self.predict(inputs, data_samples)
        if not isinstance(inputs, dict) or 'motion' not in inputs:
            raise TypeError('MaskedAutoregressiveGenerator.forward: inputs must be '
                            'dict(motion=(B, T, J, 3), lengths=(B,)) from MotionDataPreprocessor')
        if mode == 'loss':
            return self.loss(inputs['motion'], inputs.get('lengths'), self._texts(data_samples))
        if mode == 'tensor':
            with torch.no_grad():
                z, tok_len = self.tokenizer.encode(inputs['motion'], inputs.get('lengths'))
            valid = torch.arange(z.shape[1], device=z.device)[None] < tok_len[:, None]
            texts = self._texts(data_samples) if data_samples else None
            return self.context(z, self.encode_text(texts, z.shape[0]), valid)
        raise ValueError(f"MaskedAutoregressiveGenerator: mode must be 'loss', 'predict' or "
                         f"'tensor', got {mode!r}")

"""Score a generated motion with a vision-language model: AToM's GPT-4V reward
(Han et al., CVPR 2025, sec. 3.2-3.3, eq. 5, table 4).

The motion is rendered and injected as images (:mod:`motionkit.visualization.frame_injection`:
every 8th frame, as separate frames, one tiled image, or a trajectory image); the request carries
the subtask's scoring rule and the prompt as text and the images as base64 PNG ``image_url``
content parts, in the OpenAI chat format, so any OpenAI-compatible vision endpoint can answer
(GPT-4V/4o, vLLM, llama.cpp, ...). The reply's integer score is parsed with
:func:`~.scoring.parse_score`.
"""
from __future__ import annotations

import hashlib
import json
import logging
import os
import time
from pathlib import Path
from typing import Any, List, Optional, Union

import numpy as np

from motionkit.registry import FEEDBACK_CLIENTS
from motionkit.utils.io import atomic_write_bytes
from motionkit.visualization.frame_injection import (FRAME_STEP, GRID_COLS, INJECTION_FORMS,
                                                     injection_images, png_data_url)

from .budget import CallBudget
from .openai_client import default_feedback_cache_dir
from .scoring import (ScoreParseError, ScoreRequest, ScoreResult, load_scoring_rules, parse_score,
                      scale_of)

__all__ = ['VLMScorer', 'VLM_SCORER_VERSION']

logger = logging.getLogger(__name__)

# Part of every cache key: bump it when the rendering or the message layout changes.
VLM_SCORER_VERSION = '1'


def _canon(obj: Any) -> str:
    return json.dumps(obj, sort_keys=True, separators=(',', ':'), ensure_ascii=False)


@FEEDBACK_CLIENTS.register_module()
class VLMScorer:
    """AToM's alignment score from an OpenAI-compatible vision model.

    One :meth:`score` call renders the motion, asks the model and parses its reply. A reply with no
    usable score (no number, an out-of-range or fractional score, see
    :func:`~.scoring.parse_score`) is asked again, up to ``max_attempts`` requests in all; each
    rejected reply is counted (``num_rejected``) and kept with the result. Transport problems
    (timeouts, 5xx, unreachable server) are retried by the client itself.

    Cache: every finished score is stored under ``cache_dir`` as ``<k[:2]>/<k>.json``, ``k`` the
    sha256 of everything that determines the answer: endpoint URL, model, sampling parameters, the
    motion's bytes (sha256 of the ``(T, J, 3)`` float32 array), prompt, subtask, the scoring rules'
    text, the injection form and its settings, and :data:`VLM_SCORER_VERSION`. A hit needs no
    rendering and no request. A motion that still has no score after ``max_attempts`` raises
    :class:`~.scoring.ScoreParseError` and nothing is cached (the next run asks again).

    Args:
        client: a ``FEEDBACK_CLIENTS`` config or an :class:`~.openai_client.OpenAIChatClient`;
            its ``timeout`` / ``max_retries`` / ``temperature`` / ``max_tokens`` apply.
        rules: scoring-rules file or dict (default: the stored ``atom_scoring_rules.json``).
        injection: ``'frames'`` | ``'full_image'`` | ``'trajectory'`` (table 6a).
        frame_step: keep one frame in ``frame_step`` (8 in the paper).
        grid_cols: frames per row of the full image (5).
        image_size: rendered frame size in pixels.
        image_detail: OpenAI's ``image_url.detail`` (``'low'`` | ``'high'`` | ``'auto'``); None
            leaves it out.
        max_attempts: requests per motion while replies hold no usable score.
        cache_dir: score cache folder (default ``<feedback cache>/vlm_scores``); False: no cache.
        budget: a :class:`~.budget.CallBudget` shared with the rest of the build (None: unlimited).
    """

    def __init__(self, client: Any, rules: Union[None, str, os.PathLike, dict] = None,
                 injection: str = 'full_image', frame_step: int = FRAME_STEP, grid_cols: int = GRID_COLS,
                 image_size: int = 224, image_detail: Optional[str] = 'low', max_attempts: int = 3,
                 cache_dir: Union[None, str, os.PathLike, bool] = None,
                 budget: Optional[CallBudget] = None) -> None:
        self.client = FEEDBACK_CLIENTS.build(client) if isinstance(client, dict) else client
        for attr in ('build_request', 'request', 'url', 'model', 'num_requests'):
            if not hasattr(self.client, attr):
                raise TypeError(f'client must be an OpenAI-compatible chat client (an OpenAIChatClient); '
                                f'{type(self.client).__name__} has no {attr!r}')
        if injection not in INJECTION_FORMS:
            raise ValueError(f'injection must be one of {INJECTION_FORMS}, got {injection!r}')
        if int(max_attempts) < 1:
            raise ValueError(f'max_attempts must be >= 1, got {max_attempts}')
        self.rules = load_scoring_rules(rules)
        self.injection = injection
        self.frame_step, self.grid_cols, self.image_size = int(frame_step), int(grid_cols), int(image_size)
        self.image_detail = image_detail
        self.max_attempts = int(max_attempts)
        if cache_dir is False:
            self.cache_dir = None
        else:
            self.cache_dir = (Path(cache_dir) if cache_dir not in (None, True)
                              else default_feedback_cache_dir() / 'vlm_scores')
        self.budget = budget if budget is not None else CallBudget(None)
        self.num_calls = 0  # scores asked of the server (cache misses)
        self.num_cache_hits = 0
        self.num_rejected = 0  # replies without a usable score
        self.num_failed = 0  # motions left without a score after max_attempts

    # ------------------------------------------------------------------ messages
    def messages(self, request: ScoreRequest, images: List[np.ndarray]) -> List[dict]:
        """The chat messages of one scoring request: the judge's role (system) and one user message
        with the injection's description, the subtask's rule, the prompt and the images."""
        lo, hi = scale_of(self.rules, request.subtask)
        text = (f"{self.rules['forms'][self.injection]}\n\n"
                f"{self.rules['subtasks'][request.subtask]['rule']}\n"
                f"Scale: integers from {lo} to {hi}.\n\n"
                f'Prompt: "{request.prompt.strip()}"')
        content: List[dict] = [dict(type='text', text=text)]
        for img in images:
            part = dict(url=png_data_url(img))
            if self.image_detail is not None:
                part['detail'] = self.image_detail
            content.append(dict(type='image_url', image_url=part))
        return [dict(role='system', content=self.rules['system']), dict(role='user', content=content)]

    def cache_key(self, request: ScoreRequest) -> str:
        if request.joints is None:
            raise ValueError(f'{request.sample_id}: VLMScorer needs the motion joints (T, J, 3)')
        joints = np.ascontiguousarray(np.asarray(request.joints, dtype=np.float32))
        sub = self.rules['subtasks'][request.subtask]
        ident = dict(version=VLM_SCORER_VERSION, url=self.client.url, model=self.client.model,
                     temperature=getattr(self.client, 'temperature', None),
                     max_tokens=getattr(self.client, 'max_tokens', None),
                     joints=hashlib.sha256(joints.tobytes()).hexdigest(), shape=list(joints.shape),
                     prompt=request.prompt.strip(), subtask=request.subtask, rule=sub['rule'],
                     scale=sub['scale'], system=self.rules['system'], form=self.rules['forms'][self.injection],
                     injection=self.injection, frame_step=self.frame_step, grid_cols=self.grid_cols,
                     image_size=self.image_size, image_detail=self.image_detail)
        return hashlib.sha256(_canon(ident).encode('utf-8')).hexdigest()

    def _cache_path(self, key: str) -> Optional[Path]:
        return None if self.cache_dir is None else self.cache_dir / key[:2] / f'{key}.json'

    def _cache_get(self, key: str, request: ScoreRequest) -> Optional[dict]:
        path = self._cache_path(key)
        if path is None or not path.is_file():
            return None
        try:
            rec = json.loads(path.read_text(encoding='utf-8'))
            lo, hi = scale_of(self.rules, request.subtask)
            if rec.get('key') != key or not lo <= int(rec['score']) <= hi:
                raise ValueError('key or score does not match')
        except (ValueError, KeyError, TypeError) as e:
            logger.warning('ignoring unreadable VLM score record %s: %s', path, e)
            return None
        return rec

    # ------------------------------------------------------------------ scoring
    def score(self, request: ScoreRequest) -> ScoreResult:
        """Score one motion (from the cache when this exact request was scored before).

        Raises:
            ScoreParseError: no usable score after ``max_attempts`` replies (nothing cached).
            FeedbackError: the server could not be reached or failed for good.
            BudgetExhausted: the request budget is spent (checked before every request).
            ValueError: no joints, an empty prompt, an unknown subtask.
        """
        key = self.cache_key(request)
        lo, hi = scale_of(self.rules, request.subtask)
        rec = self._cache_get(key, request)
        if rec is not None:
            self.num_cache_hits += 1
            return ScoreResult(request.sample_id, request.subtask, int(rec['score']), (lo, hi),
                               type(self).__name__, cached=True, replies=list(rec['replies']),
                               detail=dict(rejected=rec.get('rejected', []), key=key))
        images = injection_images(request.joints, self.injection, self.frame_step, self.grid_cols,
                                  self.image_size)
        body = self.client.build_request(self.messages(request, images))
        self.num_calls += 1
        replies, rejected = [], []
        for attempt in range(self.max_attempts):
            self.budget.check(f'VLM request for {request.sample_id}')
            before = self.client.num_requests
            try:
                reply = self.client.request(body)
            finally:
                self.budget.spend(self.client.num_requests - before)
            text = reply['choices'][0]['message']['content']
            replies.append(text)
            try:
                value = parse_score(text, lo, hi)
            except ScoreParseError as e:
                self.num_rejected += 1
                rejected.append(e.reason)
                logger.warning('%s: unusable VLM reply (attempt %d/%d): %s', request.sample_id,
                               attempt + 1, self.max_attempts, e)
                continue
            path = self._cache_path(key)
            if path is not None:
                rec = dict(key=key, sample_id=request.sample_id, prompt=request.prompt,
                           subtask=request.subtask, injection=self.injection, model=self.client.model,
                           url=self.client.url, score=value, replies=replies, rejected=rejected,
                           timestamp=time.time())
                atomic_write_bytes(path, json.dumps(rec, ensure_ascii=False, indent=1).encode('utf-8'))
            return ScoreResult(request.sample_id, request.subtask, value, (lo, hi), type(self).__name__,
                               replies=replies, detail=dict(rejected=rejected, key=key))
        self.num_failed += 1
        raise ScoreParseError(f'{request.sample_id}: no usable score in {self.max_attempts} replies '
                              f'({"; ".join(rejected)})', replies[-1] if replies else '')

    def stats(self) -> dict:
        return dict(calls=self.num_calls, cache_hits=self.num_cache_hits, rejected_replies=self.num_rejected,
                    failed=self.num_failed, http_requests=self.client.num_requests)

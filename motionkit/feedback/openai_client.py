"""A cached, retrying client for OpenAI-compatible ``/chat/completions`` endpoints.

Works with the OpenAI API and with any server that speaks the same protocol (vLLM, llama.cpp's
server, Ollama, or :mod:`motionkit.feedback.server` for a local Hugging Face model). Only the
standard library is used for HTTP, so it adds no dependency.
"""
from __future__ import annotations

import hashlib
import json
import logging
import os
import socket
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any, Optional, Sequence

from motionkit.registry import FEEDBACK_CLIENTS
from motionkit.utils.io import atomic_write_bytes

from motionkit.utils.paths import cache_dir
from .errors import FeedbackError

logger = logging.getLogger(__name__)

# Statuses worth another try: rate limiting and server-side failures (OpenAI's own advice);
# any other 4xx means the request itself is wrong and would fail again.
RETRY_STATUSES = frozenset({408, 409, 429, 500, 502, 503, 504})
_EXCERPT = 300


def default_feedback_cache_dir() -> Path:
    """``$MOTIONKIT_CACHE/feedback`` or ``~/.cache/motionkit/feedback``."""
    return cache_dir('feedback')


def _excerpt(body: bytes | str | None) -> Optional[str]:
    if body is None:
        return None
    text = body.decode('utf-8', errors='replace') if isinstance(body, bytes) else body
    return text if len(text) <= _EXCERPT else text[:_EXCERPT] + '...'


def _is_content(content: Any) -> bool:
    """A message content: a string, or (vision models) a non-empty list of OpenAI content parts."""
    if isinstance(content, str):
        return True
    return (isinstance(content, list) and bool(content)
            and all(isinstance(p, dict) and isinstance(p.get('type'), str) for p in content))


def _check_messages(messages: Any) -> list:
    if not isinstance(messages, (list, tuple)) or not messages:
        raise ValueError(f'messages must be a non-empty list of dicts, got {type(messages).__name__}')
    for i, m in enumerate(messages):
        if not isinstance(m, dict) or 'role' not in m or 'content' not in m:
            raise ValueError(f"messages[{i}] must be a dict with 'role' and 'content', got {m!r}")
        if not isinstance(m['role'], str) or not _is_content(m['content']):
            raise ValueError(f"messages[{i}]: 'role' and 'content' must be strings ('content' may also be "
                             f"a non-empty list of content parts: dicts with a 'type'), got {m!r}")
    return [dict(m) for m in messages]


@FEEDBACK_CLIENTS.register_module()
class OpenAIChatClient:
    """Chat completions from an OpenAI-compatible server, cached on disk.

    Every successful answer is stored under ``cache_dir`` in a JSON file named by the sha256 of the
    canonical request (URL + the whole JSON body: model, messages, temperature, max_tokens and any
    extra parameters), so re-running a data build asks the server only for what it has not seen.
    A cache hit makes no HTTP request. Failures are never cached.

    Args:
        base_url: the API root, e.g. ``'https://api.openai.com/v1'`` or ``'http://127.0.0.1:8000/v1'``;
            requests go to ``{base_url}/chat/completions``.
        model: the model name sent with every request.
        api_key_env: environment variable holding the API key, sent as ``Authorization: Bearer``
            when set (a local server needs none). The key is never written to the cache.
        cache_dir: cache folder (default :func:`default_feedback_cache_dir`); ``False`` disables it.
        timeout: seconds to wait for one HTTP answer.
        max_retries: extra attempts after a connection error, timeout or retryable status
            (429 / 5xx); other 4xx statuses and malformed replies are not retried.
        backoff: seconds before the first retry, doubled after each further one.
        temperature: default sampling temperature (0 = greedy, deterministic answers cache well).
        max_tokens: default cap on the answer length.
    """

    def __init__(self, base_url: str, model: str, api_key_env: str = 'OPENAI_API_KEY',
                 cache_dir: Optional[str | os.PathLike | bool] = None, timeout: float = 60.0,
                 max_retries: int = 3, backoff: float = 1.0, temperature: float = 0.0,
                 max_tokens: int = 256) -> None:
        if not isinstance(base_url, str) or not base_url.startswith(('http://', 'https://')):
            raise ValueError(f"base_url must start with 'http://' or 'https://', got {base_url!r}")
        if not isinstance(model, str) or not model:
            raise ValueError(f'model must be a non-empty string, got {model!r}')
        if max_retries < 0:
            raise ValueError(f'max_retries must be >= 0, got {max_retries}')
        if timeout <= 0:
            raise ValueError(f'timeout must be > 0, got {timeout}')
        self.base_url = base_url.rstrip('/')
        self.url = f'{self.base_url}/chat/completions'
        self.model = model
        self.api_key_env = api_key_env
        if cache_dir is False:
            self.cache_dir = None
        else:
            self.cache_dir = Path(cache_dir) if cache_dir not in (None, True) else default_feedback_cache_dir()
        self.timeout = float(timeout)
        self.max_retries = int(max_retries)
        self.backoff = float(backoff)
        self.temperature = float(temperature)
        self.max_tokens = int(max_tokens)
        self.num_requests = 0  # HTTP requests actually sent (cache hits do not count)
        self.num_cache_hits = 0

    def __repr__(self) -> str:
        return (f'{type(self).__name__}(base_url={self.base_url!r}, model={self.model!r}, '
                f'cache_dir={str(self.cache_dir) if self.cache_dir else None!r})')

    # ------------------------------------------------------------------ request / cache
    def build_request(self, messages: Sequence[dict], **params: Any) -> dict:
        """The JSON body sent for ``messages``: defaults from the constructor, overridden by ``params``."""
        body = dict(model=self.model, messages=_check_messages(messages),
                    temperature=self.temperature, max_tokens=self.max_tokens)
        body.update(params)
        if body.get('stream'):
            raise ValueError('stream=True is not supported: the client reads whole answers')
        return body

    def cache_key(self, body: dict) -> str:
        """sha256 of the canonical (sorted-key, compact) JSON of URL + body."""
        canon = json.dumps(dict(url=self.url, body=body), sort_keys=True, separators=(',', ':'),
                           ensure_ascii=False)
        return hashlib.sha256(canon.encode('utf-8')).hexdigest()

    def _cache_path(self, key: str) -> Optional[Path]:
        return None if self.cache_dir is None else self.cache_dir / key[:2] / f'{key}.json'

    def _cache_get(self, key: str) -> Optional[dict]:
        path = self._cache_path(key)
        if path is None or not path.is_file():
            return None
        try:
            rec = json.loads(path.read_text(encoding='utf-8'))
            self._content(rec['response'], 200, '')
        except (ValueError, KeyError, TypeError, FeedbackError) as e:
            # a damaged record is ignored (and overwritten by the next successful answer)
            logger.warning('ignoring unreadable feedback cache record %s: %s', path, e)
            return None
        return rec

    # ------------------------------------------------------------------ HTTP
    def _headers(self) -> dict:
        headers = {'Content-Type': 'application/json', 'Accept': 'application/json'}
        key = os.environ.get(self.api_key_env) if self.api_key_env else None
        if key:
            headers['Authorization'] = f'Bearer {key}'
        return headers

    def _post(self, body: dict) -> tuple[int, bytes]:
        """POST once; returns (status, body bytes). HTTP error statuses are returned, not raised;
        connection failures and timeouts raise ``OSError`` / ``TimeoutError``."""
        data = json.dumps(body, ensure_ascii=False).encode('utf-8')
        req = urllib.request.Request(self.url, data=data, headers=self._headers(), method='POST')
        self.num_requests += 1
        try:
            with urllib.request.urlopen(req, timeout=self.timeout) as resp:
                return resp.status, resp.read()
        except urllib.error.HTTPError as e:
            try:
                payload = e.read()
            except OSError:
                payload = b''
            return e.code, payload

    def _content(self, reply: Any, status: int, raw: bytes | str) -> str:
        try:
            content = reply['choices'][0]['message']['content']
        except (KeyError, IndexError, TypeError):
            content = None
        if not isinstance(content, str):
            raise FeedbackError('reply is not a chat completion (no string choices[0].message.content)',
                                self.url, status, _excerpt(raw))
        return content

    def request(self, body: dict) -> dict:
        """Send ``body`` (retrying as configured) and return the parsed reply JSON; no cache."""
        last: Optional[FeedbackError] = None
        for attempt in range(self.max_retries + 1):
            if attempt:
                delay = self.backoff * 2 ** (attempt - 1)
                logger.warning('feedback request to %s failed (%s); retry %d/%d in %.1f s', self.url,
                               last, attempt, self.max_retries, delay)
                time.sleep(delay)
            try:
                status, raw = self._post(body)
            except (TimeoutError, socket.timeout) as e:
                last = FeedbackError(f'no answer within {self.timeout:g} s: {e}', self.url)
                continue
            except (urllib.error.URLError, ConnectionError, OSError) as e:
                reason = getattr(e, 'reason', e)
                last = FeedbackError(f'cannot reach the server: {reason}', self.url)
                continue
            if status in RETRY_STATUSES:
                last = FeedbackError('server error', self.url, status, _excerpt(raw))
                continue
            if not 200 <= status < 300:
                raise FeedbackError('request rejected', self.url, status, _excerpt(raw))
            try:
                reply = json.loads(raw.decode('utf-8'))
            except (UnicodeDecodeError, ValueError) as e:
                raise FeedbackError(f'reply is not JSON ({e})', self.url, status, _excerpt(raw)) from None
            self._content(reply, status, raw)
            return reply
        assert last is not None
        raise FeedbackError(f'gave up after {self.max_retries + 1} attempts: {last}', self.url,
                            last.status, last.body)

    # ------------------------------------------------------------------ public API
    def chat(self, messages: Sequence[dict], **params: Any) -> str:
        """The assistant's answer to ``messages`` (list of ``{'role', 'content'}`` dicts).

        ``params`` are extra request fields (``temperature``, ``max_tokens``, ``seed``, ``stop``, ...)
        overriding the constructor's defaults; they are part of the cache key.
        """
        body = self.build_request(messages, **params)
        key = self.cache_key(body)
        rec = self._cache_get(key)
        if rec is not None:
            self.num_cache_hits += 1
            return self._content(rec['response'], 200, '')
        reply = self.request(body)
        path = self._cache_path(key)
        if path is not None:
            rec = dict(request=dict(url=self.url, body=body), response=reply, timestamp=time.time(),
                       key=key)
            atomic_write_bytes(path, json.dumps(rec, ensure_ascii=False, indent=1).encode('utf-8'))
        return self._content(reply, 200, '')

    def complete_many(self, conversations: Sequence[Sequence[dict]], progress: bool = True,
                      **params: Any) -> list[str]:
        """:meth:`chat` for each message list, in order, with a tqdm progress bar."""
        conversations = list(conversations)
        bar = None
        if progress:
            from tqdm import tqdm
            bar = tqdm(total=len(conversations), desc=f'chat {self.model}', unit='req')
        out = []
        try:
            for messages in conversations:
                out.append(self.chat(messages, **params))
                if bar is not None:
                    bar.update(1)
        finally:
            if bar is not None:
                bar.close()
        return out

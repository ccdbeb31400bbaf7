"""A minimal OpenAI-compatible chat server for a local Hugging Face causal language model.

``GET /v1/models`` and ``POST /v1/chat/completions`` (non-streaming) follow the OpenAI REST API
(https://platform.openai.com/docs/api-reference/chat), so :class:`OpenAIChatClient` -- or any other
OpenAI client -- can build data with a model that runs on this machine (e.g. the converted
SmolLM2-135M-Instruct, see :func:`motionkit.hub.ensure_smollm2`). One model is served; requests
for any model name are answered by it. Generation is serialised by a lock (one model, one forward
at a time), HTTP handling is threaded.
"""
from __future__ import annotations

import json
import logging
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, Optional

logger = logging.getLogger(__name__)

_MAX_BODY = 8 * 1024 * 1024


class BadRequest(ValueError):
    """A request the server refuses with HTTP 400."""


def load_causal_lm(model_dir: str | Path):
    """``(model, tokenizer)`` from a local Hugging Face folder, float32, eval mode."""
    try:
        import torch
        from transformers import AutoModelForCausalLM, AutoTokenizer
    except ImportError as e:  # pragma: no cover - depends on the install
        raise ImportError('serving a local LLM needs `pip install torch transformers`') from e
    model_dir = Path(model_dir)
    if not (model_dir / 'config.json').is_file():
        raise FileNotFoundError(f'{model_dir} is not a Hugging Face model folder (no config.json)')
    # transformers 5 keeps the saved dtype (bf16 stays bf16); CPU inference wants float32
    model = AutoModelForCausalLM.from_pretrained(str(model_dir), dtype=torch.float32).eval()
    tokenizer = AutoTokenizer.from_pretrained(str(model_dir))
    return model, tokenizer


def chat_prompt_ids(tokenizer, messages: list[dict]):
    """Token ids ``(1, L)`` of the prompt for ``messages``, ending where the assistant's answer starts.

    Uses the tokenizer's chat template when it has one; otherwise one ``role: content`` line per
    message followed by ``assistant:``.
    """
    import torch
    if getattr(tokenizer, 'chat_template', None):
        # transformers 5 returns a BatchEncoding by default; ask for it explicitly either way
        enc = tokenizer.apply_chat_template(messages, add_generation_prompt=True, tokenize=True,
                                            return_dict=True, return_tensors='pt')
        ids = enc['input_ids']
    else:
        text = '\n'.join(f"{m['role']}: {m['content']}" for m in messages) + '\nassistant:'
        ids = tokenizer(text, return_tensors='pt')['input_ids']
    return torch.as_tensor(ids).long().reshape(1, -1)


def _float(body: dict, key: str, default: float, lo: float, hi: float) -> float:
    v = body.get(key, default)
    if v is None:
        return default
    if isinstance(v, bool) or not isinstance(v, (int, float)) or not lo <= v <= hi:
        raise BadRequest(f"'{key}' must be a number in [{lo}, {hi}], got {v!r}")
    return float(v)


class ChatModel:
    """A causal LM + tokenizer answering OpenAI chat-completion request bodies."""

    def __init__(self, model, tokenizer, model_name: str = 'local', max_new_tokens: int = 1024) -> None:
        self.model, self.tokenizer, self.model_name = model, tokenizer, model_name
        self.max_new_tokens = int(max_new_tokens)
        self.created = int(time.time())
        self.lock = threading.Lock()

    def models(self) -> dict:
        return dict(object='list', data=[dict(id=self.model_name, object='model', created=self.created,
                                              owned_by='motionkit')])

    def _parse(self, body: Any) -> dict:
        if not isinstance(body, dict):
            raise BadRequest(f'the request body must be a JSON object, got {type(body).__name__}')
        msgs = body.get('messages')
        if not isinstance(msgs, list) or not msgs:
            raise BadRequest("'messages' must be a non-empty list")
        for i, m in enumerate(msgs):
            if not (isinstance(m, dict) and isinstance(m.get('role'), str)
                    and isinstance(m.get('content'), str)):
                raise BadRequest(f"messages[{i}] must be an object with string 'role' and 'content'")
            if m['role'] not in ('system', 'user', 'assistant', 'developer'):
                raise BadRequest(f"messages[{i}].role must be system/user/assistant/developer, got "
                                 f"{m['role']!r}")
        if body.get('stream'):
            raise BadRequest("'stream' is not supported by this server")
        if body.get('n', 1) != 1:
            raise BadRequest(f"only n=1 is supported, got n={body.get('n')!r}")
        mt = body.get('max_completion_tokens', body.get('max_tokens'))
        if mt is None:
            mt = self.max_new_tokens
        if isinstance(mt, bool) or not isinstance(mt, int) or not 1 <= mt <= self.max_new_tokens:
            raise BadRequest(f"'max_tokens' must be an integer in [1, {self.max_new_tokens}], got {mt!r}")
        stop = body.get('stop')
        if stop is None:
            stop = []
        elif isinstance(stop, str):
            stop = [stop]
        if not isinstance(stop, list) or not all(isinstance(s, str) and s for s in stop):
            raise BadRequest(f"'stop' must be a string or a list of non-empty strings, got {stop!r}")
        seed = body.get('seed')
        if seed is not None and (isinstance(seed, bool) or not isinstance(seed, int)):
            raise BadRequest(f"'seed' must be an integer, got {seed!r}")
        return dict(messages=[dict(role=m['role'], content=m['content']) for m in msgs],
                    max_tokens=mt, stop=stop, seed=seed,
                    temperature=_float(body, 'temperature', 1.0, 0.0, 2.0),
                    top_p=_float(body, 'top_p', 1.0, 0.0, 1.0),
                    model=body.get('model') if isinstance(body.get('model'), str) else self.model_name)

    def complete(self, body: Any) -> dict:
        """The OpenAI chat-completion object answering request ``body``. Raises :class:`BadRequest`."""
        import torch
        req = self._parse(body)
        tok = self.tokenizer
        ids = chat_prompt_ids(tok, req['messages'])
        eos = tok.eos_token_id
        pad = tok.pad_token_id if tok.pad_token_id is not None else eos
        sample = req['temperature'] > 0
        gen_kwargs = dict(max_new_tokens=req['max_tokens'], do_sample=sample, pad_token_id=pad,
                          eos_token_id=eos)
        if sample:
            gen_kwargs.update(temperature=req['temperature'], top_p=req['top_p'], top_k=0)
        else:
            # greedy: neutralise sampling defaults a generation_config may carry
            gen_kwargs.update(temperature=None, top_p=None, top_k=None)
        with self.lock, torch.no_grad():
            if sample and req['seed'] is not None:
                torch.manual_seed(req['seed'])
            out = self.model.generate(ids, attention_mask=torch.ones_like(ids), **gen_kwargs)
        new = out[0, ids.shape[1]:].tolist()
        finish = 'length'
        if eos is not None:
            eos_ids = set(eos) if isinstance(eos, (list, tuple)) else {eos}
            for i, t in enumerate(new):
                if t in eos_ids:
                    new, finish = new[:i], 'stop'
                    break
        text = tok.decode(new, skip_special_tokens=True)
        cut = [text.find(s) for s in req['stop'] if s in text]
        if cut:
            text, finish = text[:min(cut)], 'stop'
        return dict(id=f'chatcmpl-{uuid.uuid4().hex}', object='chat.completion', created=int(time.time()),
                    model=req['model'],
                    choices=[dict(index=0, message=dict(role='assistant', content=text), logprobs=None,
                                  finish_reason=finish)],
                    usage=dict(prompt_tokens=int(ids.shape[1]), completion_tokens=len(new),
                               total_tokens=int(ids.shape[1]) + len(new)))


def _error(message: str, kind: str = 'invalid_request_error') -> dict:
    return dict(error=dict(message=message, type=kind, param=None, code=None))


class _Handler(BaseHTTPRequestHandler):
    server_version = 'motionkit-llm/1.0'
    protocol_version = 'HTTP/1.1'

    def log_message(self, fmt: str, *args: Any) -> None:  # route access logs to logging
        logger.debug('%s - %s', self.address_string(), fmt % args)

    def _send(self, status: int, obj: dict) -> None:
        data = json.dumps(obj, ensure_ascii=False).encode('utf-8')
        self.send_response(status)
        self.send_header('Content-Type', 'application/json')
        self.send_header('Content-Length', str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def _path(self) -> str:
        return self.path.split('?', 1)[0].rstrip('/')

    def do_GET(self) -> None:  # noqa: N802 (http.server API)
        self.server.count_request()
        if self._path() == '/v1/models':
            self._send(200, self.server.chat_model.models())
        else:
            self._send(404, _error(f'unknown path {self.path!r}; try GET /v1/models', 'not_found'))

    def do_POST(self) -> None:  # noqa: N802
        self.server.count_request()
        length = int(self.headers.get('Content-Length') or 0)
        raw = self.rfile.read(length) if 0 < length <= _MAX_BODY else b''
        if self._path() != '/v1/chat/completions':
            self._send(404, _error(f'unknown path {self.path!r}; try POST /v1/chat/completions',
                                   'not_found'))
            return
        if length > _MAX_BODY:
            self._send(413, _error(f'request body over {_MAX_BODY} bytes'))
            self.close_connection = True
            return
        try:
            body = json.loads(raw.decode('utf-8'))
        except (UnicodeDecodeError, ValueError) as e:
            self._send(400, _error(f'the request body is not valid JSON: {e}'))
            return
        try:
            reply = self.server.chat_model.complete(body)
        except BadRequest as e:
            self._send(400, _error(str(e)))
            return
        except Exception as e:  # a generation failure must answer, not hang the client
            logger.exception('chat completion failed')
            self._send(500, _error(f'{type(e).__name__}: {e}', 'server_error'))
            return
        self._send(200, reply)


class ChatServer(ThreadingHTTPServer):
    """``ThreadingHTTPServer`` holding the :class:`ChatModel` it serves."""

    daemon_threads = True

    def __init__(self, address: tuple[str, int], chat_model: ChatModel) -> None:
        super().__init__(address, _Handler)
        self.chat_model = chat_model
        self.num_requests = 0  # HTTP requests received (any path, any outcome)
        self._count_lock = threading.Lock()

    def count_request(self) -> None:
        with self._count_lock:
            self.num_requests += 1

    @property
    def base_url(self) -> str:
        host, port = self.server_address[:2]
        return f'http://{host}:{port}/v1'


def start_server(model_or_dir, tokenizer=None, host: str = '127.0.0.1', port: int = 0,
                 model_name: Optional[str] = None, max_new_tokens: int = 1024):
    """Serve a causal LM in a background thread.

    Args:
        model_or_dir: a Hugging Face model folder (loaded with :func:`load_causal_lm`) or a loaded
            ``PreTrainedModel`` (then ``tokenizer`` is required).
        tokenizer: the tokenizer of a loaded model.
        host, port: where to listen; ``port=0`` picks a free port.
        model_name: the id reported by ``/v1/models`` (default: the folder name, or ``'local'``).
        max_new_tokens: the largest ``max_tokens`` a request may ask for.

    Returns:
        ``(server, thread, base_url)``; stop with ``server.shutdown(); server.server_close()``.
    """
    if isinstance(model_or_dir, (str, Path)):
        model, tok = load_causal_lm(model_or_dir)
        tokenizer = tokenizer or tok
        model_name = model_name or Path(model_or_dir).resolve().name
    else:
        model = model_or_dir
        if tokenizer is None:
            raise ValueError('start_server(model, tokenizer): a loaded model needs its tokenizer')
    server = ChatServer((host, port), ChatModel(model.eval(), tokenizer, model_name or 'local',
                                                max_new_tokens=max_new_tokens))
    thread = threading.Thread(target=server.serve_forever, name='motionkit-llm-server', daemon=True)
    thread.start()
    return server, thread, server.base_url

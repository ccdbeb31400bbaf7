import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from motionkit.feedback import FeedbackError, OpenAIChatClient
from motionkit.registry import FEEDBACK_CLIENTS


def _completion(text):
    return json.dumps(dict(id='chatcmpl-1', object='chat.completion', created=0, model='m',
                           choices=[dict(index=0, message=dict(role='assistant', content=text),
                                         finish_reason='stop')])).encode()


class ScriptedServer:
    """Answers POSTs with a scripted list of ``(status, body_bytes, delay_s)``, recording each request."""

    def __init__(self, script):
        self.script, self.requests = list(script), []
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *a):
                pass

            def do_POST(self):  # noqa: N802
                body = self.rfile.read(int(self.headers['Content-Length']))
                owner.requests.append(dict(path=self.path, body=json.loads(body),
                                           auth=self.headers.get('Authorization')))
                status, data, delay = owner.script.pop(0) if owner.script else (500, b'no script', 0)
                time.sleep(delay)
                try:
                    self.send_response(status)
                    self.send_header('Content-Length', str(len(data)))
                    self.end_headers()
                    self.wfile.write(data)
                except OSError:  # the client gave up (timeout test)
                    pass

        self.httpd = ThreadingHTTPServer(('127.0.0.1', 0), Handler)
        self.httpd.daemon_threads = True
        self.base_url = f'http://127.0.0.1:{self.httpd.server_address[1]}/v1'
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.httpd.shutdown()
        self.httpd.server_close()


MSGS = [dict(role='user', content='paraphrase: raise the left arm')]


def test_registered_and_built_from_config(tmp_path):
    c = FEEDBACK_CLIENTS.build(dict(type='OpenAIChatClient', base_url='http://127.0.0.1:1/v1', model='m',
                                    cache_dir=str(tmp_path)))
    assert isinstance(c, OpenAIChatClient)
    assert c.url == 'http://127.0.0.1:1/v1/chat/completions'


def test_round_trip_through_local_server_and_cache(llm_server, tiny_lm_dir, tmp_path):
    server, base = llm_server
    client = OpenAIChatClient(base, 'tiny-llama', cache_dir=tmp_path, max_tokens=8)
    before = server.num_requests
    answer = client.chat([dict(role='user', content='hello world')])
    direct = server.chat_model.complete(dict(messages=[dict(role='user', content='hello world')],
                                             temperature=0, max_tokens=8))
    assert answer == direct['choices'][0]['message']['content'] and answer
    assert server.num_requests == before + 1
    # the same request again: answered from disk, no HTTP request
    assert client.chat([dict(role='user', content='hello world')]) == answer
    assert server.num_requests == before + 1 and client.num_requests == 1 and client.num_cache_hits == 1
    # a new client on the same cache folder does not ask either
    other = OpenAIChatClient(base, 'tiny-llama', cache_dir=tmp_path, max_tokens=8)
    assert other.chat([dict(role='user', content='hello world')]) == answer
    assert server.num_requests == before + 1
    # a different parameter is a different request
    client.chat([dict(role='user', content='hello world')], max_tokens=3)
    assert server.num_requests == before + 2
    records = sorted(tmp_path.rglob('*.json'))
    assert len(records) == 2
    rec = json.loads(records[0].read_text())
    assert set(rec) >= {'request', 'response', 'timestamp'}
    assert records[0].stem == client.cache_key(rec['request']['body'])


def test_complete_many_in_order(llm_server, tmp_path):
    server, base = llm_server
    client = OpenAIChatClient(base, 'tiny-llama', cache_dir=tmp_path, max_tokens=5)
    convs = [[dict(role='user', content=w)] for w in ('walk faster', 'jump higher', 'walk faster')]
    out = client.complete_many(convs, progress=False)
    assert out == [client.chat(c) for c in convs]
    assert client.num_requests == 2  # the repeated conversation came from the cache


def test_cache_key_is_canonical_and_complete(tmp_path):
    c = OpenAIChatClient('http://127.0.0.1:1/v1', 'm', cache_dir=tmp_path)
    a = c.build_request(MSGS, temperature=0.0, seed=1)
    b = dict(reversed(list(a.items())))
    assert c.cache_key(a) == c.cache_key(b)
    assert c.cache_key(a) != c.cache_key(c.build_request(MSGS, temperature=0.0, seed=2))
    d = OpenAIChatClient('http://127.0.0.1:2/v1', 'm', cache_dir=tmp_path)
    assert c.cache_key(a) != d.cache_key(a)  # another server is another request


def test_retry_after_one_500_and_api_key(tmp_path, monkeypatch):
    monkeypatch.setenv('MK_TEST_KEY', 'sk-test')
    with ScriptedServer([(500, b'{"error": "busy"}', 0), (200, _completion('lift the left arm'), 0)]) as srv:
        c = OpenAIChatClient(srv.base_url, 'm', api_key_env='MK_TEST_KEY', cache_dir=tmp_path, backoff=0.01)
        assert c.chat(MSGS) == 'lift the left arm'
        assert len(srv.requests) == 2
        assert srv.requests[0]['path'] == '/v1/chat/completions'
        assert srv.requests[0]['body'] == dict(model='m', messages=MSGS, temperature=0.0, max_tokens=256)
        assert srv.requests[0]['auth'] == 'Bearer sk-test'
    assert 'sk-test' not in ''.join(p.read_text() for p in tmp_path.rglob('*.json'))


def test_gives_up_after_max_retries_and_caches_nothing(tmp_path):
    with ScriptedServer([(503, b'overloaded', 0)] * 3) as srv:
        c = OpenAIChatClient(srv.base_url, 'm', cache_dir=tmp_path, max_retries=2, backoff=0.01)
        with pytest.raises(FeedbackError, match='status=503') as e:
            c.chat(MSGS)
        assert len(srv.requests) == 3 and e.value.url == c.url and 'overloaded' in str(e.value)
    assert not list(tmp_path.rglob('*.json'))


def test_client_error_is_not_retried(tmp_path):
    with ScriptedServer([(400, b'{"error": {"message": "bad model"}}', 0)]) as srv:
        c = OpenAIChatClient(srv.base_url, 'm', cache_dir=tmp_path, backoff=0.01)
        with pytest.raises(FeedbackError, match='bad model') as e:
            c.chat(MSGS)
        assert e.value.status == 400 and len(srv.requests) == 1


@pytest.mark.parametrize('body,needle', [
    (b'<html>proxy error</html>', 'not JSON'),
    (b'{"choices": []}', 'not a chat completion'),
    (b'{"choices": [{"message": {"content": null}}]}', 'not a chat completion'),
])
def test_malformed_reply_names_url_status_and_body(tmp_path, body, needle):
    with ScriptedServer([(200, body, 0)]) as srv:
        c = OpenAIChatClient(srv.base_url, 'm', cache_dir=tmp_path, backoff=0.01)
        with pytest.raises(FeedbackError, match=needle) as e:
            c.chat(MSGS)
        msg = str(e.value)
        assert c.url in msg and 'status=200' in msg and body.decode()[:10] in msg
        assert len(srv.requests) == 1
    assert not list(tmp_path.rglob('*.json'))


def test_timeout_is_retried_then_raises(tmp_path):
    with ScriptedServer([(200, _completion('late'), 1.0), (200, _completion('late'), 1.0)]) as srv:
        c = OpenAIChatClient(srv.base_url, 'm', cache_dir=tmp_path, timeout=0.2, max_retries=1, backoff=0.01)
        t0 = time.time()
        with pytest.raises(FeedbackError, match='0.2 s') as e:
            c.chat(MSGS)
        assert time.time() - t0 < 1.5 and len(srv.requests) == 2 and c.url in str(e.value)


def test_unreachable_server(tmp_path):
    import socket
    s = socket.socket()
    s.bind(('127.0.0.1', 0))
    port = s.getsockname()[1]
    s.close()  # nothing listens on this port now
    c = OpenAIChatClient(f'http://127.0.0.1:{port}/v1', 'm', cache_dir=tmp_path, max_retries=1, backoff=0.01)
    with pytest.raises(FeedbackError, match='cannot reach') as e:
        c.chat(MSGS)
    assert c.num_requests == 2 and f':{port}/v1/chat/completions' in str(e.value)


def test_damaged_cache_record_is_refetched(tmp_path):
    with ScriptedServer([(200, _completion('one'), 0), (200, _completion('two'), 0)]) as srv:
        c = OpenAIChatClient(srv.base_url, 'm', cache_dir=tmp_path)
        assert c.chat(MSGS) == 'one'
        (rec,) = tmp_path.rglob('*.json')
        rec.write_text('{"trunc')
        assert c.chat(MSGS) == 'two' and len(srv.requests) == 2
        assert c.chat(MSGS) == 'two' and len(srv.requests) == 2


@pytest.mark.parametrize('kwargs,needle', [
    (dict(base_url='127.0.0.1:8000', model='m'), 'base_url'),
    (dict(base_url='http://x/v1', model=''), 'model'),
    (dict(base_url='http://x/v1', model='m', max_retries=-1), 'max_retries'),
])
def test_bad_arguments(kwargs, needle):
    with pytest.raises(ValueError, match=needle):
        OpenAIChatClient(**kwargs)


@pytest.mark.parametrize('messages,needle', [
    ([], 'non-empty'),
    ([dict(role='user')], r'messages\[0\]'),
    ([dict(role='user', content=3)], 'strings'),
])
def test_bad_messages(tmp_path, messages, needle):
    c = OpenAIChatClient('http://127.0.0.1:1/v1', 'm', cache_dir=tmp_path)
    with pytest.raises(ValueError, match=needle):
        c.chat(messages)


def test_default_cache_dir(monkeypatch, tmp_path):
    from motionkit.feedback import default_feedback_cache_dir
    monkeypatch.setenv('MOTIONKIT_CACHE', str(tmp_path))
    assert default_feedback_cache_dir() == tmp_path / 'feedback'
    assert OpenAIChatClient('http://x/v1', 'm').cache_dir == tmp_path / 'feedback'
    assert OpenAIChatClient('http://x/v1', 'm', cache_dir=False).cache_dir is None

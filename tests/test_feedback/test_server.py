import json
import urllib.error
import urllib.request

import pytest

torch = pytest.importorskip('torch')


def _call(url, body=None, raw=None):
    """(status, JSON reply) of a GET (body None) or POST."""
    data = raw if raw is not None else (None if body is None else json.dumps(body).encode())
    req = urllib.request.Request(url, data=data, headers={'Content-Type': 'application/json'},
                                 method='GET' if data is None else 'POST')
    try:
        with urllib.request.urlopen(req, timeout=30) as r:
            return r.status, json.loads(r.read())
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read())


def _direct_greedy(model_dir, text, max_new_tokens):
    """The answer ``model.generate`` gives to the prompt text, decoded after the prompt."""
    from transformers import AutoModelForCausalLM, AutoTokenizer
    model = AutoModelForCausalLM.from_pretrained(str(model_dir), dtype=torch.float32).eval()
    tok = AutoTokenizer.from_pretrained(str(model_dir))
    ids = tok(text, return_tensors='pt')['input_ids']
    with torch.no_grad():
        out = model.generate(ids, attention_mask=torch.ones_like(ids), max_new_tokens=max_new_tokens,
                             do_sample=False, pad_token_id=tok.pad_token_id, eos_token_id=tok.eos_token_id)
    new = out[0, ids.shape[1]:].tolist()
    return tok.decode(new, skip_special_tokens=True), ids.shape[1], new


def test_models_endpoint(llm_server):
    server, base = llm_server
    status, reply = _call(f'{base}/models')
    assert status == 200
    assert reply['object'] == 'list'
    assert [m['id'] for m in reply['data']] == ['tiny-llama']
    assert reply['data'][0]['object'] == 'model'


def test_chat_completion_matches_direct_greedy_generate(llm_server, tiny_lm_dir):
    server, base = llm_server
    messages = [dict(role='system', content='say something .'), dict(role='user', content='hello world')]
    status, reply = _call(f'{base}/chat/completions', dict(model='tiny-llama', messages=messages,
                                                           temperature=0, max_tokens=12))
    assert status == 200
    # no chat template on the word-level tokenizer: one "role: content" line per message
    expected, prompt_len, new = _direct_greedy(tiny_lm_dir, 'system: say something .\nuser: hello world\n'
                                               'assistant:', 12)
    assert expected  # the seeded random model does say something
    assert reply['choices'][0]['message'] == dict(role='assistant', content=expected)
    assert reply['object'] == 'chat.completion' and reply['id'].startswith('chatcmpl-')
    assert reply['model'] == 'tiny-llama' and isinstance(reply['created'], int)
    n_new = new.index(3) if 3 in new else len(new)  # 3 = [EOS]
    assert reply['choices'][0]['finish_reason'] == ('stop' if 3 in new else 'length')
    assert reply['usage'] == dict(prompt_tokens=prompt_len, completion_tokens=n_new,
                                  total_tokens=prompt_len + n_new)


def test_max_tokens_and_stop(llm_server, tiny_lm_dir):
    server, base = llm_server
    messages = [dict(role='user', content='raise the left arm')]
    full, _, new = _direct_greedy(tiny_lm_dir, 'user: raise the left arm\nassistant:', 6)
    assert 3 not in new[:2]
    _, reply = _call(f'{base}/chat/completions', dict(messages=messages, temperature=0, max_tokens=2))
    assert reply['usage']['completion_tokens'] == 2
    assert reply['choices'][0]['finish_reason'] == 'length'
    words = full.split()
    assert reply['choices'][0]['message']['content'] == ' '.join(words[:2])
    # stop at the second generated word: the answer is cut before it
    _, reply = _call(f'{base}/chat/completions', dict(messages=messages, temperature=0, max_tokens=6,
                                                      stop=[words[1]]))
    assert reply['choices'][0]['finish_reason'] == 'stop'
    assert reply['choices'][0]['message']['content'] == full[:full.find(words[1])]


def test_sampling_with_seed_is_reproducible(llm_server):
    server, base = llm_server
    body = dict(messages=[dict(role='user', content='walk faster')], temperature=1.5, max_tokens=10, seed=7)
    a = _call(f'{base}/chat/completions', body)[1]['choices'][0]['message']['content']
    b = _call(f'{base}/chat/completions', body)[1]['choices'][0]['message']['content']
    assert a == b


@pytest.mark.parametrize('raw,needle', [
    (b'{"messages": [', 'not valid JSON'),
    (b'[1, 2]', 'JSON object'),
    (b'{"model": "x"}', "'messages'"),
    (b'{"messages": [{"role": "user"}]}', 'messages[0]'),
    (b'{"messages": [{"role": "robot", "content": "hi"}]}', 'messages[0].role'),
    (b'{"messages": [{"role": "user", "content": "hi"}], "max_tokens": 0}', 'max_tokens'),
    (b'{"messages": [{"role": "user", "content": "hi"}], "max_tokens": 100000}', 'max_tokens'),
    (b'{"messages": [{"role": "user", "content": "hi"}], "temperature": "hot"}', 'temperature'),
    (b'{"messages": [{"role": "user", "content": "hi"}], "stream": true}', 'stream'),
    (b'{"messages": [{"role": "user", "content": "hi"}], "n": 2}', 'n=1'),
])
def test_malformed_requests_get_400_json(llm_server, raw, needle):
    server, base = llm_server
    status, reply = _call(f'{base}/chat/completions', raw=raw)
    assert status == 400
    assert reply['error']['type'] == 'invalid_request_error'
    assert needle in reply['error']['message']


def test_unknown_path_404(llm_server):
    server, base = llm_server
    status, reply = _call(base.replace('/v1', '/v2') + '/chat/completions', dict(messages=[]))
    assert status == 404 and 'unknown path' in reply['error']['message']


def test_chat_prompt_ids_uses_chat_template(tiny_lm_dir):
    from transformers import AutoTokenizer

    from motionkit.feedback import chat_prompt_ids
    tok = AutoTokenizer.from_pretrained(str(tiny_lm_dir))
    msgs = [dict(role='user', content='hello world')]
    assert chat_prompt_ids(tok, msgs).tolist() == [tok('user: hello world\nassistant:')['input_ids']]
    tok.chat_template = ("{% for m in messages %}{{ m['role'] }} : {{ m['content'] }} . {% endfor %}"
                         "{% if add_generation_prompt %}assistant :{% endif %}")
    ids = chat_prompt_ids(tok, msgs)
    assert ids.shape[0] == 1
    assert tok.convert_ids_to_tokens(ids[0].tolist()) == ['user', ':', 'hello', 'world', '.', 'assistant', ':']


def test_start_server_needs_tokenizer_for_a_loaded_model():
    from motionkit.feedback import start_server
    with pytest.raises(ValueError, match='tokenizer'):
        start_server(torch.nn.Linear(1, 1))


def test_load_causal_lm_rejects_non_model_folder(tmp_path):
    from motionkit.feedback import load_causal_lm
    with pytest.raises(FileNotFoundError, match='config.json'):
        load_causal_lm(tmp_path)

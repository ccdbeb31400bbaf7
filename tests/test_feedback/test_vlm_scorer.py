"""VLMScorer against a local HTTP server that answers like a vision model (scripted replies,
garbage and timeouts included), the score parser, and the offline scorers (hand-computed)."""
import base64
import io
import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import numpy as np
import pytest

from motionkit.feedback import (BudgetExhausted, CallBudget, OpenAIChatClient, ProgramEventDetector,
                                ScoreParseError, ScoreRequest, SynthMotionOracleScorer,
                                T2MSimilarityScorer, VLMScorer, load_scoring_rules, parse_score)
from motionkit.feedback.synthmotion_oracle_scorer import ordered_match_length, oracle_score
from motionkit.feedback.t2m_similarity_scorer import cosine_to_scale
from motionkit.registry import FEEDBACK_CLIENTS


def _completion(text):
    return json.dumps(dict(id='c', object='chat.completion', created=0, model='vlm',
                           choices=[dict(index=0, message=dict(role='assistant', content=text),
                                         finish_reason='stop')])).encode()


class VisionServer:
    """Answers chat completions with scripted ``(text, delay_s)`` replies; records every body."""

    def __init__(self, script):
        self.script, self.bodies = list(script), []
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *a):
                pass

            def do_POST(self):  # noqa: N802
                owner.bodies.append(json.loads(self.rfile.read(int(self.headers['Content-Length']))))
                text, delay = owner.script.pop(0) if owner.script else ('Score: 0', 0)
                time.sleep(delay)
                data = _completion(text)
                try:
                    self.send_response(200)
                    self.send_header('Content-Length', str(len(data)))
                    self.end_headers()
                    self.wfile.write(data)
                except OSError:
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


def _motion(T=49):
    from motionkit.synthmotion.program import ClassDistribution, sample_motion
    j = sample_motion(0, 0, ClassDistribution()).motion.joints  # 49 frames (a bow)
    assert j.shape == (49, 22, 3)
    return j[:T]


def _req(sid='m0', prompt='a person bows, then waves.', subtask='temporal', **kw):
    return ScoreRequest(sid, prompt, subtask, _motion(), **kw)


def _scorer(srv, tmp_path, **kw):
    client = OpenAIChatClient(srv.base_url, 'vlm', cache_dir=False, timeout=kw.pop('timeout', 10),
                              max_retries=kw.pop('max_retries', 0), backoff=0.01)
    return VLMScorer(client, cache_dir=tmp_path / 'scores', image_size=kw.pop('image_size', 64), **kw)


def test_request_is_openai_vision_format_and_score_is_cached(tmp_path):
    with VisionServer([('Bow then wave, both there. Score: 7', 0)]) as srv:
        s = _scorer(srv, tmp_path)
        r = s.score(_req())
        assert (r.score, r.scale, r.cached) == (7, (0, 10), False)
        (body,) = srv.bodies
        assert body['model'] == 'vlm'
        system, user = body['messages']
        assert system['role'] == 'system' and 'Score: N' in system['content']
        text, *images = user['content']
        rules = load_scoring_rules()
        assert text['type'] == 'text' and rules['subtasks']['temporal']['rule'] in text['text']
        assert '"a person bows, then waves."' in text['text'] and 'from 0 to 10' in text['text']
        # full image: 49 frames -> frames 0, 8, ..., 48 = 7 frames -> 2 rows of 5 cells of 64 px
        assert len(images) == 1 and images[0]['type'] == 'image_url'
        url = images[0]['image_url']['url']
        assert url.startswith('data:image/png;base64,')
        from PIL import Image
        img = Image.open(io.BytesIO(base64.b64decode(url.split(',', 1)[1])))
        assert img.size == (5 * 64, 2 * 64) and img.format == 'PNG'
        # a new scorer on the same cache folder: no rendering request, same score
        s2 = _scorer(srv, tmp_path)
        r2 = s2.score(_req())
        assert (r2.score, r2.cached) == (7, True) and len(srv.bodies) == 1 and s2.num_cache_hits == 1
        # another prompt is another request
        s2.score(_req(prompt='a person bows.'))
        assert len(srv.bodies) == 2


def test_frames_form_sends_one_image_per_sampled_frame(tmp_path):
    with VisionServer([('Score: 3', 0)]) as srv:
        s = _scorer(srv, tmp_path, injection='frames')
        assert s.score(_req()).score == 3
        parts = srv.bodies[0]['messages'][1]['content']
        assert [p['type'] for p in parts] == ['text'] + ['image_url'] * 7


def test_garbage_and_out_of_range_replies_are_retried_and_counted(tmp_path):
    with VisionServer([('I cannot judge this motion.', 0), ('Score: 15', 0), ('Score: 4', 0)]) as srv:
        s = _scorer(srv, tmp_path, max_attempts=3)
        r = s.score(_req())
        assert r.score == 4 and len(srv.bodies) == 3 and s.num_rejected == 2
        assert r.replies == ['I cannot judge this motion.', 'Score: 15', 'Score: 4']
        assert 'no number' in r.detail['rejected'][0] and 'outside the scale' in r.detail['rejected'][1]
        rec = json.loads(next((tmp_path / 'scores').rglob('*.json')).read_text())
        assert rec['score'] == 4 and len(rec['rejected']) == 2


def test_no_usable_score_raises_and_caches_nothing(tmp_path):
    with VisionServer([('hmm', 0), ('3 or 4', 0), ('Score: 2', 0)]) as srv:
        s = _scorer(srv, tmp_path, max_attempts=2)
        with pytest.raises(ScoreParseError, match='no usable score in 2 replies'):
            s.score(_req())
        assert s.num_failed == 1 and not list((tmp_path / 'scores').rglob('*.json'))
        assert s.score(_req()).score == 2  # asked again, not served from a cache
        assert len(srv.bodies) == 3


def test_timeout_is_retried_by_the_client(tmp_path):
    with VisionServer([('Score: 9', 1.0), ('Score: 8', 0)]) as srv:
        s = _scorer(srv, tmp_path, timeout=0.3, max_retries=1)
        assert s.score(_req()).score == 8 and len(srv.bodies) == 2
        assert s.budget.used == 2  # both HTTP requests count


def test_budget_stops_before_the_next_request(tmp_path):
    with VisionServer([('Score: 5', 0), ('Score: 6', 0)]) as srv:
        s = _scorer(srv, tmp_path, budget=CallBudget(1))
        assert s.score(_req('a')).score == 5
        with pytest.raises(BudgetExhausted, match='1 of 1'):
            s.score(_req('b', prompt='a person waves.'))
        assert len(srv.bodies) == 1
        assert s.score(_req('a')).cached  # cache hits need no budget


@pytest.mark.parametrize('reply,expected', [
    ('Score: 7', 7), ('All three events, in order. Score: 10', 10), ('**Score:** 3', 3), ('6/10', 6),
    ('The score is 4.', 4), ('5', 5), ('Score: 7.0', 7), ('frame 8 shows a jump. Score: 2', 2)])
def test_parse_score(reply, expected):
    assert parse_score(reply, 0, 10) == expected


@pytest.mark.parametrize('reply,needle', [
    ('no idea', 'no number'), ('Score: 11', 'outside'), ('-1', 'outside'), ('Score: 6.5', 'not an integer'),
    ('3 events, 2 done', 'several numbers')])
def test_parse_score_rejects(reply, needle):
    with pytest.raises(ScoreParseError, match=needle):
        parse_score(reply, 0, 10)


def test_bad_requests():
    with pytest.raises(ValueError, match='empty prompt'):
        ScoreRequest('x', '  ', 'integrity')
    with pytest.raises(ValueError, match='subtask'):
        ScoreRequest('x', 'a person walks', 'speed')
    with pytest.raises(ValueError, match='count'):
        ScoreRequest('x', 'a person jumps', 'frequency', count=0)


def test_ordered_match_length_and_oracle_rules_by_hand():
    assert ordered_match_length(['a', 'b', 'c'], ['b', 'a', 'c']) == 2
    assert ordered_match_length(['a', 'b', 'c'], ['a', 'x', 'b', 'c']) == 3
    assert ordered_match_length(['a', 'b', 'c'], []) == 0
    det = lambda *labels: [dict(label=lab, count=1) for lab in labels]  # noqa: E731
    # integrity: 2 of 4 found -> round(10 * 2 / 4) = 5; each detected event counts once
    assert oracle_score('integrity', ['a', 'b', 'c', 'd'], None, det('b', 'x', 'a'))[0] == 5
    assert oracle_score('integrity', ['a', 'a'], None, det('a'))[0] == 5
    # temporal: 2 of 3 in order -> round(6.67) = 7
    assert oracle_score('temporal', ['a', 'b', 'c'], None, det('b', 'a', 'c'))[0] == 7
    assert oracle_score('temporal', ['a', 'b', 'c'], None, det('a', 'b', 'c'))[0] == 10
    # frequency: stated 3; performed 2 -> 10 - 3 = 7; 0 -> 0; 7 -> max(1, 10 - 12) = 1
    f = lambda c: oracle_score('frequency', ['jump'], 3, [dict(label='jump', count=c)] if c else [])[0]  # noqa: E731
    assert (f(3), f(2), f(0), f(7)) == (10, 7, 0, 1)


def test_oracle_on_synthesized_motions():
    from motionkit.synthmotion.body import sample_body
    from motionkit.synthmotion.generator import synthesize
    from motionkit.synthmotion.primitives import PRIMITIVES
    rng = np.random.default_rng(0)
    body = sample_body(rng)
    ev = {n: dict(primitive=n, params=PRIMITIVES[n].sample(rng)) for n in ('jump', 'wave', 'squat')}
    scorer = FEEDBACK_CLIENTS.build(dict(type='SynthMotionOracleScorer',
                                         detector=dict(type='ProgramEventDetector')))
    good = synthesize([ev['jump'], ev['wave'], ev['squat']], body, 1, 2)
    swapped = synthesize([ev['wave'], ev['jump'], ev['squat']], body, 1, 2)
    prompt = dict(prompt='a person jumps, then waves, then squats.', subtask='temporal',
                  events=['jump', 'wave', 'squat'])
    s_good = scorer.score(ScoreRequest('g', joints=good.joints, program=dict(events=good.events), **prompt))
    s_bad = scorer.score(ScoreRequest('b', joints=swapped.joints, program=dict(events=swapped.events), **prompt))
    assert (s_good.score, s_bad.score) == (10, 7)
    assert [d['label'] for d in s_good.detail['detected']] == ['jump', 'wave', 'squat']
    with pytest.raises(ValueError, match="needs request.program"):
        ProgramEventDetector()(ScoreRequest('n', 'a person jumps', 'integrity', events=['jump']))


def test_t2m_similarity_scorer_by_hand():
    assert cosine_to_scale(0.55, 0, 10) == 6 and cosine_to_scale(-0.3, 0, 10) == 0
    assert cosine_to_scale(0.0, 0, 10, (-1, 1)) == 5
    s = T2MSimilarityScorer(lambda texts: np.array([[1.0, 0.0]]), lambda j: np.array([1.0, 1.0]))
    r = s.score(ScoreRequest('x', 'a person walks', 'integrity', np.zeros((3, 22, 3))))
    assert r.score == 7 and r.detail['cosine'] == pytest.approx(2 ** -0.5)
    bad = T2MSimilarityScorer(lambda t: np.ones((1, 3)), lambda j: np.ones(2))
    with pytest.raises(ValueError, match='differ in size'):
        bad.score(ScoreRequest('x', 'a person walks', 'integrity', np.zeros((3, 22, 3))))


def test_bad_rules_file_names_key(tmp_path):
    rules = load_scoring_rules()
    rules['subtasks']['frequency']['scale'] = [5, 5]
    p = tmp_path / 'rules.json'
    p.write_text(json.dumps(rules))
    with pytest.raises(ValueError, match=r'rules.json: subtasks.frequency.scale'):
        load_scoring_rules(p)

"""MotionPrefer construction: events, groups, prompts (template + LLM through a local server with a
budget), subtask filter rules, algorithm-1 pairs (hand-computed) and the CLI on a tiny set."""
import json
import sys
from pathlib import Path

import numpy as np
import pytest

from motionkit.datagen.motion_prefer import (Event, PromptGroup, build_pairs, caption_subtask,
                                             events_from_program, events_from_tokens,
                                             motion_prefer_stats, sample_label_groups, template_prompt,
                                             write_prompts)
from motionkit.feedback import CallBudget, OpenAIChatClient
from tests.test_feedback.test_vlm_scorer import VisionServer

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / 'tools' / 'data'))
import build_motion_prefer as cli  # noqa: E402


def T(s):
    return s.split()


@pytest.mark.parametrize('tokens,events,subtask', [
    ('a/DET person/NOUN jump/VERB three/NUM time/NOUN', [('jump', 3)], 'frequency'),
    ('a/DET man/NOUN do/VERB five/NUM squats/NOUN', [('squat', 5)], 'frequency'),
    ('a/DET person/NOUN walk/VERB forward/ADV turn/VERB left/ADV and/CCONJ then/ADV walk/VERB back/ADV',
     [('walk forward', None), ('turn left', None), ('walk back', None)], 'temporal'),
    ('the/DET person/NOUN raise/VERB their/PRON right/ADJ hand/NOUN and/CCONJ wave/VERB',
     [('raise', None), ('wave', None)], 'integrity'),
    ('a/DET person/NOUN sit/VERB down/ADP', [('sit down', None)], None),
    ('a/DET person/NOUN wave/VERB then/ADV clap/VERB', [('wave', None), ('clap', None)], None),
    ('a/DET person/NOUN lift/VERB the/DET leg/NOUN to/PART step/VERB over/ADP', [('lift', None)], None),
])
def test_events_and_subtask_filter(tokens, events, subtask):
    assert [(e.label, e.count) for e in events_from_tokens(T(tokens))] == events
    assert caption_subtask(T(tokens)) == subtask


def test_events_from_program_drops_filler_and_keeps_repetition_counts():
    prog = dict(events=[dict(primitive='walk', count=6), dict(primitive='jump', count=2),
                        dict(primitive='stand', count=1)])
    assert events_from_program(prog) == [Event('walk'), Event('jump', 2)]
    with pytest.raises(ValueError, match="'events' list"):
        events_from_program(dict())


def test_label_groups_and_templates():
    labels = ['walk', 'jump', 'wave', 'bow', 'squat', 'clap']
    for sub, (lo, hi) in dict(integrity=(2, 5), temporal=(3, 3), frequency=(1, 1)).items():
        gs = sample_label_groups(labels, sub, 8, seed=1)
        assert [g.prompt_id for g in gs] == [f'{sub[:3]}{i:05d}' for i in range(8)]
        assert all(lo <= len(g.events) <= hi and len(set(g.events)) == len(g.events) for g in gs)
        assert gs == sample_label_groups(labels, sub, 8, seed=1)
    g = PromptGroup('t', 'temporal', ['walk', 'jump', 'bow'], conjunctions=['then'])
    assert template_prompt(g) == 'a person walks forward, then jumps, then bows.'
    assert template_prompt(PromptGroup('f', 'frequency', ['jumping_jacks'], 3)) == \
        'a person does jumping jacks three times.'
    assert template_prompt(PromptGroup('i', 'integrity', ['clap', 'squat'], conjunctions=['and'])) == \
        'a person claps and squats.'
    with pytest.raises(ValueError, match='3-3 events'):
        PromptGroup('x', 'temporal', ['walk', 'jump'])
    with pytest.raises(ValueError, match='only frequency'):
        PromptGroup('x', 'integrity', ['walk', 'jump'], count=2)


def test_llm_prompts_with_budget_resume_and_cache(tmp_path):
    groups = sample_label_groups(['walk', 'jump', 'wave', 'bow'], 'integrity', 3, seed=0)
    script = [('"A person walks and jumps."', 0), ('', 0), ('Prompt: a person waves and bows.', 0),
              ('a person bows and walks', 0)]
    with VisionServer(script) as srv:
        client = OpenAIChatClient(srv.base_url, 'llm', cache_dir=tmp_path / 'cache', max_retries=0)
        st = write_prompts(groups, tmp_path / 'p', 'llm', client, budget=CallBudget(2), progress=False)
        # request 1 gives a prompt, request 2 an empty reply (counted failure), then the budget is spent
        assert (st['done'], st['failed'], st['budget_exhausted']) == (1, 1, True)
        assert not (tmp_path / 'p' / 'prompts.jsonl').exists()
        st = write_prompts(groups, tmp_path / 'p', 'llm', client, budget=CallBudget(5), progress=False)
        assert (st['done'], st['failed'], st['budget_exhausted']) == (2, 1, False)
        # the empty reply came back from the client's cache (no new request): still a listed failure
        fail = json.loads((tmp_path / 'p' / 'prompt_failures.jsonl').read_text())
        assert fail['prompt_id'] == groups[1].prompt_id and 'no prompt' in fail['error']
    recs = [json.loads(line) for line in (tmp_path / 'p' / '.partial' / 'prompts').glob('*.json')
            for line in [line.read_text()]]
    texts = sorted(r['prompt'] for r in recs)
    assert texts == ['A person walks and jumps.', 'a person waves and bows.']
    assert len(srv.bodies) == 3


def _rec(i, pid, score, sub='integrity'):
    return dict(id=i, prompt_id=pid, prompt=f'prompt {pid}', subtask=sub, score=score)


def test_build_pairs_algorithm_1_by_hand():
    scores = [_rec('a', 'p', 9), _rec('b', 'p', 5), _rec('c', 'p', 4), _rec('d', 'q', 3, 'temporal'),
              _rec('e', 'r', 6), _rec('f', 'r', 6), _rec('g', 's', 8, 'frequency'), _rec('h', 's', 1, 'frequency')]
    pairs, skips = build_pairs(scores, theta=2)
    assert [(p['winner'], p['loser']) for p in pairs] == [('a', 'b'), ('a', 'c'), ('g', 'h')]
    assert skips == dict(single_motion=1, no_gap=1)
    pairs0, _ = build_pairs(scores, theta=0)
    assert [(p['winner'], p['loser']) for p in pairs0] == [('a', 'b'), ('a', 'c'), ('b', 'c'), ('g', 'h')]
    assert build_pairs(scores, theta=4)[0][0]['winner_score'] - build_pairs(scores, 4)[0][0]['loser_score'] > 4
    t = motion_prefer_stats(scores, pairs)
    assert t['integrity'] == dict(prompts=2, motions=5, pairs=2)
    assert t['temporal'] == dict(prompts=1, motions=1, pairs=0)
    assert t['total'] == dict(prompts=4, motions=8, pairs=3)
    with pytest.raises(ValueError, match='theta'):
        build_pairs(scores, -1)
    with pytest.raises(ValueError, match="no 'score'"):
        build_pairs([dict(id='x', prompt_id='p', prompt='t', subtask='integrity')], 1)


def _generated_set(root: Path):
    """Two temporal prompts x 3 synthesized motions (right order, swapped, one event missing), one
    prompt with a single motion and one sample with an empty prompt."""
    from motionkit.synthmotion.body import sample_body
    from motionkit.synthmotion.generator import synthesize
    from motionkit.synthmotion.primitives import PRIMITIVES
    rng = np.random.default_rng(0)
    body = sample_body(rng)
    samples = []

    def add(sid, pid, prompt, events, program_events):
        m = synthesize([dict(primitive=n, params=PRIMITIVES[n].sample(rng)) for n in program_events], body, 1, 2)
        (root / 'joints').mkdir(parents=True, exist_ok=True)
        np.save(root / 'joints' / f'{sid}.npy', m.joints.astype(np.float32))
        samples.append(dict(id=sid, prompt_id=pid, prompt=prompt, subtask='temporal', events=events,
                            joints=f'joints/{sid}.npy', program=dict(events=m.events)))

    for pid, ev in (('p0', ['jump', 'wave', 'squat']), ('p1', ['bow', 'clap', 'kick'])):
        prompt = template_prompt(PromptGroup(pid, 'temporal', ev, conjunctions=['then']))
        add(f'{pid}_good', pid, prompt, ev, ev)                       # 10
        add(f'{pid}_swap', pid, prompt, ev, [ev[1], ev[0], ev[2]])    # 7
        add(f'{pid}_miss', pid, prompt, ev, [ev[0]])                  # 3
    add('p2_only', 'p2', 'a person bows, then claps, then kicks.', ['bow', 'clap', 'kick'], ['bow'])
    add('p3_empty', 'p3', '', ['bow', 'clap', 'kick'], ['bow'])
    (root / 'index.json').write_text(json.dumps(dict(samples=samples)))


def test_cli_score_and_pairs_on_a_tiny_set(tmp_path, capsys):
    gen = tmp_path / 'gen'
    _generated_set(gen)
    assert cli.main(['score', '--motions', str(gen), '--scorer', 'oracle', '--out', str(tmp_path / 's'),
                     '--quiet']) == 0
    scores = {r['id']: r['score'] for r in map(json.loads, (tmp_path / 's' / 'scores.jsonl').read_text().splitlines())}
    assert scores == dict(p0_good=10, p0_swap=7, p0_miss=3, p1_good=10, p1_swap=7, p1_miss=3, p2_only=3)
    skips = [json.loads(line) for line in (tmp_path / 's' / 'score_skips.jsonl').read_text().splitlines()]
    assert [s['id'] for s in skips] == ['p3_empty'] and 'empty prompt' in skips[0]['error']
    # rerun: resumes (everything is there), same file
    before = (tmp_path / 's' / 'scores.jsonl').read_bytes()
    assert cli.main(['score', '--motions', str(gen), '--scorer', 'oracle', '--out', str(tmp_path / 's'),
                     '--quiet']) == 0
    assert (tmp_path / 's' / 'scores.jsonl').read_bytes() == before
    capsys.readouterr()
    assert cli.main(['pairs', '--scores', str(tmp_path / 's' / 'scores.jsonl'), '--theta', '3',
                     '--out', str(tmp_path / 'pairs')]) == 0
    out = capsys.readouterr().out
    pairs = [json.loads(line) for line in (tmp_path / 'pairs' / 'pairs.jsonl').read_text().splitlines()]
    # gaps 10-7=3 (not > 3), 10-3=7, 7-3=4 -> two pairs per prompt; p2 has one motion
    assert [(p['winner'], p['loser']) for p in pairs] == [
        ('p0_good', 'p0_miss'), ('p0_swap', 'p0_miss'), ('p1_good', 'p1_miss'), ('p1_swap', 'p1_miss')]
    stats = json.loads((tmp_path / 'pairs' / 'pairs_stats.json').read_text())
    assert stats['table3']['temporal'] == dict(prompts=3, motions=7, pairs=4)
    assert stats['skipped_prompts'] == dict(single_motion=1, no_gap=0)
    assert 'temporal' in out and "'single_motion': 1" in out


def test_cli_rejects_a_malformed_index(tmp_path):
    (tmp_path / 'index.json').write_text(json.dumps(dict(samples=[dict(id='a', prompt='x')])))
    with pytest.raises(ValueError, match=r"index.json: samples\[0\] has no 'prompt_id'"):
        cli.main(['score', '--motions', str(tmp_path), '--out', str(tmp_path / 'o'), '--quiet'])


def test_cli_prompts_and_testsets_on_captions(tmp_path, capsys):
    root = tmp_path / 'h'
    (root / 'texts').mkdir(parents=True)
    lines = {
        'M1': 'a person jumps three times.#a/DET person/NOUN jump/VERB three/NUM time/NOUN#0.0#0.0',
        'M2': ('a person walks forward, turns left and then walks back.#a/DET person/NOUN walk/VERB '
               'forward/ADV turn/VERB left/ADV and/CCONJ then/ADV walk/VERB back/ADV#0.0#0.0'),
        'M3': 'a person waves and claps.#a/DET person/NOUN wave/VERB and/CCONJ clap/VERB#0.0#0.0',
        'M4': 'a person sits down.#a/DET person/NOUN sit/VERB down/ADP#0.0#0.0',
    }
    for k, v in lines.items():
        (root / 'texts' / f'{k}.txt').write_text(v + '\n')
    (root / 'test.txt').write_text('M1\nM2\nM3\nM4\n')
    assert cli.main(['testsets', '--data-root', str(root), '--split', 'test.txt', '--out', str(tmp_path / 't')]) == 0
    st = json.loads((tmp_path / 't' / 'testsets_stats.json').read_text())
    assert st['captions'] == dict(integrity=1, temporal=1, frequency=1) and st['caption_lines'] == 4
    assert (tmp_path / 't' / 'temporal_ids.txt').read_text() == 'M2\n'
    assert cli.main(['prompts', '--data-root', str(root), '--split', 'test.txt', '--num', '2',
                     '--out', str(tmp_path / 'p'), '--quiet']) == 0
    prompts = [json.loads(line) for line in (tmp_path / 'p' / 'prompts.jsonl').read_text().splitlines()]
    assert [p['subtask'] for p in prompts] == ['integrity'] * 2 + ['temporal'] * 2 + ['frequency'] * 2
    assert all(p['events'][0] == 'jump' for p in prompts if p['subtask'] == 'frequency')  # the counted label

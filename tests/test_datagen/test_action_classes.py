"""Action classes from captions (CoAMD sec. 3.1 / 4.1): verb extraction, balanced K-means,
head / medium / tail split, the builder (both routes), the training transform and the CLI."""
import itertools
import json
import math
import sys

import numpy as np
import pytest
import torch

from motionkit.datagen.action_classes import (balanced_assignment, balanced_kmeans, build_action_classes,
                                              frequency_split, load_verb_prompt, parse_verb_reply,
                                              synthmotion_adjusted_rand_index, verb_messages, verbs_from_tokens)
from motionkit.datasets.transforms.action_labels import LoadActionLabels, load_action_classes
from motionkit.evaluation.functional import frequency_buckets
from tests.conftest import REPO_ROOT
from tests.test_feedback.test_openai_client import ScriptedServer, _completion

# texts/000000.txt of HumanML3D, as printed in the README of EricGuo5513/HumanML3D (MIT); the
# shared reference sample ships no caption file (texts.zip is not in the snapshot).
HUMANML3D_000000 = [
    'a man kicks something or someone with his left leg.#a/DET man/NOUN kick/VERB something/PRON '
    'or/CCONJ someone/PRON with/ADP his/DET left/ADJ leg/NOUN#0.0#0.0',
    'the standing person kicks with their left foot before going back to their original stance.#the/DET '
    'stand/VERB person/NOUN kick/VERB with/ADP their/DET left/ADJ foot/NOUN before/ADP go/VERB back/ADV '
    'to/ADP their/DET original/ADJ stance/NOUN#0.0#0.0',
    'a man kicks with something or someone with his left leg.#a/DET man/NOUN kick/VERB with/ADP '
    'something/PRON or/CCONJ someone/PRON with/ADP his/DET left/ADJ leg/NOUN#0.0#0.0',
    'he is flying kick with his left leg#he/PRON is/AUX fly/VERB kick/NOUN with/ADP his/DET left/ADJ '
    'leg/NOUN#0.0#0.0',
]
SYNTH_N, SYNTH_SEED, SYNTH_K = 120, 0, 30


@pytest.fixture(scope='module')
def minilm():
    from motionkit.evaluation.functional import MiniLMTextEncoder
    return MiniLMTextEncoder()


@pytest.fixture(scope='module')
def sm_root(tmp_path_factory):
    from motionkit.synthmotion import ensure_synthmotion
    return ensure_synthmotion(SYNTH_N, SYNTH_SEED, cache_dir=tmp_path_factory.mktemp('synthmotion'))


@pytest.fixture(scope='module')
def sm_classes(sm_root, tmp_path_factory, minilm):
    return build_action_classes(sm_root, tmp_path_factory.mktemp('cls') / 'pos', SYNTH_K, seed=0,
                                encoder=minilm, progress=False)


def write_dataset(root, texts, train=None):
    (root / 'texts').mkdir(parents=True)
    for mid, lines in texts.items():
        (root / 'texts' / f'{mid}.txt').write_text('\n'.join(lines) + '\n')
    (root / 'train.txt').write_text(''.join(f'{i}\n' for i in (texts if train is None else train)))
    return root


def files(folder):
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir()) if p.is_file()}


# ---------------------------------------------------------------------------- assignment
def test_balanced_assignment_hand_checked():
    # four points on a line, centres at 0.5 and 9, two per class: unconstrained, 0, 1, 2 all go to
    # 0.5; balanced, the cheapest is {0, 1} -> 0.5 and {2, 10} -> 9: 0.25 + 0.25 + 49 + 1 = 50.5
    # ({1, 10}: 67.5, {0, 10}: 84.5)
    x, c = np.array([0., 1., 2., 10.]), np.array([0.5, 9.])
    cost = (x[:, None] - c[None]) ** 2
    for solver in ('lsa', 'lp'):
        labels = balanced_assignment(cost, solver=solver)
        assert labels.tolist() == [0, 0, 1, 1]
        assert cost[np.arange(4), labels].sum() == 50.5
    # nearest-first greedy in item order gives 0 + 10; the optimum swaps: 1 + 0
    for solver in ('lsa', 'lp'):
        assert balanced_assignment(np.array([[0., 1.], [0., 10.]]), solver=solver).tolist() == [1, 0]
    with pytest.raises(ValueError, match=r'cannot put 5 items into 2 classes of 1 to 2'):
        balanced_assignment(np.zeros((5, 2)), max_size=2, min_size=1)
    with pytest.raises(ValueError, match='NaN'):
        balanced_assignment(np.array([[np.nan, 1.]]))


def test_balanced_assignment_is_optimal_and_respects_capacity():
    rng = np.random.default_rng(0)
    # brute force over every assignment of 7 items to 3 classes (3^7 = 2187)
    cost = rng.random((7, 3))
    best = min((sum(cost[i, a[i]] for i in range(7)), a) for a in itertools.product(range(3), repeat=7)
               if set(np.bincount(a, minlength=3)) <= {2, 3})
    for solver in ('lsa', 'lp'):
        labels = balanced_assignment(cost, solver=solver)
        assert cost[np.arange(7), labels].sum() == pytest.approx(best[0], abs=1e-12)
    # random sizes: both exact solvers (the LP starting from one centre per item, so that the
    # pricing loop must add arcs) give the same optimum, within the size bounds
    for _ in range(12):
        n = int(rng.integers(5, 60))
        k = int(rng.integers(2, min(n, 8) + 1))
        cost = rng.random((n, k)) * 3
        for min_size, max_size in ((None, None), (1, None), (0, n)):
            a = balanced_assignment(cost, max_size, min_size, solver='lsa')
            b = balanced_assignment(cost, max_size, min_size, solver='lp', candidates=1)
            sizes = np.bincount(a, minlength=k)
            lo = n // k if min_size is None else min_size
            hi = math.ceil(n / k) if max_size is None else max_size
            assert lo <= sizes.min() and sizes.max() <= hi
            assert cost[np.arange(n), a].sum() == pytest.approx(cost[np.arange(n), b].sum(), abs=1e-9)


def test_balanced_kmeans_is_balanced_and_deterministic():
    rng = np.random.default_rng(1)
    # three blobs of 10, 4 and 4 points: KMeans finds them, the balanced version has 6 per class
    x = np.concatenate([rng.normal(m, 0.05, (n, 2)) for m, n in ((0, 10), (3, 4), (6, 4))])
    labels, centres = balanced_kmeans(x, 3, seed=0)
    assert sorted(np.bincount(labels).tolist()) == [6, 6, 6] and centres.shape == (3, 2)
    again, _ = balanced_kmeans(x, 3, seed=0)
    assert np.array_equal(labels, again)
    # KMeans puts the centres on the blobs (0, 3, 6). The balanced optimum moves 4 points of blob 0
    # to centre 3 (+9 each) and 2 points of blob 3 on to centre 6 (+9 each): +54, against +90 for
    # sending 2 + 2 points of blob 0 to centres 3 and 6 (+9, +36)
    blob = np.repeat([0, 1, 2], [10, 4, 4])
    composition = sorted(tuple(np.bincount(blob[labels == c], minlength=3).tolist()) for c in range(3))
    assert composition == [(0, 2, 4), (4, 2, 0), (6, 0, 0)]
    with pytest.raises(ValueError, match=r'num_classes must be in \[1, 18\]'):
        balanced_kmeans(x, 19)


def test_frequency_split_hand_counts():
    counts = [5, 50, 1, 7, 30, 2, 9, 0, 3, 12]
    # descending: 50 (1), 30 (4), 12 (9), 9 (6), 7 (3), 5 (0), 3 (8), 2 (5), 1 (2), 0 (7)
    # head round(10 * 0.1) = 1, medium round(10 * 0.3) = 3, tail the other 6
    assert frequency_split(counts) == dict(head=[1], medium=[4, 6, 9], tail=[0, 2, 3, 5, 7, 8])
    # ties: lower id first, as RecognitionMetric's 'longtail' preset buckets them
    assert frequency_split([4] * 20) == dict(head=[0, 1], medium=list(range(2, 8)), tail=list(range(8, 20)))
    buckets = frequency_buckets(np.array(counts), (0.1, 0.3, 0.6))
    for b, name in enumerate(('head', 'medium', 'tail')):
        assert frequency_split(counts)[name] == np.flatnonzero(buckets == b).tolist()


# ---------------------------------------------------------------------------- verbs
def test_verbs_from_real_humanml3d_tokens():
    from motionkit.datasets.humanml3d import parse_caption_line
    got = [verbs_from_tokens(parse_caption_line(line)['tokens']) for line in HUMANML3D_000000]
    # is/AUX is no verb; 'flying kick' is tagged fly/VERB kick/NOUN, so the POS route says 'fly'
    assert got == [['kick'], ['stand', 'kick', 'go back'], ['kick'], ['fly']]
    # light verbs take their object, particles stay, non-movement verbs go, old PRT tags work
    assert verbs_from_tokens('a/DET woman/NOUN do/VERB three/NUM squat/NOUN'.split()) == ['squat']
    assert verbs_from_tokens('someone/PRON take/VERB a/DET stroll/NOUN'.split()) == ['stroll']
    assert verbs_from_tokens('he/PRON do/VERB it/PRON again/ADV'.split()) == []
    assert verbs_from_tokens('a/DET person/NOUN start/VERB to/PART walk/VERB and/CCONJ sit/VERB '
                             'down/ADP'.split()) == ['walk', 'sit down']
    assert verbs_from_tokens('walks/VERB to/PRT rest/VERB'.split()) == ['walk', 'rest']
    assert verbs_from_tokens('walk/VERB /PUNCT //SYM run/VERB'.split()) == ['walk', 'run']
    with pytest.raises(ValueError, match="word/POS, got 'walk'"):
        verbs_from_tokens(['walk'])


def test_parse_verb_reply_and_prompt():
    assert parse_verb_reply('walk, turn around') == ['walk', 'turn around']
    assert parse_verb_reply('Verbs: jumps; picks up.') == ['jump', 'pick up']
    assert parse_verb_reply('1. walks\n2. Sit down\n- walks') == ['walk', 'sit down']
    assert parse_verb_reply('none') == [] and parse_verb_reply('None.') == []
    assert parse_verb_reply('The person is walking in a circle') == []  # talk, not a list
    assert parse_verb_reply('starts, jumping jacks') == ['jumping jacks']
    prompt = load_verb_prompt()
    msg = verb_messages(' a man walks. ', prompt)
    assert msg[0]['role'] == 'user' and msg[0]['content'].endswith('Description: a man walks.\n')
    with pytest.raises(TypeError, match='str'):
        parse_verb_reply(None)


# ---------------------------------------------------------------------------- builder, POS route
def test_pos_route_on_real_humanml3d_captions(tmp_path, shared_data, minilm):
    # the real caption lines of motion 000000 (test split) and two lines written for the real
    # reference motion 012314 (train split; its own text is not available); class frequencies
    # counted on the published train.txt
    root = write_dataset(tmp_path / 'hml', {'000000': HUMANML3D_000000, '012314': [
        'a person serves a tennis ball.#a/DET person/NOUN serve/VERB a/DET tennis/NOUN ball/NOUN#0.0#0.0',
        'a person swings the right arm.#a/DET person/NOUN swing/VERB the/DET right/ADJ arm/NOUN#1.5#6.0']})
    train = shared_data / 'humanml3d_reference' / 'train.txt'
    out = build_action_classes(root, tmp_path / 'out', 3, seed=0, encoder=minilm, train_split=str(train),
                               progress=False)
    label_map = json.loads((out / 'label_map.json').read_text())
    verbs = sorted(v for c in label_map['classes'] for v in c['verbs'])
    assert verbs == ['fly', 'go back', 'kick', 'serve', 'stand', 'swing']
    assert [len(c['verbs']) for c in label_map['classes']] == [2, 2, 2]  # 6 verbs, K = 3
    class_of = {v: c['id'] for c in label_map['classes'] for v in c['verbs']}
    recs = {r['id']: r for r in map(json.loads, (out / 'motion_labels.jsonl').read_text().splitlines())}
    assert recs['000000']['labels'] == sorted({class_of[v] for v in ('kick', 'stand', 'go back', 'fly')})
    assert recs['000000']['captions'][1] == dict(line=2, verbs=['stand', 'kick', 'go back'], labels=sorted(
        {class_of['stand'], class_of['kick'], class_of['go back']}))
    # only 012314 is a training motion: its classes count once each, the others zero
    counts = np.load(out / 'class_counts.npy')
    expected = np.zeros(3, np.int64)
    expected[sorted({class_of['serve'], class_of['swing']})] = 1
    assert counts.tolist() == expected.tolist() and counts.tolist() == sorted(counts.tolist(), reverse=True)
    assert [c['train_count'] for c in label_map['classes']] == counts.tolist()
    # the split of RecognitionMetric's 'longtail' preset on these counts
    split = json.loads((out / 'split.json').read_text())
    assert {k: split[k] for k in ('head', 'medium', 'tail')} == frequency_split(counts)
    assert (out / 'label_map.txt').read_text().splitlines() == [c['name'] for c in label_map['classes']]
    manifest = json.loads((out / 'manifest.json').read_text())
    assert manifest['counts']['train_motions'] == 1 and manifest['counts']['captions_without_verb'] == 0


def relabelled(classes_dir, folder, label_of):
    """A copy of ``classes_dir`` for the ARI function with the verbs' classes replaced."""
    folder.mkdir()
    for name in ('manifest.json', 'motion_labels.jsonl'):
        (folder / name).write_bytes((classes_dir / name).read_bytes())
    verbs = [json.loads(x) for x in (classes_dir / 'verbs.jsonl').read_text().splitlines()]
    (folder / 'verbs.jsonl').write_text(''.join(
        json.dumps(dict(v, label=int(label_of[i]))) + '\n' for i, v in enumerate(verbs)))
    return folder, np.array([v['label'] for v in verbs])


def test_synthmotion_ari_against_its_own_labels(sm_root, sm_classes, tmp_path):
    # K = the number of SynthMotion's own action classes
    assert len(json.loads((sm_root / 'synthmotion' / 'classes.json').read_text())['classes']) == SYNTH_K
    r = synthmotion_adjusted_rand_index(sm_classes)
    # measured (120 motions, SynthMotion seed 0, KMeans seed 0; 39 verbs and 206 verb occurrences
    # in the captions of 60 single-action motions): ari 0.4608, occurrence_ari 0.5487
    assert r['num_motions'] == 60 and r['num_verbs'] == 39 and r['num_occurrences'] == 206
    assert r['ari'] >= 0.42 and r['occurrence_ari'] >= 0.5
    # the same class sizes with the verbs shuffled between classes: no agreement left
    verbs = (sm_classes / 'verbs.jsonl').read_text().splitlines()
    labels = np.array([json.loads(v)['label'] for v in verbs])
    shuffled, _ = relabelled(sm_classes, tmp_path / 'shuffled',
                             labels[np.random.default_rng(0).permutation(len(labels))])
    assert synthmotion_adjusted_rand_index(shuffled)['ari'] < 0.1
    # one class per verb (no clustering): the occurrence index is lower than with the classes
    single, _ = relabelled(sm_classes, tmp_path / 'single', np.arange(len(labels)))
    assert synthmotion_adjusted_rand_index(single)['occurrence_ari'] < r['occurrence_ari'] - 0.1
    label_map = json.loads((sm_classes / 'label_map.json').read_text())
    assert len(label_map['classes']) == SYNTH_K
    assert {len(c['verbs']) for c in label_map['classes']} <= {1, 2}  # 53 verbs: 1 or 2 per class


def test_deterministic_and_other_config_refused(sm_root, sm_classes, tmp_path, minilm):
    again = build_action_classes(sm_root, tmp_path / 'again', SYNTH_K, seed=0, encoder=minilm, progress=False)
    assert files(again) == files(sm_classes)
    with pytest.raises(FileExistsError, match=str(sm_classes)):
        build_action_classes(sm_root, sm_classes, SYNTH_K, seed=1, encoder=minilm, progress=False)
    before = (sm_classes / 'manifest.json').stat().st_mtime_ns
    build_action_classes(sm_root, sm_classes, SYNTH_K, seed=0, encoder=minilm, progress=False)
    assert (sm_classes / 'manifest.json').stat().st_mtime_ns == before


def test_transform_attaches_labels_to_humanml3d_samples(sm_root, sm_classes):
    from motionkit.datasets import HumanML3DDataset
    from motionkit.datasets.transforms import LoadMotion, PackMotionInputs, SampleCaption
    ds = HumanML3DDataset(str(sm_root), ann_file='train.txt', pipeline=[
        dict(type=LoadMotion), dict(type=LoadActionLabels, labels_dir=str(sm_classes)),
        dict(type=SampleCaption, test_mode=True), dict(type=PackMotionInputs)])
    lines = (sm_classes / 'motion_labels.jsonl').read_text().splitlines()
    recs = {r['id']: r['labels'] for r in map(json.loads, lines)}
    counts = np.load(sm_classes / 'class_counts.npy')
    for i in (0, 5, len(ds) - 1):
        sample = ds[i]['data_samples']
        assert sample.gt_labels.tolist() == recs[sample.motion_id] and sample.gt_labels.dtype == torch.long
        assert sample.num_classes == SYNTH_K and np.array_equal(sample.class_counts, counts)
    # training frequency = training motions carrying the class
    train = set((sm_root / 'train.txt').read_text().split())
    assert counts.tolist() == [sum(c in recs[m] for m in train) for c in range(SYNTH_K)]
    t = LoadActionLabels(str(sm_classes))
    assert t.num_classes == SYNTH_K and t.names == (sm_classes / 'label_map.txt').read_text().splitlines()
    with pytest.raises(KeyError, match="motion 'X1' is not in"):
        t(dict(motion_id='X1'))
    assert LoadActionLabels(str(sm_classes), missing='empty')(dict(motion_id='X1'))['gt_labels'].size == 0


# ---------------------------------------------------------------------------- builder, LLM route
CAPTIONS = {
    'A1': ['a man walks and turns around.#a/DET man/NOUN walk/VERB and/CCONJ turn/VERB around/ADV#0.0#0.0',
           'someone strolls.#someone/PRON stroll/VERB#0.0#0.0'],
    'A2': ['a person jumps.#a/DET person/NOUN jump/VERB#0.0#0.0',
           'a graceful pose.#a/DET graceful/ADJ pose/NOUN#0.0#0.0'],
    'A3': ['a person picks up a box and sits down.#a/DET person/NOUN pick/VERB up/ADP a/DET box/NOUN '
           'and/CCONJ sit/VERB down/ADP#0.0#0.0'],
}
REPLIES = ['walk, turn around', 'Verbs: strolls', 'jumps', 'none', '1. pick up\n2. sit down']


def test_llm_route_through_local_server(tmp_path, minilm):
    root = write_dataset(tmp_path / 'data', CAPTIONS, train=['A1', 'A2'])
    with ScriptedServer([(200, _completion(r), 0) for r in REPLIES]) as server:
        client = dict(type='OpenAIChatClient', base_url=server.base_url, model='m',
                      cache_dir=str(tmp_path / 'llm_cache'), max_retries=0)
        with pytest.warns(UserWarning, match='skipped 1 of 5 captions without an action verb'):
            out = build_action_classes(root, tmp_path / 'out', 3, route='llm', client=client, seed=0,
                                       encoder=minilm, progress=False)
        assert len(server.requests) == 5
        prompt = load_verb_prompt()
        captions = [line.split('#')[0] for mid in sorted(CAPTIONS) for line in CAPTIONS[mid]]
        assert [r['body']['messages'] for r in server.requests] == [verb_messages(c, prompt) for c in captions]
        assert all(r['path'] == '/v1/chat/completions' for r in server.requests)
        # a finished folder is not rebuilt (no request)
        build_action_classes(root, tmp_path / 'out', 3, route='llm', client=client, seed=0, encoder=minilm,
                             progress=False)
        assert len(server.requests) == 5
    verbs = [json.loads(x)['verb'] for x in (out / 'verbs.jsonl').read_text().splitlines()]
    assert verbs == ['jump', 'pick up', 'sit down', 'stroll', 'turn around', 'walk']
    skipped = [json.loads(x) for x in (out / 'captions_without_verb.jsonl').read_text().splitlines()]
    assert skipped == [dict(id='A2', file=str(root / 'texts' / 'A2.txt'), line=2, caption='a graceful pose.',
                            reply='none')]
    manifest = json.loads((out / 'manifest.json').read_text())
    assert manifest['config']['prompt']['sha256'] and manifest['counts']['captions_without_verb'] == 1


def test_llm_route_resumes_after_interruption(tmp_path, minilm):
    root = write_dataset(tmp_path / 'data', CAPTIONS, train=['A1', 'A2'])
    ok = [(200, _completion(r), 0) for r in REPLIES]
    # the server fails on the third request (motion A2): the build stops after motion A1
    with ScriptedServer(ok[:2] + [(503, b'overloaded', 0)] + ok[2:]) as server:
        client = dict(type='OpenAIChatClient', base_url=server.base_url, model='m', cache_dir=False,
                      max_retries=0)
        kw = dict(route='llm', client=client, seed=0, encoder=minilm, progress=False, chunk_size=1)
        from motionkit.feedback import FeedbackError
        with pytest.raises(FeedbackError, match='503'):
            build_action_classes(root, tmp_path / 'out', 3, **kw)
        assert not (tmp_path / 'out' / 'manifest.json').exists()
        assert sorted(p.name for p in (tmp_path / 'out' / '.partial' / 'verbs').iterdir()) == ['000000.json']
        with pytest.warns(UserWarning, match='skipped 1'):
            build_action_classes(root, tmp_path / 'out', 3, **kw)
        assert len(server.requests) == 3 + 3  # A1's two captions were not asked again (no cache)
    assert not (tmp_path / 'out' / '.partial').exists()
    with ScriptedServer(ok) as server:
        client = dict(type='OpenAIChatClient', base_url=server.base_url, model='m', cache_dir=False)
        with pytest.warns(UserWarning):
            build_action_classes(root, tmp_path / 'whole', 3, **dict(kw, client=client))
    a, b = files(tmp_path / 'out'), files(tmp_path / 'whole')
    assert a.keys() == b.keys() and all(a[n] == b[n] for n in a if n != 'manifest.json')


# ---------------------------------------------------------------------------- bad input
def test_bad_inputs(tmp_path, minilm):
    kw = dict(encoder=minilm, progress=False)
    # a caption without verb: skipped and listed by default; an error naming file, line and motion
    root = write_dataset(tmp_path / 'noverb', CAPTIONS)
    with pytest.raises(ValueError, match=r"A2.txt, line 2 \(motion 'A2'\): caption 'a graceful pose\.' has no "
                                         r'action verb \(1 such captions'):
        build_action_classes(root, tmp_path / 'o1', 3, on_missing_verb='error', **kw)
    assert not (tmp_path / 'o1').exists()  # nothing half-written, no .partial
    # K larger than the number of distinct verbs (6 here)
    with pytest.raises(ValueError, match=r'K=7 classes is more than the 6 distinct action verbs'):
        build_action_classes(root, tmp_path / 'o2', 7, **kw)
    assert not (tmp_path / 'o2').exists()
    # malformed caption lines: the file and the line
    bad = write_dataset(tmp_path / 'bad', {'B1': ['a man walks.#a/DET man/NOUN walk/VERB#0.0#0.0',
                                                  'a man runs#a/DET man/NOUN run/VERB#0.0']})
    with pytest.raises(ValueError, match=r'B1.txt, line 2: expected 4 "#"-separated fields'):
        build_action_classes(bad, tmp_path / 'o3', 1, **kw)
    (bad / 'texts' / 'B1.txt').write_text('a man walks.#a/DET man walk/VERB#0.0#0.0\n')
    with pytest.raises(ValueError, match=r"B1.txt, line 1: tokens must be word/POS, got \['man'\]"):
        build_action_classes(bad, tmp_path / 'o3', 1, **kw)
    assert not (tmp_path / 'o3').exists()
    with pytest.raises(FileNotFoundError, match='no texts/ folder'):
        build_action_classes(tmp_path, tmp_path / 'o4', 1, **kw)
    (bad / 'train.txt').unlink()
    (bad / 'texts' / 'B1.txt').write_text('a man walks.#a/DET man/NOUN walk/VERB#0.0#0.0\n')
    with pytest.raises(FileNotFoundError, match=r'train split file not found: .*bad/train.txt'):
        build_action_classes(bad, tmp_path / 'o5', 1, **kw)
    with pytest.raises(ValueError, match="route='llm' needs client"):
        build_action_classes(bad, tmp_path / 'o6', 1, route='llm', **kw)

    # a class with zero members, a label outside [0, K), an unfinished folder: named on load
    with pytest.warns(UserWarning, match='skipped 1 of 5 captions'):
        out = build_action_classes(root, tmp_path / 'ok', 3, **kw)
    label_map = json.loads((out / 'label_map.json').read_text())
    label_map['classes'][1]['verbs'] = []
    (out / 'label_map.json').write_text(json.dumps(label_map))
    with pytest.raises(ValueError, match=r'label_map.json: class 1 \(.*\) has zero member verbs'):
        LoadActionLabels(str(out))
    label_map['classes'][1]['verbs'] = ['walk']
    (out / 'label_map.json').write_text(json.dumps(label_map))
    lines = (out / 'motion_labels.jsonl').read_text().splitlines()
    (out / 'motion_labels.jsonl').write_text('\n'.join(lines[:1] + ['{"id": "A2", "labels": [3]}']) + '\n')
    with pytest.raises(ValueError, match=r'motion_labels.jsonl, line 2: labels of motion .A2. must be class '
                                         r'ids in \[0, 3\), got \[3\]'):
        load_action_classes(out)
    (out / 'manifest.json').unlink()
    with pytest.raises(FileNotFoundError, match='not a finished action-class build'):
        load_action_classes(out)


# ---------------------------------------------------------------------------- CLI
def test_cli(sm_root, sm_classes, tmp_path, capsys):
    sys.path.insert(0, str(REPO_ROOT / 'tools' / 'data'))
    try:
        import build_action_classes as cli
    finally:
        sys.path.pop(0)
    assert 'K=400' in cli.__doc__
    cli.main([str(sm_root), '--k', str(SYNTH_K), '--route', 'pos', '--seed', '0', '--out',
              str(tmp_path / 'cli'), '--ari', '--quiet'])
    text = capsys.readouterr().out
    assert f'{SYNTH_K} action classes over 53 verbs (1-2 verbs per class)' in text
    assert "adjusted Rand index against SynthMotion's labels: 0.4608 over 39 verbs" in text
    # the default encoder is the same MiniLM: the same classes as the fixture's build
    for name in ('label_map.json', 'motion_labels.jsonl', 'class_counts.npy', 'split.json'):
        assert (tmp_path / 'cli' / name).read_bytes() == (sm_classes / name).read_bytes()

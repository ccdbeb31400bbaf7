"""PreferenceRewardMetric and its functions: mean reward per subtask and win rate (ties half) by
hand, under SynthMotion's oracle scorer with known programs; baseline files, features decoded by a
representation (normalised or not), skipped samples and bad input."""
import json
import warnings

import numpy as np
import pytest

from motionkit.evaluation.functional import mean_reward, pairwise_win, win_rate
from motionkit.evaluation.metrics import PreferenceRewardMetric


def test_pairwise_win_and_win_rate_by_hand():
    assert pairwise_win([7, 5], [5]) == 0.75
    assert pairwise_win([3], [3]) == 0.5
    assert pairwise_win([1, 9], [2, 9]) == (0 + 0 + 1 + 0.5) / 4
    rate, per = win_rate({'a': [7], 'b': [2], 'c': [4]}, {'a': [5], 'b': [2], 'd': [0]})
    assert per == {'a': 1.0, 'b': 0.5} and rate == 0.75
    assert np.isnan(win_rate({'a': [1]}, {'b': [1]})[0])
    assert mean_reward([1, 2, 6]) == 3.0 and np.isnan(mean_reward([]))
    with pytest.raises(ValueError, match='at least one'):
        pairwise_win([], [1])
    with pytest.raises(ValueError, match='finite'):
        pairwise_win([np.nan], [1])


def _prog(*events):
    return dict(events=[dict(primitive=p, count=c) for p, c in events])


def _samples():
    j = np.zeros((20, 22, 3), np.float32)
    return [
        # integrity, 1 of 2 events performed: round(10 / 2) = 5
        dict(sample_id='a', prompt_id='p1', prompt='jump and clap', subtask='integrity', pred_joints=j,
             events=['jump', 'clap'], program=_prog(('jump', 1))),
        # integrity, both: 10
        dict(sample_id='b', prompt_id='p1', prompt='jump and clap', subtask='integrity', pred_joints=j,
             events=['jump', 'clap'], program=_prog(('clap', 1), ('jump', 1))),
        # temporal, clap jump wave for jump clap wave: 2 in order -> round(20 / 3) = 7
        dict(sample_id='c', prompt_id='p2', prompt='jump then clap then wave', subtask='temporal',
             pred_joints=j, events=['jump', 'clap', 'wave'],
             program=_prog(('clap', 1), ('jump', 1), ('wave', 2))),
        # frequency, clap 2 times for 3: 10 - 3 = 7
        dict(sample_id='d', prompt_id='p3', prompt='clap three times', subtask='frequency',
             pred_joints=j, events=['clap'], count=3, program=_prog(('clap', 2))),
    ]


def _metric(**kw):
    return PreferenceRewardMetric(scorer=dict(type='SynthMotionOracleScorer'), **kw)


def test_mean_reward_per_subtask_by_hand(tmp_path):
    out = tmp_path / 'run' / 'scores.jsonl'
    m = _metric(out_file=str(out))
    m.process({}, _samples())
    res = m.compute_metrics(m.results)
    assert res['mean'] == pytest.approx((5 + 10 + 7 + 7) / 4)
    assert res['integrity/mean'] == 7.5 and res['integrity/num'] == 2
    assert res['temporal/mean'] == 7 and res['frequency/mean'] == 7 and res['skipped'] == 0
    rows = [json.loads(x) for x in out.read_text().splitlines()]
    assert [(r['id'], r['prompt_id'], r['score'], r['scorer']) for r in rows] == [
        ('a', 'p1', 5.0, 'SynthMotionOracleScorer'), ('b', 'p1', 10.0, 'SynthMotionOracleScorer'),
        ('c', 'p2', 7.0, 'SynthMotionOracleScorer'), ('d', 'p3', 7.0, 'SynthMotionOracleScorer')]
    # the run's own scores as the baseline: every prompt a tie on average -> 0.5
    m2 = _metric(baseline_scores=str(out))
    m2.process({}, _samples())
    assert m2.compute_metrics(m2.results)['win_rate'] == 0.5


def test_win_rate_against_a_baseline_by_hand(tmp_path):
    base = tmp_path / 'base.jsonl'
    rows = [dict(prompt_id='p1', subtask='integrity', score=5, scorer='SynthMotionOracleScorer'),
            dict(prompt_id='p2', subtask='temporal', score=9),
            dict(prompt_id='p3', subtask='frequency', score=7),
            dict(prompt_id='p4', subtask='frequency', score=1)]
    base.write_text(''.join(json.dumps(r) + '\n' for r in rows))
    m = _metric(baseline_scores=str(base))
    m.process({}, _samples())
    res = m.compute_metrics(m.results)
    # p1: model 5 and 10 vs 5 -> (0.5 + 1) / 2 = 0.75; p2: 7 vs 9 -> 0; p3: 7 vs 7 -> 0.5
    assert res['integrity/win_rate'] == 0.75 and res['temporal/win_rate'] == 0.0
    assert res['frequency/win_rate'] == 0.5 and res['frequency/prompts'] == 1
    assert res['win_rate'] == pytest.approx((0.75 + 0 + 0.5) / 3)
    assert res['unmatched_prompts'] == 1  # p4


def test_prompts_matched_by_text_without_ids(tmp_path):
    base = tmp_path / 'base.jsonl'
    base.write_text(json.dumps(dict(prompt='clap three times', subtask='frequency', score=4)) + '\n')
    m = _metric(baseline_scores=str(base))
    s = _samples()[3]
    s.pop('prompt_id')
    m.process({}, [s])
    assert m.compute_metrics(m.results)['win_rate'] == 1.0  # 7 > 4


def test_features_decoded_by_the_representation(tmp_path):
    from motionkit.registry import REPRESENTATIONS
    rep = REPRESENTATIONS.build(dict(type='HumanML3DFeatures'))
    rng = np.random.default_rng(0)
    joints = np.cumsum(rng.normal(scale=0.01, size=(30, 22, 3)), 0).astype(np.float32)
    feats = np.asarray(rep.encode(joints), np.float32)
    seen = []

    class Recorder:
        def score(self, req):
            from motionkit.feedback import ScoreResult
            seen.append(req.joints)
            return ScoreResult(req.sample_id, req.subtask, 3, (0, 10), 'Recorder')

    mean, std = feats.mean(0), feats.std(0) + 0.5
    np.save(tmp_path / 'm.npy', mean)
    np.save(tmp_path / 's.npy', std)
    m = PreferenceRewardMetric(scorer=Recorder(), representation='HumanML3DFeatures')
    raw = dict(sample_id='x', prompt='walk', subtask='integrity', pred_motion=feats)
    normed = dict(raw, sample_id='y', pred_motion=(feats - mean) / std, pred_motion_normalized=True,
                  mean_path=str(tmp_path / 'm.npy'), std_path=str(tmp_path / 's.npy'))
    m.process({}, [raw, normed])
    expected = np.asarray(rep.decode(feats))
    np.testing.assert_allclose(seen[0], expected, atol=1e-5)
    np.testing.assert_allclose(seen[1], expected, atol=1e-4)
    assert m.compute_metrics(m.results)['mean'] == 3.0
    # features and no representation: a counted skip naming the fix
    m2 = PreferenceRewardMetric(scorer=Recorder())
    m2.process({}, [raw])
    with pytest.warns(UserWarning, match='representation'):
        assert m2.compute_metrics(m2.results)['skipped'] == 1


def test_skips_and_bad_input(tmp_path):
    m = _metric()
    bad = _samples()[0]
    bad['pred_joints'] = np.full((20, 22, 3), np.nan, np.float32)
    no_events = dict(_samples()[1], events=[])
    m.process({}, [bad, no_events, _samples()[2]])
    with pytest.warns(UserWarning, match='2 of 3 samples not scored, e.g. a: .*NaN'):
        res = m.compute_metrics(m.results)
    assert res['skipped'] == 2 and res['mean'] == 7.0 and 'integrity/mean' not in res
    with pytest.raises(KeyError, match="'prompt', 'gt_text'"):
        m.process({}, [dict(sample_id='z', subtask='integrity', pred_joints=np.zeros((5, 22, 3)))])
    # baseline files are checked when the metric is built
    base = tmp_path / 'b.jsonl'
    base.write_text(json.dumps(dict(prompt_id='p1', subtask='integrity', score=5, scorer='VLMScorer')) + '\n')
    with pytest.raises(ValueError, match='one scorer'):
        _metric(baseline_scores=str(base))
    base.write_text('{"prompt_id": "p1", "subtask": "integrity"}\n')
    with pytest.raises(ValueError, match=r'b\.jsonl, line 1: needs score'):
        _metric(baseline_scores=str(base))
    with pytest.raises(FileNotFoundError):
        _metric(baseline_scores=str(tmp_path / 'none.jsonl'))
    # no shared prompt: an error, not a win rate of nan
    base.write_text(json.dumps(dict(prompt_id='q9', subtask='integrity', score=5)) + '\n')
    m3 = _metric(baseline_scores=str(base))
    m3.process({}, _samples()[:1])
    with pytest.raises(ValueError, match='no prompt of this run'):
        m3.compute_metrics(m3.results)
    with pytest.raises(TypeError, match='score'):
        PreferenceRewardMetric(scorer=object())

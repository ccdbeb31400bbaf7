"""tools/analysis_tools/eval_event_detector.py: per-motion measures and their summary by hand, and
the whole script on a tiny build with a stub classifier config."""
import importlib.util

import pytest

from tests.conftest import REPO_ROOT


def _tool():
    spec = importlib.util.spec_from_file_location(
        'eval_event_detector', REPO_ROOT / 'tools' / 'analysis_tools' / 'eval_event_detector.py')
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def ev(label, count=1):
    return dict(label=label, count=count)


def test_motion_scores_by_hand():
    tool = _tool()
    truth = [ev('jump', 2), ev('walk', 8), ev('clap', 3)]
    # exact sequence, clap count off by one, walk's count is not compared (not countable)
    r = tool.motion_scores(truth, [ev('jump', 2), ev('walk', 5), ev('clap', 4)], ['jump', 'clap'])
    assert r['exact'] == 1.0 and r['exact_counts'] == 0.0 and r['order'] == 1.0
    assert r['counts'] == [(3, 4), (2, 2)]  # (true, detected) per countable label, sorted
    # swapped order and an extra event: LCS 2 of max(3, 4)
    r = tool.motion_scores(truth, [ev('walk'), ev('jump', 2), ev('clap', 3), ev('wave')],
                           ['jump', 'clap'])
    assert r['exact'] == 0.0 and r['order'] == 0.5 and r['recall'] == 1.0 and r['precision'] == 0.75
    # two detected 'jump' events add up, as the frequency oracle counts them
    r = tool.motion_scores([ev('jump', 3)], [ev('jump', 1), ev('jump', 2)], ['jump'])
    assert r['counts'] == [(3, 3)] and r['exact'] == 0.0
    assert tool.motion_scores([], [], [])['order'] == 1.0
    s = tool.summarize([dict(exact=1.0, exact_counts=0.0, order=1.0, recall=1.0, precision=1.0,
                             counts=[(3, 4), (2, 2)]),
                        dict(exact=0.0, exact_counts=0.0, order=0.5, recall=1.0, precision=0.75,
                             counts=[(5, 2)])])
    assert s['exact'] == 0.5 and s['order'] == 0.75 and s['count_pairs'] == 3
    assert s['count_acc'] == pytest.approx(1 / 3) and s['count_pm1'] == pytest.approx(2 / 3)
    assert s['count_mae'] == pytest.approx((1 + 0 + 3) / 3)


def test_reward_pairs_by_hand():
    tool = _tool()
    truth = [ev('jump', 2), ev('walk', 8), ev('clap', 3)]
    found = [ev('walk', 8), ev('clap', 4)]
    # own prompt: integrity 2 of 3 -> 7 vs 10; temporal walk, clap in order -> 7 vs 10;
    # frequency on the first countable event (jump, 2): never performed -> 0 vs 10
    assert tool.reward_pairs(truth, found, truth, ['jump', 'clap']) == {
        'integrity': (7, 10), 'temporal': (7, 10), 'frequency': (0, 10)}
    # a prompt of clap 3 times: 4 performed -> 10 - 3 = 7
    assert tool.reward_pairs(truth, found, [ev('clap', 3)], ['clap'])['frequency'] == (7, 10)
    assert tool.reward_pairs(truth, found, [], ['clap']) == {}


def test_script_on_a_tiny_build(tmp_path, capsys):
    """A config whose classifier is an (untrained) tiny segment classifier: the table has one row
    per group and the counts of the true-span rule on the same motions."""
    from motionkit.synthmotion import build_synthmotion
    root = build_synthmotion(tmp_path / 'sm', 6, seed=5, progress=False, num_triplets=0,
                             num_feedback=0)
    cfg = tmp_path / 'cls.py'
    cfg.write_text("model = dict(type='MotionSegmentClassifier', num_classes=30, arch=dict("
                   "channels=8, num_layers=1), classes=['walk', 'jog', 'run', 'side_step', 'turn', "
                   "'march', 'step_over', 'jump', 'hop', 'jumping_jacks', 'squat', 'lunge', 'kick', "
                   "'balance', 'sit_down_stand_up', 'wave', 'raise_arms', 'arm_circles', 'clap', "
                   "'punch', 'bow', 'throw', 'jump_shot', 'dribble', 'stand', 'toe_touch', "
                   "'side_bend', 'torso_twist', 'stretch_up', 'head_gesture'])\n")
    out = tmp_path / 'summary.json'
    summary = _tool().main([str(cfg), '--data-root', str(root), '--split', 'all', '--json', str(out),
                            '--save-periods', str(tmp_path / 'periods.json')])
    text = capsys.readouterr().out
    assert '| all | 6 |' in text and '| reward agreement |' in text and out.is_file()
    assert summary['all']['motions'] == 6
    assert 0.0 <= summary['all']['exact'] <= 1.0

"""RecognizerEventDetector: window placement, frame averaging, run merging and the repetition rule
by hand; the detector with stub window classifiers (logits and MAR-style class texts) plugged into
SynthMotionOracleScorer; bad input."""
import numpy as np
import pytest
import torch
from torch import nn

from motionkit.feedback import ScoreRequest, SynthMotionOracleScorer
from motionkit.feedback.recognizer_event_detector import (RecognizerEventDetector, count_from_duration,
                                                          fit_repetition_periods, frame_probabilities,
                                                          load_repetition_periods, merge_short_runs,
                                                          runs_of, window_starts)


def test_window_starts_cover_the_end():
    assert window_starts(10, 4, 3) == [0, 3, 6]
    assert window_starts(11, 4, 3) == [0, 3, 6, 7]
    assert window_starts(3, 4, 2) == [0]  # shorter than a window: one (padded) window
    with pytest.raises(ValueError, match='>= 1'):
        window_starts(0, 4, 2)


def test_frame_probabilities_average_the_covering_windows():
    # windows of 4 at 0 and 2 over 6 frames: frames 2, 3 are covered by both
    p = frame_probabilities(np.array([[1.0, 0.0], [0.0, 1.0]]), [0, 2], 4, 6)
    np.testing.assert_allclose(p[:, 0], [1, 1, 0.5, 0.5, 0, 0])
    with pytest.raises(ValueError, match='covered by no window'):
        frame_probabilities(np.array([[1.0, 0.0]]), [0], 4, 6)
    with pytest.raises(ValueError, match=r'expected \(2, C\)'):
        frame_probabilities(np.ones((3, 2)), [0, 2], 4, 6)


def test_runs_and_short_run_merging_by_hand():
    assert runs_of([3, 3, 1, 1, 1, 3]) == [[3, 0, 2], [1, 2, 5], [3, 5, 6]]
    # the 2-frame run joins its longer left neighbour, then the 3-frame tail joins the rest
    assert merge_short_runs([[0, 0, 10], [1, 10, 12], [0, 12, 20], [2, 20, 23]], 4) == [[0, 0, 23]]
    # long enough runs stay; a short run between a 5 and a 9 joins the 9 (right)
    assert merge_short_runs([[0, 0, 5], [1, 5, 7], [2, 7, 16]], 3) == [[0, 0, 5], [2, 5, 16]]
    assert merge_short_runs([[0, 0, 5], [1, 5, 10]], 5) == [[0, 0, 5], [1, 5, 10]]
    assert merge_short_runs([[4, 0, 2]], 10) == [[4, 0, 2]]  # one run is left alone


def test_count_rule_by_hand():
    assert count_from_duration(80, 36.0, 8.0) == 2  # (80 - 8) / 36 = 2
    assert count_from_duration(62, 36.0, 8.0) == 2  # 1.5 rounds half up
    assert count_from_duration(61, 36.0, 8.0) == 1  # 1.47
    assert count_from_duration(5, 36.0, 8.0) == 1  # never below 1
    assert count_from_duration(500, None) == 1
    with pytest.raises(ValueError, match='period'):
        count_from_duration(10, 0.0)


def test_fit_repetition_periods_by_hand():
    def ev(name, start, end, count, reps):
        return dict(primitive=name, start=start, end=end, count=count, reps=reps)
    programs = [
        dict(events=[ev('clap', 0, 26, 2, [[5, 13], [13, 21]]), ev('bow', 26, 70, 1, [[26, 70]])]),
        dict(events=[ev('clap', 0, 34, 3, [[5, 13], [13, 21], [21, 29]])]),
        dict(events=[ev('clap', 10, 45, 4, [[0, 8]] * 4), ev('bow', 0, 40, 1, [[0, 40]])]),
        dict(events=[ev('bow', 0, 50, 1, [[0, 50]])]),
    ]
    table = fit_repetition_periods(programs)
    # clap: every span 8 frames; d - 8c = 26-16, 34-24, 35-32 = 10, 10, 3 -> median 10.
    # bow never changes its count: no entry (counts 1)
    assert table == {'clap': dict(period=8.0, offset=10.0, events=3)}
    assert fit_repetition_periods(programs, min_events=4) == {}
    with pytest.raises(KeyError, match="'reps'"):
        fit_repetition_periods([dict(events=[dict(primitive='x', start=0, end=1, count=1)])])


def test_load_repetition_periods(tmp_path):
    shipped = load_repetition_periods()
    assert shipped['clap']['period'] == 8.0 and 'bow' not in shipped
    assert load_repetition_periods({'labels': {'jumping_jacks': dict(period=20, offset=9)}}) == {
        'jumping jacks': dict(period=20.0, offset=9.0)}
    bad = tmp_path / 'bad.json'
    bad.write_text('{"labels": {"clap": {"period": 0}}}')
    with pytest.raises(ValueError, match=r'bad\.json.*clap'):
        load_repetition_periods(bad)
    with pytest.raises(ValueError, match='cannot read'):
        load_repetition_periods(tmp_path / 'missing.json')


class _PelvisXClassifier(nn.Module):
    """Stub window classifier: class = the window's mean pelvis x rounded (0, 1, 2), as logits."""
    classes = ['jump', 'clap', 'stand']

    def forward(self, inputs, data_samples=None, mode='tensor'):
        x = inputs['motion'][:, :, 0, 0].mean(1)
        k = x.round().clamp(0, 2).long()
        return nn.functional.one_hot(k, 3).float() * 10.0


class _TextClassifier(nn.Module):
    """Stub MAR: 'class texts' and cosines from encode_motion / class_scores."""
    class_texts = ['jump', 'clap', 'stand']

    def encode_motion(self, joints, lengths=None):
        x = joints[:, :, 0, 0].mean(1)
        return {'fused': nn.functional.one_hot(x.round().clamp(0, 2).long(), 3).float()}

    def class_scores(self, embeddings):
        return embeddings['fused']  # cosines in [0, 1]


def _toy_motion():
    # frames 0-39: x = 0 (jump), 40-95: x = 1 (clap), 96-119: x = 2 (stand)
    x = np.concatenate([np.zeros(40), np.ones(56), np.full(24, 2.0)])
    joints = np.zeros((120, 22, 3), np.float32)
    joints[:, :, 0] = x[:, None]
    return joints


@pytest.mark.parametrize('stub', [_PelvisXClassifier, _TextClassifier])
def test_detector_on_a_toy_motion_and_oracle_scores(stub):
    table = {'clap': dict(period=8.0, offset=0.0)}
    det = RecognizerEventDetector(stub(), window=8, stride=2, min_event_frames=6,
                                  repetition_periods=table)
    events = det.detect(_toy_motion())
    # By hand: window 36 (mean x 0.5, torch rounds half to even) says jump, 38 says clap; frames
    # 40 and 41 lie in windows 34, 36 (jump) and 38, 40 (clap): a tie, and the arg max takes the
    # lower class (jump); frame 42 has 3 clap windows of 4. At the clap/stand change window 92
    # (x 1.5 -> 2) already says stand, so frames 94, 95 tie 2-2 (clap wins) and 96 is stand.
    # Clap spans 42-96: 54 / 8 = 6.75 -> 7 repetitions; the filler 'stand' is dropped.
    assert [(e['label'], e['count'], e['start'], e['end']) for e in events] == [
        ('jump', 1, 0, 42), ('clap', 7, 42, 96)]
    scorer = SynthMotionOracleScorer(detector=det)
    req = dict(sample_id='m', prompt='p', joints=_toy_motion())
    # temporal: jump, clap, wave -> 2 of 3 in order -> round(20 / 3) = 7
    assert scorer.score(ScoreRequest(subtask='temporal', events=['jump', 'clap', 'wave'], **req)).score == 7
    # temporal in the wrong order: clap then jump -> 1 of 2 -> 5
    assert scorer.score(ScoreRequest(subtask='temporal', events=['clap', 'jump'], **req)).score == 5
    # frequency: clap 5 times stated, 7 performed -> 10 - 3 * 2 = 4
    res = scorer.score(ScoreRequest(subtask='frequency', events=['clap'], count=5, **req))
    assert res.score == 4 and res.detail['performed'] == 7


def test_detector_from_registry_config_and_short_motions():
    from motionkit.registry import FEEDBACK_CLIENTS
    det = FEEDBACK_CLIENTS.build(dict(type='RecognizerEventDetector', classifier=_PelvisXClassifier(),
                                      window=32, stride=4, repetition_periods=False))
    # a motion shorter than the window is padded with its last frame
    short = _toy_motion()[:10]
    assert [(e['label'], e['start'], e['end']) for e in det.detect(short)] == [('jump', 0, 10)]
    assert det(ScoreRequest('m', 'p', 'integrity', joints=short, events=['jump']))[0]['count'] == 1


def test_detector_bad_input():
    det = RecognizerEventDetector(_PelvisXClassifier(), window=8, stride=2)
    bad = _toy_motion()
    bad[5, 3, 1] = np.nan
    with pytest.raises(ValueError, match='m7: joints hold NaN'):
        det.detect(bad, 'm7')
    with pytest.raises(ValueError, match=r'\(T, J, 3\)'):
        det.detect(np.zeros((10, 22)), 'm7')
    with pytest.raises(ValueError, match='needs the motion joints'):
        det(ScoreRequest('m8', 'p', 'integrity', events=['jump']))

    class Nameless(nn.Module):
        def forward(self, inputs, data_samples=None, mode='tensor'):
            return torch.zeros(len(inputs['motion']), 3)
    with pytest.raises(ValueError, match='no class names'):
        RecognizerEventDetector(Nameless())
    wrong = RecognizerEventDetector(Nameless(), classes=['a', 'b'], window=8, stride=4)
    with pytest.raises(ValueError, match='2 classes'):
        wrong.detect(_toy_motion())
    with pytest.raises(ValueError, match='>= 1'):
        RecognizerEventDetector(_PelvisXClassifier(), window=0)

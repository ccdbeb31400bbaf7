"""InstructionReconstructionMetric: edits through the editor it owns, MPJPE vs target and vs source."""
import numpy as np
import pytest
from mmengine.structures import BaseDataElement

from motionkit.evaluation.metrics import InstructionReconstructionMetric
from motionkit.evaluation.metrics.instruction_reconstruction_metric import common_length_mpjpe


class ShiftEditor:
    """Moves every joint up by 10 cm when told "up", else returns the source; counts matches."""

    def __init__(self):
        self.calls = 0
        self.matched = self.total = 0

    def edit_instructions(self, requests):
        self.calls += 1
        out = []
        for req in requests:
            self.total += 1
            joints = req.joints.copy()
            if req.instruction == 'up':
                self.matched += 1
                joints[..., 1] += 0.1
            out.append(joints)
        return out

    def match_stats(self):
        return dict(matched=self.matched, total=self.total)


def _sample(pred, gt, target_shift, frames=5):
    rng = np.random.default_rng(frames)
    src = rng.normal(size=(frames, 22, 3)).astype(np.float32)
    tgt = src.copy()
    tgt[..., 1] += target_shift
    return BaseDataElement(pred_instruction=pred, gt_instruction=gt, gt_source_joints=src,
                           gt_target_joints=tgt, body_part='whole_body', edited_joints=[],
                           source_id='m0')


def test_hand_computed_errors():
    editor = ShiftEditor()
    metric = InstructionReconstructionMetric(editor=editor, batch_size=1)
    # target = source + 10 cm up. Sample 1: "up" reproduces the target (0 mm); sample 2: an
    # unusable instruction leaves the source (100 mm). Source error 100 mm for both.
    metric.process({}, [_sample('up', 'up', 0.1), _sample('jump', 'up', 0.1, frames=7)])
    out = metric.compute_metrics(metric.results)
    assert out['mpjpe'] == pytest.approx(50.0, abs=1e-3)
    assert out['mpjpe_source'] == pytest.approx(100.0, abs=1e-3)
    assert out['improvement'] == pytest.approx(0.5, abs=1e-5)
    assert out['matched'] == pytest.approx(0.5)
    assert editor.calls == 2  # batch_size=1


def test_oracle_key_uses_gt_instruction():
    metric = InstructionReconstructionMetric(editor=ShiftEditor(), instruction_key='gt_instruction')
    metric.process({}, [_sample('jump', 'up', 0.1)])
    assert metric.compute_metrics(metric.results)['mpjpe'] == pytest.approx(0.0, abs=1e-4)


def test_common_length_and_errors():
    a = np.zeros((4, 2, 3))
    b = np.zeros((6, 2, 3))
    b[:4, :, 0] = 0.002  # 2 mm on the shared frames; frames 4-5 are not scored
    assert common_length_mpjpe(a, b) == pytest.approx(2.0)
    with pytest.raises(ValueError, match='joint layouts'):
        common_length_mpjpe(np.zeros((3, 2, 3)), np.zeros((3, 4, 3)))
    with pytest.raises(ValueError, match='needs an editor'):
        InstructionReconstructionMetric(editor=None)

    class NoEdit:
        pass

    metric = InstructionReconstructionMetric(editor=NoEdit())
    with pytest.raises(TypeError, match='edit_instructions'):
        metric.process({}, [_sample('up', 'up', 0.1)])


def test_body_part_filter():
    metric = InstructionReconstructionMetric(editor=ShiftEditor(), body_parts=('upper_body', ))
    metric.process({}, [_sample('up', 'up', 0.1)])  # whole_body: not scored
    with pytest.raises(ValueError, match='no samples'):
        metric.compute_metrics(metric.results)


class PartRecorder(ShiftEditor):
    """ShiftEditor that records the body part and text each request carried."""

    def __init__(self):
        super().__init__()
        self.seen = []

    def edit_instructions(self, requests):
        self.seen.extend((r.body_part, r.instruction, r.edited_joints) for r in requests)
        return super().edit_instructions(requests)


def test_body_part_comes_from_the_instruction_not_the_triplet():
    editor = PartRecorder()
    metric = InstructionReconstructionMetric(editor=editor, batch_size=8)
    samples = [_sample('Upper body: up', 'Upper body: up', 0.1), _sample('Lower body: up', 'Upper body: up', 0.1),
               _sample('up', 'Upper body: up', 0.1, frames=6)]
    for s in samples:  # the triplet's answer: upper body, with edited joints
        s.body_part = 'upper_body'
        s.edited_joints = ['left_wrist']
    metric.process({}, samples)
    # the editor sees the part each instruction names (none -> whole body free), the text after
    # it, and never the triplet's edited joints
    assert editor.seen == [('upper_body', 'up', ()), ('lower_body', 'up', ()), ('whole_body', 'up', ())]
    out = metric.compute_metrics(metric.results)
    assert out['body_part_accuracy'] == pytest.approx(1 / 3)
    assert out['body_part_missing'] == pytest.approx(1 / 3)

"""ReferenceInstructionControl / control_instruction: the damaged references of the control rows."""
import numpy as np
import pytest
from mmengine.structures import BaseDataElement

from motionkit.models.generators import ReferenceInstructionControl, control_instruction
from motionkit.utils import register_all_modules

register_all_modules()

REF = 'Upper body: raise your hand higher when you wave'


def test_controls_by_hand():
    rng = np.random.default_rng(0)
    assert control_instruction(REF, 'reference', rng) == REF
    shuffled = control_instruction(REF, 'shuffled', rng)
    assert shuffled.startswith('Upper body: ') and shuffled != REF
    assert sorted(shuffled.split()[2:]) == sorted(REF.split()[2:])
    assert control_instruction(REF, 'truncated', rng) == 'Upper body: raise your hand'
    assert control_instruction('squat', 'truncated', rng) == 'squat'
    assert control_instruction(REF, 'other_triplet', rng, other='Lower body: squat deeper') == 'Lower body: squat deeper'
    nonsense = control_instruction(REF, 'nonsense', rng)
    assert len(nonsense.split()) == 7 and 'body' not in nonsense and 'wave' not in nonsense
    # a two-word shuffle that happens to keep the order is reversed
    assert control_instruction('kick higher', 'shuffled', np.random.default_rng(1)) == 'higher kick'
    with pytest.raises(ValueError, match='needs another'):
        control_instruction(REF, 'other_triplet', rng)
    with pytest.raises(ValueError, match='control must be one of'):
        control_instruction(REF, 'reversed', rng)


def test_model_predicts_controls_repeatably():
    def batch():
        return [BaseDataElement(gt_instruction=f'Lower body: step {i} further forward', triplet_id=f'C{i}')
                for i in range(3)]
    other = ReferenceInstructionControl('other_triplet').forward({}, batch())
    assert [s.pred_instruction for s in other] == ['Lower body: step 1 further forward',
                                                   'Lower body: step 2 further forward',
                                                   'Lower body: step 0 further forward']
    a = [s.pred_instruction for s in ReferenceInstructionControl('shuffled', seed=3).forward({}, batch())]
    b = [s.pred_instruction for s in ReferenceInstructionControl('shuffled', seed=3).forward({}, batch())]
    assert a == b and all(x != y.gt_instruction for x, y in zip(a, batch()))
    with pytest.raises(ValueError, match='batches of >= 2'):
        ReferenceInstructionControl('other_triplet').forward({}, batch()[:1])
    with pytest.raises(RuntimeError, match='learns nothing'):
        ReferenceInstructionControl().forward({}, batch(), mode='loss')

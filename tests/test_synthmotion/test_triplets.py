import numpy as np
import pytest

from motionkit.synthmotion import EDIT_OPERATORS, make_triplet, pelvis_frame_positions
from motionkit.synthmotion.body import JOINTS, LOWER_BODY
from motionkit.synthmotion.edits import descendants


def test_at_least_40_edit_operators_over_both_halves():
    ops = EDIT_OPERATORS.values()
    assert len(EDIT_OPERATORS) >= 40
    parts = [o.body_part for o in ops]
    assert parts.count('upper_body') >= 15 and parts.count('lower_body') >= 15
    for o in ops:
        assert len(o.templates) == 3


def test_triplets_differ_only_where_their_part_says(synth_items):
    rng = np.random.default_rng(11)
    seen = {'upper_body': 0, 'lower_body': 0, 'whole_body': 0}
    ops = set()
    for it in synth_items[:150]:
        res = make_triplet(it, rng)
        if res is None:
            continue
        rec, target = res
        seen[rec['body_part']] += 1
        ops.add(rec['edit'])
        assert len(rec['instructions']) == 3 and all(rec['instructions'])
        src, tgt = it.motion.joints.astype(np.float64), target.joints.astype(np.float64)
        if rec['body_part'] == 'whole_body':
            continue
        assert src.shape == tgt.shape
        keep = [JOINTS.index(n) for n in rec['unchanged_joints']]
        edited = rec['edited_joints']
        if rec['body_part'] == 'upper_body':
            assert not set(edited) & set(LOWER_BODY)
            assert rec['unchanged_frame'] == 'world'
            # lower body and root trajectory identical in world coordinates
            low = [JOINTS.index(n) for n in LOWER_BODY]
            assert np.abs(src[:, low] - tgt[:, low]).max() < 1e-4
            a, b = src, tgt
        else:
            assert rec['unchanged_frame'] == 'pelvis'
            a, b = pelvis_frame_positions(src), pelvis_frame_positions(tgt)
        assert np.abs(a[:, keep] - b[:, keep]).max() < 1e-4, rec['edit']
        # and the edit is visible where it says (world coordinates: a root change counts)
        moved = [JOINTS.index(n) for n in descendants(edited)]
        assert np.abs(src[:, moved] - tgt[:, moved]).max() > 0.03, rec['edit']
    assert seen['upper_body'] >= 20 and seen['lower_body'] >= 20 and seen['whole_body'] >= 5
    assert len(ops) >= 25


def test_forced_operator_and_instruction_filling(synth_items):
    rng = np.random.default_rng(0)
    item = next(it for it in synth_items if any(e['primitive'] == 'wave' and e['params']['hand'] in ('left', 'right')
                                               for e in it.motion.events))
    rec, target = make_triplet(item, rng, operator='wave_other_hand')
    ev = item.motion.events[rec['event']]
    new_hand = 'left' if ev['params']['hand'] == 'right' else 'right'
    assert rec['new_params']['hand'] == new_hand
    assert any(new_hand in s for s in rec['instructions']) or any('other hand' in s for s in rec['instructions'])
    assert set(rec['regions']) == {'left_arm', 'right_arm'}


def test_held_out_phrasings():
    from motionkit.synthmotion.edits import EDIT_OPERATORS
    from motionkit.synthmotion.synthmotion_exact_editor import normalize_instruction
    from motionkit.synthmotion.triplets import phrasings_for_split, split_phrasings
    table = split_phrasings({name: op.templates for name, op in EDIT_OPERATORS.items()})
    train = {normalize_instruction(t) for v in table.values() for t in v['train']}
    held = {normalize_instruction(t) for v in table.values() for t in v['held_out']}
    # no phrasing is on both sides, even the ones several edits share ('move faster', 'do one less')
    assert not train & held
    assert all(len(v['train']) == 2 and len(v['held_out']) == 1 for v in table.values())
    assert table == split_phrasings({name: op.templates for name, op in EDIT_OPERATORS.items()})
    # hand-checked rule: every third phrasing from an offset fixed by the name's CRC-32
    import zlib
    offset = zlib.crc32(b'x') % 3
    small = split_phrasings({'x': ['a', 'b', 'c', 'd', 'e', 'f']})['x']
    assert small['held_out'] == [p for i, p in enumerate('abcdef') if i % 3 == offset]
    assert phrasings_for_split(table, 'kick_higher', 'test') == phrasings_for_split(table, 'kick_higher', 'val')
    assert split_phrasings({'one': ['only']})['one'] == dict(train=['only'], held_out=['only'])
    with pytest.raises(ValueError, match="split must be"):
        phrasings_for_split(table, 'kick_higher', 'dev')

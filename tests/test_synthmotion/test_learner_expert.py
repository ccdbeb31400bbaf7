import numpy as np

from motionkit.synthmotion import ACTIVITIES, make_feedback_pair, t2m22_to_coco17_approx, to_coco17
from motionkit.synthmotion.body import BODY_REGIONS, JOINTS
from motionkit.synthmotion.triplets import pelvis_frame_positions


def test_feedback_pairs():
    acts = set()
    for k in range(24):
        rec, motions = make_feedback_pair(5, k)
        acts.add(rec['activity'])
        assert set(rec['region_labels']) == set(BODY_REGIONS)
        assert set(rec['region_labels'].values()) <= {'needs_improvement', 'correct', 'not_mentioned'}
        bad = {r for e in rec['errors'] for r in e['regions']}
        assert {r for r, v in rec['region_labels'].items() if v == 'needs_improvement'} == bad
        assert rec['skill_level'] in ('novice', 'early_expert', 'intermediate_expert')
        assert rec['expert_skill_level'] == 'late_expert'
        assert rec['commentary']
        nov, cor = motions['novice'].joints, motions['corrected'].joints
        # the learner's error shows in the regions it names (relative to the pelvis)
        if nov.shape == cor.shape:
            a, b = pelvis_frame_positions(nov), pelvis_frame_positions(cor)
            idx = [JOINTS.index(j) for r in bad for j in BODY_REGIONS[r]]
            assert np.abs(a[:, idx] - b[:, idx]).max() > 0.03, rec['errors']
        coco = to_coco17(motions['expert'].joints)
        assert coco.shape == (motions['expert'].num_frames, 17, 3)
    assert len(acts) >= 4 and acts <= set(ACTIVITIES)


def test_coco17_approx_geometry():
    rec, motions = make_feedback_pair(1, 0)
    j = motions['expert'].joints
    c = t2m22_to_coco17_approx(j)
    # limbs copied, face in front of / above the head joint and ears on either side
    assert np.allclose(c[:, 5], j[:, JOINTS.index('left_shoulder')])
    assert np.allclose(c[:, 16], j[:, JOINTS.index('right_ankle')])
    head = j[:, JOINTS.index('head')]
    assert (np.linalg.norm(c[:, 0] - head, axis=-1) < 0.15).all()
    ear_gap = np.linalg.norm(c[:, 3] - c[:, 4], axis=-1)
    assert (ear_gap > 0.1).all() and (ear_gap < 0.2).all()

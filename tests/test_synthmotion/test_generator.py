"""Physical plausibility of SynthMotion motions (bounds stated in docs/synthmotion.md)."""
import numpy as np

from motionkit.synthmotion import PRIMITIVES, synthesize, sample_body
from motionkit.synthmotion.body import JOINTS, PARENTS, LIMITS, idx
from motionkit.synthmotion.generator import CONTACT_HEIGHT, MAX_FRAMES

J = {n: i for i, n in enumerate(JOINTS)}
AIRBORNE_OK = {'jump', 'hop', 'jumping_jacks', 'jump_shot', 'jog', 'run'}


def _lowest_foot(joints, ankle_height):
    """(T, 2) height of each foot's lowest point (toe joint or heel below the ankle)."""
    out = []
    for a, f in ((J['left_ankle'], J['left_foot']), (J['right_ankle'], J['right_foot'])):
        out.append(np.minimum(joints[:, f, 1], joints[:, a, 1] - ankle_height))
    return np.stack(out, -1)


def test_at_least_25_primitives_each_valid():
    assert len(PRIMITIVES) >= 25
    rng = np.random.default_rng(0)
    for name, prim in PRIMITIVES.items():
        params = prim.sample(rng)
        m = synthesize([dict(primitive=name, params=params)], sample_body(rng), 1, 2)
        assert np.isfinite(m.joints).all(), name
        assert m.joints.shape[1:] == (22, 3)
        assert 20 <= m.num_frames <= MAX_FRAMES, (name, m.num_frames)
        # every primitive actually moves the body (more than 2.5 cm somewhere; a head shake is small)
        rel = m.joints - m.joints[:, :1]
        assert np.abs(rel - rel[:1]).max() > 0.025, name


def test_lengths_and_floor(synth_items):
    for it in synth_items:
        j = it.motion.joints
        assert 41 <= len(j) <= 196
        # HumanML3D convention: lowest joint on the floor, root over the origin at frame 0
        assert abs(j[..., 1].min()) < 1e-5
        assert np.abs(j[0, 0, [0, 2]]).max() < 1e-5


def test_bone_lengths_constant(synth_items):
    for it in synth_items:
        j = it.motion.joints.astype(np.float64)
        bones = np.linalg.norm(j[:, 1:] - j[:, list(PARENTS[1:])], axis=-1)  # (T, 21)
        assert bones.std(0).max() < 2e-5, it.motion_id
        # the subject is 1.5-1.9 m tall (stature = head joint + ~10 cm)
        h = it.program['subject']['height']
        assert 1.5 - 1e-6 <= h <= 1.9 + 1e-6


def test_feet_on_floor_in_stance_and_no_skating(synth_items):
    speeds, grounded_gaps = [], 0
    for it in synth_items:
        m = it.motion
        j = m.joints.astype(np.float64)
        low = _lowest_foot(j, m.body.ankle_height)
        assert j[..., 1].min() > -1e-5  # no joint below the floor (e.g. a knee in a lunge)
        assert low.min() > -0.01  # no foot sinks into the floor
        # contact labels mean what they say
        assert (low[m.contacts] < CONTACT_HEIGHT + 1e-6).all()
        # a person is never in the air unless the event is a jump-like one
        air = low.min(-1) > 0.03
        for ev in m.events:
            if ev['primitive'] not in AIRBORNE_OK:
                grounded_gaps += int(air[ev['start'] + 3:ev['end'] - 3].sum())
        mid = np.stack([(j[:, J['left_ankle']] + j[:, J['left_foot']]) / 2,
                        (j[:, J['right_ankle']] + j[:, J['right_foot']]) / 2], 1)
        v = np.linalg.norm(np.diff(mid[..., [0, 2]], axis=0), axis=-1) * 20  # m/s
        c = m.contacts[1:] & m.contacts[:-1]
        speeds.append(v[c])
    speeds = np.concatenate(speeds)
    assert grounded_gaps == 0
    # stated bounds: mean skating speed of feet touching the floor < 3 cm/s, 95th pct < 15 cm/s
    assert speeds.mean() < 0.03, speeds.mean()
    assert np.percentile(speeds, 95) < 0.15, np.percentile(speeds, 95)
    assert np.median(speeds) < 0.005


def _angle(a, b):
    cos = (a * b).sum(-1) / (np.linalg.norm(a, axis=-1) * np.linalg.norm(b, axis=-1))
    return np.degrees(np.arccos(np.clip(cos, -1, 1)))


def test_joint_angles_within_human_limits(synth_items):
    for it in synth_items:
        j = it.motion.joints.astype(np.float64)
        left = j[:, J['left_hip']] - j[:, J['right_hip']]
        for s in ('left', 'right'):
            thigh = j[:, J[f'{s}_knee']] - j[:, J[f'{s}_hip']]
            shank = j[:, J[f'{s}_ankle']] - j[:, J[f'{s}_knee']]
            knee = _angle(thigh, shank)
            assert knee.max() < 150, (it.motion_id, knee.max())
            # no hyperextension: where the knee is bent, the shank swings backwards (about +X)
            sign = (np.cross(thigh, shank) * left).sum(-1)
            bent = knee > 15
            assert (sign[bent] > 0).all(), it.motion_id
            upper = j[:, J[f'{s}_elbow']] - j[:, J[f'{s}_shoulder']]
            fore = j[:, J[f'{s}_wrist']] - j[:, J[f'{s}_elbow']]
            assert _angle(upper, fore).max() < 155
        trunk = j[:, J['neck']] - j[:, J['spine3']]
        pelvis_up = j[:, J['spine1']] - j[:, J['pelvis']]
        assert _angle(pelvis_up, trunk).max() < 100
        head = j[:, J['head']] - j[:, J['neck']]
        assert _angle(trunk, head).max() < 75


def test_channel_limits_table_is_anatomical():
    # knees and elbows only flex, hips flex further than they extend
    assert (LIMITS[idx('left_knee'), 0] == [0, 145]).all()
    assert LIMITS[idx('left_elbow'), 0, 0] == 0
    assert LIMITS[idx('left_hip'), 0, 1] > -LIMITS[idx('left_hip'), 0, 0]


def test_jerk_bounded(synth_items):
    p99, med = [], []
    for it in synth_items:
        j = it.motion.joints.astype(np.float64)
        jerk = np.linalg.norm(np.diff(j, 3, axis=0), axis=-1) * 20 ** 3  # m/s^3
        p99.append(np.percentile(jerk, 99))
        med.append(np.median(jerk))
    # stated bounds (docs/synthmotion.md): per motion, median joint jerk < 1500 m/s^3 (running is
    # the largest) and 99th percentile < 9000 m/s^3 (take-offs and landings of jumps); over the
    # dataset the median of the per-motion medians < 50 m/s^3
    assert max(med) < 1500, max(med)
    assert max(p99) < 9000, max(p99)
    assert np.median(med) < 50, np.median(med)


def test_jerk_comparable_to_real_humanml3d(shared_data, synth_items):
    real = np.load(shared_data / 'humanml3d_reference' / 'new_joints' / '012314.npy').astype(np.float64)
    real_med = np.median(np.linalg.norm(np.diff(real, 3, axis=0), axis=-1) * 20 ** 3)
    med = np.median([np.median(np.linalg.norm(np.diff(it.motion.joints.astype(np.float64), 3, axis=0), axis=-1))
                     * 20 ** 3 for it in synth_items])
    assert med < 3 * real_med, (med, real_med)


def test_events_cover_the_motion_in_order(synth_items):
    for it in synth_items:
        evs = it.motion.events
        assert evs[0]['start'] == 0 and evs[-1]['end'] == it.motion.num_frames
        for a, b in zip(evs[:-1], evs[1:]):
            assert a['end'] == b['start']
        for ev in evs:
            assert ev['count'] >= 1
            for r0, r1 in ev['reps']:
                assert 0 <= r0 < r1 <= it.motion.num_frames


def test_walk_distance_follows_speed():
    rng = np.random.default_rng(3)
    body = sample_body(rng)
    d = []
    for speed in (0.8, 1.4):
        p = dict(direction='forward', speed=speed, steps=6, turn=0.0, cadence=1.8)
        m = synthesize([dict(primitive='walk', params=p)], body, 1, 2)
        d.append(m.events[0]['facts']['distance'])
        assert m.joints[-1, 0, 2] > 1.0  # walked forward (+Z)
    assert d[1] > 1.4 * d[0]


def test_turn_changes_heading():
    rng = np.random.default_rng(4)
    m = synthesize([dict(primitive='turn', params=dict(direction='left', angle=90.0))], sample_body(rng), 1, 2)
    j = m.joints
    across0 = j[0, J['left_hip']] - j[0, J['right_hip']]
    across1 = j[-1, J['left_hip']] - j[-1, J['right_hip']]
    ang = np.degrees(np.arctan2(np.cross(across0[[2, 0]], across1[[2, 0]]), (across0[[2, 0]] * across1[[2, 0]]).sum()))
    assert 75 < abs(ang) < 105

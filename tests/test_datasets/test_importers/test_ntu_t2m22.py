"""NTU-25 -> t2m22 mapping, body and missing-frame policies, and the official split rules."""
import io

import numpy as np
import pytest

from motionkit.datasets.importers.ntu import (NTU60_XSUB_TRAIN_SUBJECTS, NTU120_XSUB_TRAIN_SUBJECTS,
                                              fill_missing_frames, load_ntu_record, ntu25_to_t2m22, ntu_split,
                                              ntu_to_t2m22, read_ntu_skeleton, select_ntu_body)
from motionkit.motion.skeletons import get_skeleton

SAMPLES = ['S001C001P001R001A011', 'S002C001P003R001A003', 'S003C001P015R001A034', 'S004C002P003R001A017',
           'S001C003P008R002A058']
T2M = get_skeleton('t2m22')


def _sample(shared_data, name):
    return shared_data / 'ntu_skeleton_samples' / f'{name}.skeleton'


def test_mapping_joint_by_joint():
    # ntu25 joint k at (k, 2k, 3k) (0-based Kinect order): every t2m22 joint is checked against the
    # table written out by hand (Kinect numbers are 1-based in the module comment).
    src = np.arange(25, dtype=np.float64)[:, None] * np.array([1.0, 2.0, 3.0])
    out = ntu25_to_t2m22(src)
    assert out.shape == (22, 3)
    expected_x = {
        'pelvis': 0.7 * 0 + 0.3 * 1, 'left_hip': 12, 'right_hip': 16, 'spine1': 0.2 * 0 + 0.8 * 1,
        'left_knee': 13, 'right_knee': 17, 'spine2': 0.7 * 1 + 0.3 * 20, 'left_ankle': 14, 'right_ankle': 18,
        'spine3': 0.55 * 1 + 0.45 * 20, 'left_foot': 15, 'right_foot': 19, 'neck': 2,
        'left_collar': 0.5 * 20 + 0.5 * 4, 'right_collar': 0.5 * 20 + 0.5 * 8, 'head': 3, 'left_shoulder': 4,
        'right_shoulder': 8, 'left_elbow': 5, 'right_elbow': 9, 'left_wrist': 6, 'right_wrist': 10}
    assert set(expected_x) == set(T2M.joint_names)
    for name, x in expected_x.items():
        np.testing.assert_allclose(out[T2M.index(name)], [x, 2 * x, 3 * x], atol=1e-12, err_msg=name)
    # batched input maps frame by frame
    batch = np.stack([src, src + 1.0])
    np.testing.assert_allclose(ntu25_to_t2m22(batch)[1], out + 1.0, atol=1e-12)
    with pytest.raises(ValueError, match=r'x\.skeleton: expected ntu25 joints of shape \(\.\.\., 25, 3\), got '
                                         r'\(4, 24, 3\)'):
        ntu25_to_t2m22(np.zeros((4, 24, 3)), where='x.skeleton')


@pytest.mark.parametrize('name', SAMPLES)
def test_real_samples_in_motionkit_conventions(shared_data, name):
    raw = read_ntu_skeleton(_sample(shared_data, name))
    out = ntu_to_t2m22(_sample(shared_data, name))
    j = out['joints']
    # 30 fps -> 20 fps: floor((T - 1) * 20 / 30) + 1 frames
    assert j.shape == ((raw['num_frames'] - 1) * 2 // 3 + 1, 22, 3) and j.dtype == np.float32
    assert out['fps'] == 20.0 and out['info']['up_axis'] == 'y' and out['info']['interpolated'] == 0
    # bone lengths of an adult in metres (median over frames)
    bones = np.linalg.norm(j[:, 1:] - j[:, list(T2M.parents[1:])], axis=-1)
    med = dict(zip(T2M.joint_names[1:], np.median(bones, 0)))
    for side in ('left', 'right'):
        assert 0.2 < med[f'{side}_knee'] < 0.5        # thigh
        assert 0.2 < med[f'{side}_ankle'] < 0.5       # shin
        assert 0.15 < med[f'{side}_elbow'] < 0.4      # upper arm
        assert 0.12 < med[f'{side}_wrist'] < 0.35     # forearm
        assert 0.04 < med[f'{side}_hip'] < 0.15       # pelvis -> hip
    assert 0.35 < np.median(np.linalg.norm(j[:, 12] - j[:, 0], axis=-1)) < 0.65  # pelvis -> neck
    # Y up: head above pelvis above the ankles
    assert (j[:, 15, 1] > j[:, 0, 1]).all() and (j[:, 0, 1] > j[:, [7, 8], 1].max(1)).all()
    # feet on the floor: the lowest foot joint of the clip at y = 0, and near it in most frames
    feet = j[:, [7, 8, 10, 11], 1]
    assert abs(feet.min()) < 1e-6 and np.median(feet.min(1)) < 0.08
    # canonical frame 0: pelvis xz at the origin, facing +Z (the body's left is +X)
    np.testing.assert_allclose(j[0, 0, [0, 2]], 0.0, atol=1e-6)
    assert j[0, T2M.index('left_hip'), 0] > j[0, T2M.index('right_hip'), 0]
    assert j[0, T2M.index('left_shoulder'), 0] > j[0, T2M.index('right_shoulder'), 0]


def test_same_frames_without_resampling_and_canonical_frame(shared_data):
    path = _sample(shared_data, 'S001C001P001R001A011')
    raw = read_ntu_skeleton(path)
    out = ntu_to_t2m22(path, fps=30.0, canonicalize=False)
    # Kinect's camera frame is already Y up, metres: the output is the mapped camera-space joints
    np.testing.assert_allclose(out['joints'], ntu25_to_t2m22(raw['joints'][0]), atol=1e-6)


def test_body_policies_on_the_two_body_file(shared_data):
    rec = load_ntu_record(_sample(shared_data, 'S001C003P008R002A058'))
    assert rec['joints'].shape[0] == 2
    swapped = dict(rec, joints=rec['joints'][::-1].copy(), body_present=rec['body_present'][::-1].copy())
    first = [ntu_to_t2m22(r, body='first')['joints'] for r in (rec, swapped)]
    assert np.abs(first[0] - first[1]).max() > 0.05  # the two persons differ: the choice matters
    # most_motion does not depend on the order of the bodies in the file
    picked = [ntu_to_t2m22(r, body='most_motion') for r in (rec, swapped)]
    np.testing.assert_array_equal(picked[0]['joints'], picked[1]['joints'])
    assert {picked[0]['info']['body'], picked[1]['info']['body']} == {0, 1}


def test_select_body_hand_made():
    t = 20
    joints = np.zeros((3, t, 25, 3))
    joints[0] += 1.0                                             # still, tracked in all frames
    joints[1] += 1.0 + np.linspace(0, 1, t)[:, None, None]       # walks 1 m, tracked in 15 frames
    joints[2, :3] = np.random.default_rng(0).normal(0, 3, (3, 25, 3))  # a 3-frame phantom that jumps
    valid = np.zeros((3, t), bool)
    valid[0] = True
    valid[1, :15] = True
    valid[2, :3] = True
    assert select_ntu_body(joints, valid, 'most_motion') == 1
    assert select_ntu_body(joints, valid, 'longest') == 0
    assert select_ntu_body(joints, valid, 'first') == 0
    valid[0] = False
    assert select_ntu_body(joints, valid, 'first') == 1
    with pytest.raises(ValueError, match=r'a\.skeleton: no body in any frame'):
        select_ntu_body(joints, np.zeros((3, t), bool), where='a.skeleton')
    with pytest.raises(ValueError, match=r"unknown body policy 'biggest'"):
        select_ntu_body(joints, valid, 'biggest')


def test_fill_missing_frames_hand_values():
    j = np.zeros((6, 1, 3))
    j[1], j[4] = 1.0, 4.0
    out, info = fill_missing_frames(j, np.array([0, 1, 0, 0, 1, 0], bool))
    np.testing.assert_allclose(out[:, 0, 0], [1.0, 2.0, 3.0, 4.0])
    assert info == dict(source_frames=6, start=1, end=5, trimmed=2, interpolated=2)
    with pytest.raises(ValueError, match='no valid frame'):
        fill_missing_frames(j, np.zeros(6, bool))


def _rewrite(lines, frames_without_body):
    """A .skeleton text with the bodies of some frames removed (body count 0)."""
    out, pos = [lines[0]], 1
    for t in range(int(lines[0])):
        n = int(lines[pos])
        block = lines[pos:pos + 1 + 27 * n]
        pos += 1 + 27 * n
        out += ['0'] if t in frames_without_body else block
    return '\n'.join(out) + '\n'


def test_missing_frames_in_a_real_file(shared_data, tmp_path):
    src = _sample(shared_data, 'S001C001P001R001A011')
    lines = src.read_text().splitlines()
    gap = {0, 1, 10, 11, 12, 81}
    path = tmp_path / src.name
    path.write_text(_rewrite(lines, gap))
    ref = ntu25_to_t2m22(read_ntu_skeleton(src)['joints'][0])
    out = ntu_to_t2m22(path, fps=30.0, canonicalize=False)
    assert out['info'] == dict(out['info'], start=2, end=81, trimmed=3, interpolated=3)
    j = out['joints']
    assert len(j) == 79
    kept = [t for t in range(2, 81) if t not in gap]
    np.testing.assert_allclose(j[[t - 2 for t in kept]], ref[kept], atol=1e-6)
    for t in (10, 11, 12):  # linear between source frames 9 and 13
        w = (t - 9) / 4
        np.testing.assert_allclose(j[t - 2], (1 - w) * ref[9] + w * ref[13], atol=1e-5)
    empty = tmp_path / 'S001C001P001R001A001.skeleton'
    empty.write_text(_rewrite(lines, set(range(82))))
    with pytest.raises(ValueError, match=r'S001C001P001R001A001\.skeleton: no body in any frame'):
        ntu_to_t2m22(empty)


def test_npz_from_import_ntu_matches_skeleton(shared_data, tmp_path):
    import importlib.util
    from pathlib import Path
    tool = Path(__file__).resolve().parents[3] / 'tools' / 'data' / 'import_ntu.py'
    spec = importlib.util.spec_from_file_location('import_ntu', tool)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    mod.main([str(shared_data / 'ntu_skeleton_samples'), '--out', str(tmp_path / 'npz')])
    for name in ('S001C003P008R002A058', 'S002C001P003R001A003'):
        a = ntu_to_t2m22(_sample(shared_data, name))
        b = ntu_to_t2m22(tmp_path / 'npz' / f'{name}.npz')
        np.testing.assert_array_equal(a['joints'], b['joints'])
        assert load_ntu_record(tmp_path / 'npz' / f'{name}.npz')['performer'] == int(name[9:12])


def test_malformed_npz_inputs(tmp_path):
    bad = tmp_path / 'S001C001P001R001A001.npz'
    joints = np.ones((1, 4, 25, 3), np.float32)
    joints[0, 2, 5, 1] = np.nan
    buf = io.BytesIO()
    np.savez(buf, joints=joints, body_present=np.ones((1, 4), bool))
    bad.write_bytes(buf.getvalue())
    with pytest.raises(ValueError, match=r'S001C001P001R001A001\.npz: non-finite joint position '
                                         r'\(body 0, frame 2, joint 5\)'):
        ntu_to_t2m22(bad)
    np.savez(tmp_path / 'S001C001P001R001A002.npz', joints=np.ones((4, 25, 3)))
    with pytest.raises(ValueError, match=r'A002\.npz: "joints" must have shape \(M, T, 25, 3\), got \(4, 25, 3\)'):
        load_ntu_record(tmp_path / 'S001C001P001R001A002.npz')
    (tmp_path / 'x.txt').write_text('1')
    with pytest.raises(ValueError, match=r'x\.txt: expected a \.skeleton file or an \.npz'):
        load_ntu_record(tmp_path / 'x.txt')


def test_official_subject_lists():
    assert len(NTU60_XSUB_TRAIN_SUBJECTS) == 20 and len(set(NTU60_XSUB_TRAIN_SUBJECTS)) == 20
    assert len(NTU120_XSUB_TRAIN_SUBJECTS) == 53 and len(set(NTU120_XSUB_TRAIN_SUBJECTS)) == 53
    assert set(NTU60_XSUB_TRAIN_SUBJECTS) < set(NTU120_XSUB_TRAIN_SUBJECTS)
    assert max(NTU60_XSUB_TRAIN_SUBJECTS) <= 40 and max(NTU120_XSUB_TRAIN_SUBJECTS) <= 106


@pytest.mark.parametrize('name, benchmark, expected', [
    ('S001C001P001R001A001.skeleton', 'ntu60_xsub', 'train'),
    ('S001C001P003R001A001.skeleton', 'ntu60_xsub', 'test'),
    ('S017C002P038R002A060.skeleton', 'ntu60_xsub', 'train'),
    ('S017C002P040R002A060.skeleton', 'ntu60_xsub', 'test'),
    ('S005C001P002R001A010.skeleton', 'ntu60_xview', 'test'),
    ('S005C002P003R001A010.skeleton', 'ntu60_xview', 'train'),
    ('S005C003P003R001A010.skeleton', 'ntu60_xview', 'train'),
    ('S018C002P045R001A010.skeleton', 'ntu60_xsub', None),     # NTU-120-only setup
    ('S001C002P001R001A061.skeleton', 'ntu60_xview', None),    # NTU-120-only action
    ('S018C001P045R001A061.skeleton', 'ntu120_xsub', 'train'),
    ('S018C001P044R001A061.skeleton', 'ntu120_xsub', 'test'),
    ('S032C001P103R001A120.skeleton', 'ntu120_xsub', 'train'),
    ('S032C001P106R001A120.skeleton', 'ntu120_xsub', 'test'),
    ('S001C001P001R001A001.skeleton', 'ntu120_xsub', 'train'),
    ('S002C001P003R001A001.skeleton', 'ntu120_xset', 'train'),
    ('S001C001P001R001A001.skeleton', 'ntu120_xset', 'test'),
    ('S032C003P050R002A100.skeleton', 'ntu120_xset', 'train'),
    ('S031C003P050R002A100.skeleton', 'ntu120_xset', 'test'),
])
def test_split_rules(name, benchmark, expected):
    assert ntu_split(name, benchmark) == expected


def test_split_errors():
    with pytest.raises(ValueError, match=r'S001C004P001R001A001\.skeleton: camera 4 is outside'):
        ntu_split('S001C004P001R001A001.skeleton', 'ntu60_xview')
    with pytest.raises(ValueError, match=r'clip\.skeleton: not an NTU sample name'):
        ntu_split('clip.skeleton', 'ntu60_xsub')
    with pytest.raises(ValueError, match=r"unknown NTU benchmark 'ntu60_xset'"):
        ntu_split('S001C001P001R001A001', 'ntu60_xset')

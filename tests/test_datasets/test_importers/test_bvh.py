"""BVH reader and forward kinematics: hand-made files with known answers, and the real CMU/Bandai files."""
import numpy as np
import pytest

from motionkit.datasets.importers.bvh import (bvh_forward_kinematics, euler_to_quaternion, parse_bvh, read_bvh,
                                              resample_bvh)
from motionkit.motion.quaternion import quaternion_to_matrix

# Two-bone chain: root with 6 channels (positions, then rotations Z X Y), child with rotations in the
# order X Y Z, an end site of length 2 along +Y.
TOY = """HIERARCHY
ROOT root
{
  OFFSET 0 0 0
  CHANNELS 6 Xposition Yposition Zposition Zrotation Xrotation Yrotation
  JOINT arm
  {
    OFFSET 1 0 0
    CHANNELS 3 Xrotation Yrotation Zrotation
    End Site
    {
      OFFSET 0 2 0
    }
  }
}
MOTION
Frames: 3
Frame Time: 0.5
0 0 0 0 0 0 0 0 0
10 20 30 90 0 0 0 0 0
0 0 0 0 0 0 90 0 0
"""


def test_parse_toy_header():
    b = parse_bvh(TOY, path='toy.bvh')
    assert b.joint_names == ('root', 'arm')
    assert b.parents.tolist() == [-1, 0]
    assert b.num_channels == 9 and b.num_frames == 3
    assert b.fps == pytest.approx(2.0)
    assert b.end_site_names == ('arm_end',)
    assert b.column('arm', 'Yrotation') == 7


def test_toy_forward_kinematics_hand_computed():
    b = parse_bvh(TOY, path='toy.bvh')
    p = bvh_forward_kinematics(b, with_end_sites=True)  # (3, 3, 3): root, arm, arm_end
    # Frame 0: rest pose.
    np.testing.assert_allclose(p[0], [[0, 0, 0], [1, 0, 0], [1, 2, 0]], atol=1e-12)
    # Frame 1: root at (10, 20, 30) turned +90 deg about Z: x -> y, y -> -x.
    np.testing.assert_allclose(p[1], [[10, 20, 30], [10, 21, 30], [8, 21, 30]], atol=1e-12)
    # Frame 2: arm turned +90 deg about X: its +Y end site goes to +Z.
    np.testing.assert_allclose(p[2], [[0, 0, 0], [1, 0, 0], [1, 0, 2]], atol=1e-12)


def test_euler_order_is_listed_order():
    # 'ZYX' means Rz @ Ry @ Rx (column vectors).
    a = np.array([30.0, -50.0, 70.0])
    m = quaternion_to_matrix(euler_to_quaternion(a, 'ZYX'))

    def rot(axis, deg):
        c, s = np.cos(np.radians(deg)), np.sin(np.radians(deg))
        return {'X': np.array([[1, 0, 0], [0, c, -s], [0, s, c]]),
                'Y': np.array([[c, 0, s], [0, 1, 0], [-s, 0, c]]),
                'Z': np.array([[c, -s, 0], [s, c, 0], [0, 0, 1]])}[axis]
    np.testing.assert_allclose(m, rot('Z', 30) @ rot('Y', -50) @ rot('X', 70), atol=1e-12)


def test_translation_modes():
    # A child with position channels: 'replace' uses the channel values, 'add' adds them to the offset.
    text = TOY.replace('CHANNELS 3 Xrotation Yrotation Zrotation', 'CHANNELS 4 Xposition Xrotation Yrotation Zrotation')
    rows = ['0 0 0 0 0 0 5 0 0 0', '0 0 0 0 0 0 5 0 0 0', '0 0 0 0 0 0 5 0 0 0']
    text = text.split('Frame Time: 0.5\n')[0] + 'Frame Time: 0.5\n' + '\n'.join(rows) + '\n'
    b = parse_bvh(text, path='toy.bvh')
    assert bvh_forward_kinematics(b)[0, 1, 0] == pytest.approx(5.0)
    assert bvh_forward_kinematics(b, translation='add')[0, 1, 0] == pytest.approx(6.0)


def test_truncated_file_names_file(tmp_path):
    f = tmp_path / 'cut.bvh'
    f.write_text(TOY.rsplit('\n', 2)[0] + '\n')  # drop the last frame row
    with pytest.raises(ValueError, match=r'cut\.bvh.*Frames: 3.*2 frame rows.*truncated'):
        read_bvh(f)


def test_wrong_channel_count_names_file_and_line(tmp_path):
    f = tmp_path / 'row.bvh'
    f.write_text(TOY.replace('10 20 30 90 0 0 0 0 0', '10 20 30 90 0 0 0 0'))
    with pytest.raises(ValueError, match=r'row\.bvh, line 20: frame 1 has 8 values, expected 9'):
        read_bvh(f)


@pytest.mark.parametrize('bad, message', [
    ('CHANNELS 3 Xrotation Yrotation Zrotation', 'CHANNELS 3 Xrotation Yrotation Wrotation'),
    ('OFFSET 1 0 0', 'OFFSET 1 0'),
    ('Frames: 3', 'Frames: x'),
])
def test_malformed_header(bad, message):
    with pytest.raises(ValueError, match=r'toy\.bvh, line \d+'):
        parse_bvh(TOY.replace(bad, message), path='toy.bvh')


@pytest.mark.parametrize('frame_time', ['1e-9', '0.0001', '2.5'])
def test_implausible_frame_time_names_file_and_value(frame_time):
    # Issue #17: "Frame Time: 1e-9" turned a 2,752-frame clip into one frame at 20 fps, silently.
    with pytest.raises(ValueError, match=rf'toy\.bvh, line 18: Frame Time {float(frame_time):g} s .*outside'):
        parse_bvh(TOY.replace('Frame Time: 0.5', f'Frame Time: {frame_time}'), path='toy.bvh')
    # An explicit frame rate reads such a file (the header stays recorded) ...
    b = parse_bvh(TOY.replace('Frame Time: 0.5', f'Frame Time: {frame_time}'), path='toy.bvh', fps=120)
    assert b.fps == pytest.approx(120) and b.header_frame_time == float(frame_time)
    # ... but not an implausible one.
    with pytest.raises(ValueError, match=r'toy\.bvh: fps 1e\+06 is outside'):
        b.with_fps(1e6)
    assert parse_bvh(TOY.replace('Frame Time: 0.5', 'Frame Time: 0.001'), path='toy.bvh').fps == pytest.approx(1000)


def test_implausible_frame_time_in_a_build_names_the_file(shared_data, tmp_path):
    from motionkit.datasets.importers import build_cmu_bandai
    text = (shared_data / 'cmu_mocap/bvh/02_01.bvh').read_text()
    head, rest = text.split('Frame Time:', 1)
    cmu = tmp_path / 'cmu'
    (cmu / 'bvh').mkdir(parents=True)
    (cmu / 'bvh' / '02_01.bvh').write_text(head + 'Frame Time: 1e-9\n' + rest.split('\n', 1)[1])
    index = (shared_data / 'cmu_mocap/index.tsv').read_text().splitlines()
    (cmu / 'index.tsv').write_text('\n'.join([index[0]] + [r for r in index[1:] if '\tbvh/02_01.bvh\t' in r]) + '\n')
    with pytest.raises(ValueError, match=r'02_01\.bvh, line \d+: Frame Time 1e-09 s .*outside.*--fps-override'):
        build_cmu_bandai(tmp_path / 'out', cmu_root=cmu, progress=False)
    summary = build_cmu_bandai(tmp_path / 'out', cmu_root=cmu, progress=False, fps_overrides={'02_01.bvh': 120})
    assert summary['written'] == ['cmu_02_01']


def test_fps_override_keeps_header():
    b = parse_bvh(TOY, path='toy.bvh', fps=8)
    assert b.fps == pytest.approx(8) and b.header_fps == pytest.approx(2)


def test_resample_keeps_bones_rigid_and_hits_exact_frames(shared_data):
    b = read_bvh(shared_data / 'bandai_namco_motion_samples/dataset-1/dataset-1_kick_normal_001.bvh', fps=30)
    rot, trans = resample_bvh(b, 20.0)  # 30 -> 20 fps: frames at 0, 1.5, 3, ...
    assert rot.shape[0] == int(np.floor((b.num_frames - 1) * 20 / 30 + 1e-9)) + 1
    p = bvh_forward_kinematics(b, rotations=rot, translations=trans)
    full = bvh_forward_kinematics(b)
    np.testing.assert_allclose(p[2], full[3], atol=1e-9)  # output frame 2 = source frame 3
    # Every bone but joint_Root -> Hips (whose position channels carry the trajectory) is rigid.
    bones = np.linalg.norm(p[:, 2:] - p[:, b.parents[2:]], axis=-1)
    assert bones.std(axis=0).max() < 1e-9


@pytest.mark.parametrize('rel, joints, frames, fps', [
    ('cmu_mocap/bvh/02_01.bvh', 31, 344, 120),
    ('cmu_mocap/bvh_other/02_01.bvh', 43, 344, 120),
    ('cmu_mocap/bvh_other/16_01.bvh', 31, 322, 30),
    ('bandai_namco_motion_samples/dataset-1/dataset-1_bow_normal_001.bvh', 22, 138, 30),
])
def test_real_files_headers(shared_data, rel, joints, frames, fps):
    b = read_bvh(shared_data / rel)
    assert (b.num_joints, b.num_frames) == (joints, frames)
    assert b.header_fps == pytest.approx(fps, rel=1e-3)
    assert np.isfinite(bvh_forward_kinematics(b)).all()

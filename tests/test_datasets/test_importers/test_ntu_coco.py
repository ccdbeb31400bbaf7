"""NTU .skeleton reader and COCO keypoints on the real samples."""
import numpy as np
import pytest

from motionkit.datasets.importers import (COCO17_FACE_OFFSETS, load_coco_keypoints, parse_ntu_name,
                                          read_ntu_skeleton, t2m22_to_coco17)
from motionkit.motion.skeletons import get_skeleton

NTU = [  # file, frames, bodies, label (0-based), from the samples' README
    ('S001C001P001R001A011', 82, 1, 10),
    ('S002C001P003R001A003', 100, 1, 2),
    ('S003C001P015R001A034', 71, 1, 33),
    ('S004C002P003R001A017', 124, 1, 16),
    ('S001C003P008R002A058', 70, 2, 57),
]


@pytest.mark.parametrize('name, frames, bodies, label', NTU)
def test_ntu_samples(shared_data, name, frames, bodies, label):
    d = read_ntu_skeleton(shared_data / 'ntu_skeleton_samples' / f'{name}.skeleton')
    assert d['joints'].shape == (bodies, frames, 25, 3) and d['num_frames'] == frames
    assert d['label'] == label and d['action'] == label + 1
    assert (d['bodies_per_frame'] == bodies).all() and d['body_present'].all()
    assert (d['tracking_state'] >= 0).all() and (d['tracking_state'] <= 2).all()
    # Kinect camera space, metres: people stand 1.5-5 m in front of the camera, head above spine base.
    assert 1.5 < np.median(d['joints'][..., 2]) < 5.0
    assert (d['joints'][:, :, 3, 1] > d['joints'][:, :, 0, 1]).mean() > 0.9


def test_ntu_first_values_and_name(shared_data):
    d = read_ntu_skeleton(shared_data / 'ntu_skeleton_samples/S001C001P001R001A011.skeleton')
    # First joint line of the file: 0.2058097 0.1920515 3.810989 276.0976 190.0662 1032.328 514.0889 ...
    np.testing.assert_allclose(d['joints'][0, 0, 0], [0.2058097, 0.1920515, 3.810989], rtol=1e-6)
    np.testing.assert_allclose(d['color_xy'][0, 0, 0], [1032.328, 514.0889], rtol=1e-6)
    assert d['tracking_state'][0, 0, 0] == 2 and d['body_ids'] == [72057594037931648]
    assert parse_ntu_name('S017C003P020R002A120.skeleton') == dict(setup=17, camera=3, performer=20, replication=2,
                                                                 action=120, label=119)
    assert parse_ntu_name('clip.skeleton') is None
    assert get_skeleton('ntu25').num_joints == d['joints'].shape[2]


def test_ntu_truncated_names_file_and_line(shared_data, tmp_path):
    lines = (shared_data / 'ntu_skeleton_samples/S001C001P001R001A011.skeleton').read_text().splitlines()
    cut = tmp_path / 'S001C001P001R001A011.skeleton'
    cut.write_text('\n'.join(lines[:100]) + '\n')
    with pytest.raises(ValueError, match=r'S001C001P001R001A011\.skeleton, line 101: file ends while reading '
                                         r'joint \d+ of body 0, frame 3 \(truncated file\?\)'):
        read_ntu_skeleton(cut)
    bad = tmp_path / 'bad.skeleton'
    bad.write_text('\n'.join(lines[:5] + [lines[5].rsplit(' ', 1)[0]] + lines[6:]) + '\n')
    with pytest.raises(ValueError,
                       match=r'bad\.skeleton, line 6: joint 1 of body 0 in frame 0 needs 12 values, got 11'):
        read_ntu_skeleton(bad)


def test_coco_keypoints(shared_data):
    path = shared_data / 'coco_keypoints_sample/test_coco.json'
    anns = load_coco_keypoints(path)
    assert len(anns) == 14 and {a['image_id'] for a in anns} == {785, 40083, 196141, 197388}
    first = anns[0]
    assert first['image_id'] == 785 and first['file_name'] == '000000000785.jpg'
    assert first['keypoints'].shape == (17, 3) and first['num_keypoints'] == 17
    np.testing.assert_array_equal(first['keypoints'][0], [367, 81, 2])  # nose of annotation 442619
    for a in anns:
        assert a['num_keypoints'] == int((a['keypoints'][:, 2] > 0).sum())
    assert len(load_coco_keypoints(path, min_keypoints=1)) == 12  # two annotations have no keypoint


def test_t2m22_to_coco17():
    from motionkit.motion.humanml3d import humanml3d_target_offsets
    sk = get_skeleton('t2m22')
    off = humanml3d_target_offsets()
    pose = np.zeros((22, 3))
    for j in sk.topological_order[1:]:
        pose[j] = pose[sk.parents[j]] + off[j]
    pose[sk.index('head')] = pose[sk.index('neck')] + [0.0, 0.1, 0.0]  # HumanML3D's rest head points +Z
    coco = get_skeleton('coco17')
    kp = t2m22_to_coco17(pose[None, None])[0, 0]
    assert kp.shape == (17, 3)
    for name in ('left_shoulder', 'right_knee', 'left_ankle', 'right_wrist', 'left_hip'):
        np.testing.assert_allclose(kp[coco.index(name)], pose[sk.index(name)])
    # Rest pose: Y up, left at +X, facing +Z -> head frame axes are the world axes.
    head = pose[sk.index('head')]
    np.testing.assert_allclose(kp[coco.index('nose')], head + [0.0, 0.04, 0.10], atol=1e-9)
    np.testing.assert_allclose(kp[coco.index('left_ear')], head + [0.075, 0.06, 0.0], atol=1e-9)
    assert COCO17_FACE_OFFSETS['right_eye'][2] < 0
    # Rotating the body rotates the face keypoints with it.
    c, s = np.cos(0.7), np.sin(0.7)
    r = np.array([[c, 0, s], [0, 1, 0], [-s, 0, c]])
    np.testing.assert_allclose(t2m22_to_coco17(pose @ r.T), kp @ r.T, atol=1e-9)
    with pytest.raises(ValueError, match=r'\(\.\.\., 22, 3\)'):
        t2m22_to_coco17(np.zeros((5, 21, 3)))

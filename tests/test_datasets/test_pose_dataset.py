"""COCO17PoseDataset: single COCO-17 poses sampled from HumanML3D-layout joint files."""
import numpy as np
import pytest
import torch
from mmengine.dataset import default_collate

from motionkit.datasets import COCO17PoseDataset
from motionkit.registry import DATASETS

# t2m22 -> COCO-17 body keypoints that are plain joint copies: (coco index, t2m22 index)
BODY_PAIRS = [(5, 16), (6, 17), (7, 18), (8, 19), (9, 20), (10, 21), (11, 1), (12, 2), (13, 4),
              (14, 5), (15, 7), (16, 8)]


def _folder(root, lengths, split='train', seed=0):
    rng = np.random.default_rng(seed)
    (root / 'new_joints').mkdir(parents=True)
    ids = []
    for i, n in enumerate(lengths):
        motion_id = f'{root.name}_{i}'
        joints = rng.normal(size=(n, 22, 3)) + np.array([0.0, 1.0, 0.0])
        np.save(root / 'new_joints' / f'{motion_id}.npy', joints.astype(np.float32))
        ids.append(motion_id)
    (root / f'{split}.txt').write_text('\n'.join(ids) + '\n')
    return ids


def test_counts_mapping_and_root_relative(tmp_path):
    a, b = tmp_path / 'a', tmp_path / 'b'
    ids_a = _folder(a, (12, 7))
    _folder(b, (5, ), seed=1)
    ds = DATASETS.build(dict(type='COCO17PoseDataset', data_roots=[str(a), str(b)],
                             split='train', frame_step=5))
    # frames 0,5,10 | 0,5 | 0
    assert len(ds) == 3 + 2 + 1
    frames = [ds.get_data_info(i)['frame'] for i in range(len(ds))]
    assert frames == [0, 5, 10, 0, 5, 0]
    item = ds[1]
    pose, sample = item['inputs'], item['data_samples']
    assert pose.shape == (17, 3) and pose.dtype == torch.float32
    assert sample.gt_joints.shape == (1, 17, 3)
    assert torch.equal(sample.gt_joints[0], pose)
    assert sample.metainfo['motion_id'] == ids_a[0] and sample.metainfo['frame'] == 5
    # body keypoints are the t2m22 joints of that frame, minus the mid-hip pelvis
    joints = np.load(a / 'new_joints' / f'{ids_a[0]}.npy')[5].astype(np.float64)
    pelvis = (joints[1] + joints[2]) / 2
    for coco, t2m in BODY_PAIRS:
        np.testing.assert_allclose(pose[coco].numpy(), joints[t2m] - pelvis, atol=1e-5)
    for i in range(len(ds)):
        p = ds[i]['inputs']
        assert torch.allclose(p[[11, 12]].mean(0), torch.zeros(3), atol=1e-6)
    # global positions are kept when asked
    glob = COCO17PoseDataset(data_roots=[str(a)], frame_step=5, root_relative=False)
    np.testing.assert_allclose(glob[1]['inputs'][9].numpy(), joints[20], atol=1e-5)
    # default_collate gives the (B, 17, 3) batch PoseTokenizer takes, data samples as a list
    batch = default_collate([ds[i] for i in range(4)])
    assert batch['inputs'].shape == (4, 17, 3) and len(batch['data_samples']) == 4


def test_sources_options_and_errors(tmp_path, monkeypatch):
    a = tmp_path / 'a'
    _folder(a, (40, 40), split='test')
    capped = COCO17PoseDataset(data_roots=[str(a)], split='test', frame_step=1,
                               max_poses_per_source=5)
    assert len(capped) == 5
    # evenly spaced over the 80 poses: 0, 19.75, 39.5, 59.25, 79 rounded (half to even)
    assert [capped.get_data_info(i)['frame'] for i in range(5)] == [0, 20, 0, 19, 39]
    assert [capped.get_data_info(i)['motion_id'] for i in range(5)] == ['a_0'] * 2 + ['a_1'] * 3
    # the SynthMotion option goes through ensure_synthmotion(num_motions, seed)
    sm = tmp_path / 'sm'
    _folder(sm, (10, ), split='test')
    calls = []

    def fake_ensure(num_motions, seed=0, cache_dir=None, **options):
        calls.append((num_motions, seed, options))
        return sm
    monkeypatch.setattr('motionkit.synthmotion.build.ensure_synthmotion', fake_ensure)
    ds = COCO17PoseDataset([], synthmotion=dict(num_motions=7, seed=3), cmu_bandai_root=str(a),
                           split='test', frame_step=5)
    assert calls == [(7, 3, {})]
    assert [ds.get_data_info(i)['source'] for i in (0, len(ds) - 1)] == ['SynthMotion',
                                                                         'CMU+Bandai']
    assert len(ds) == 2 + 8 + 8
    with pytest.raises(FileNotFoundError, match='build_cmu_bandai'):
        COCO17PoseDataset([], cmu_bandai_root=str(tmp_path / 'missing'), split='test')
    with pytest.raises(FileNotFoundError, match='val.txt'):
        COCO17PoseDataset(data_roots=[str(a)], split='val')
    with pytest.raises(ValueError, match='no source'):
        COCO17PoseDataset([])
    with pytest.raises(KeyError, match='num_motions'):
        COCO17PoseDataset([], synthmotion=dict(seed=0))
    np.save(a / 'new_joints' / 'a_0.npy', np.zeros((10, 21, 3), np.float32))
    with pytest.raises(ValueError, match=r'a_0.npy.*\(T, 22, 3\)'):
        COCO17PoseDataset(data_roots=[str(a)], split='test')


def test_real_cmu_bandai_poses(cmu_bandai_dataset):
    out_dir = cmu_bandai_dataset[0]
    ds = COCO17PoseDataset([], cmu_bandai_root=str(out_dir), split='all', frame_step=10)
    ids = [line for line in (out_dir / 'all.txt').read_text().split() if line]
    expected = sum(-(-len(np.load(out_dir / 'new_joints' / f'{i}.npy')) // 10) for i in ids)
    assert len(ds) == expected > 0
    poses = torch.stack([ds[i]['inputs'] for i in range(len(ds))])
    assert torch.allclose(poses[:, [11, 12]].mean(1), torch.zeros(3), atol=1e-5)
    # a real body: shoulders 15-60 cm apart, ankles below the pelvis (Y up)
    width = (poses[:, 5] - poses[:, 6]).norm(dim=-1)
    assert bool(((width > 0.15) & (width < 0.6)).all())
    assert bool((poses[:, 15:17, 1] < 0).float().mean() > 0.9)

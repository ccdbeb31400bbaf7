"""NTUSkeletonDataset on the five real NTU samples (and renamed / broken copies of them)."""
import shutil

import numpy as np
import pytest

from motionkit.datasets import NTUSkeletonDataset
from motionkit.registry import DATASETS


@pytest.fixture
def ntu_dir(shared_data, tmp_path):
    """The five samples in a folder of their own (the shared folder also holds the .txt lists)."""
    out = tmp_path / 'skeletons'
    out.mkdir()
    for f in (shared_data / 'ntu_skeleton_samples').glob('*.skeleton'):
        shutil.copy(f, out / f.name)
    return out


def _ids(ds):
    return sorted(ds.get_data_info(i)['motion_id'] for i in range(len(ds)))


def test_benchmark_splits_from_file_names(ntu_dir):
    # performers 1, 8, 15 are cross-subject training subjects, 3 is not; camera 1 is the x-view test view
    xsub_train = NTUSkeletonDataset(str(ntu_dir), 'ntu60_xsub', 'train')
    xsub_test = NTUSkeletonDataset(str(ntu_dir), 'ntu60_xsub', 'test')
    assert _ids(xsub_train) == ['S001C001P001R001A011', 'S001C003P008R002A058', 'S003C001P015R001A034']
    assert _ids(xsub_test) == ['S002C001P003R001A003', 'S004C002P003R001A017']
    xview_train = NTUSkeletonDataset(str(ntu_dir), 'ntu60_xview', 'train')
    assert _ids(xview_train) == ['S001C003P008R002A058', 'S004C002P003R001A017']
    assert len(NTUSkeletonDataset(str(ntu_dir), 'ntu60_xview', 'test')) == 3
    # NTU-120 cross-setup: even setups train
    assert _ids(NTUSkeletonDataset(str(ntu_dir), 'ntu120_xset', 'train')) == ['S002C001P003R001A003',
                                                                             'S004C002P003R001A017']
    assert len(NTUSkeletonDataset(str(ntu_dir), 'ntu120_xsub', 'all')) == 5


def test_items_labels_and_class_filter(ntu_dir):
    ds = DATASETS.build(dict(type='NTUSkeletonDataset', data_root=str(ntu_dir), benchmark='ntu60_xsub',
                             split='train'))
    item = ds[[ds.get_data_info(i)['motion_id'] for i in range(len(ds))].index('S001C003P008R002A058')]
    assert item['joints'].shape == (47, 22, 3) and item['joints'].dtype == np.float32
    assert item['label'] == 57 and item['action'] == 58 and item['performer'] == 8 and item['camera'] == 3
    assert item['ntu_info']['num_bodies'] == 2 and item['skeleton'] == 't2m22' and item['fps'] == 20.0
    assert ds.metainfo['classes'][57] == 'A058' and len(ds.metainfo['classes']) == 60
    assert ds.metainfo['benchmark'] == 'ntu60_xsub' and ds.metainfo['split'] == 'train'
    # a class subset is re-indexed 0..K-1 in ascending action order
    sub = NTUSkeletonDataset(str(ntu_dir), 'ntu60_xsub', 'all', actions=[58, 11])
    assert sub.metainfo['actions'] == [11, 58]
    assert sorted((sub.get_data_info(i)['action'], sub.get_data_info(i)['label']) for i in range(len(sub))) == \
        [(11, 0), (58, 1)]
    # PackMotionInputs turns an item into inputs + a data sample with gt_label
    from motionkit.datasets.transforms import PackMotionInputs
    packed = NTUSkeletonDataset(str(ntu_dir), 'ntu60_xsub', 'test', actions=[3],
                                pipeline=[PackMotionInputs(input_key='joints', gt_keys=())])
    out = packed[0]
    assert tuple(out['inputs'].shape) == (67, 22, 3) and int(out['data_samples'].gt_label) == 0


def test_exclusion_list_and_bad_inputs(ntu_dir, shared_data, tmp_path):
    exclude = tmp_path / 'missing.txt'
    exclude.write_text('These samples have missing skeletons\n\nnturgb+d_skeletons/S001C001P001R001A011.skeleton\n')
    ds = NTUSkeletonDataset(str(ntu_dir), 'ntu60_xsub', 'train', exclude_file=str(exclude))
    assert 'S001C001P001R001A011' not in _ids(ds) and len(ds) == 2
    # the official list staged with the samples parses (302 names) and excludes none of them
    official = shared_data / 'ntu_skeleton_samples' / 'NTU_RGBD_samples_with_missing_skeletons.txt'
    assert len(NTUSkeletonDataset(str(ntu_dir), 'ntu60_xsub', 'all', exclude_file=str(official))) == 5
    with pytest.raises(ValueError, match=r"actions must be ids in 1\.\.60 for ntu60_xsub, got \[61\]"):
        NTUSkeletonDataset(str(ntu_dir), 'ntu60_xsub', actions=[1, 61])
    with pytest.raises(ValueError, match=r"unknown NTU benchmark 'ntu60_xset'"):
        NTUSkeletonDataset(str(ntu_dir), 'ntu60_xset')
    # a truncated file is named when its sample is fetched
    name = 'S001C001P001R001A011.skeleton'
    lines = (ntu_dir / name).read_text().splitlines()
    (ntu_dir / name).write_text('\n'.join(lines[:50]) + '\n')
    ds = NTUSkeletonDataset(str(ntu_dir), 'ntu60_xsub', 'train', actions=[11])
    with pytest.raises(ValueError, match=r'S001C001P001R001A011\.skeleton, line 51: file ends'):
        ds[0]
    (ntu_dir / 'notes.skeleton').write_text('1\n')
    with pytest.raises(ValueError, match=r'notes\.skeleton: not an NTU sample name'):
        NTUSkeletonDataset(str(ntu_dir), 'ntu60_xsub')


def test_npz_folder_and_mixed_folder(ntu_dir, tmp_path):
    import io
    src = NTUSkeletonDataset(str(ntu_dir), 'ntu60_xview', 'train')
    npz_dir = tmp_path / 'npz'
    npz_dir.mkdir()
    from motionkit.datasets.importers import read_ntu_skeleton
    for i in range(len(src)):
        info = src.get_data_info(i)
        rec = read_ntu_skeleton(info['path'])
        buf = io.BytesIO()
        np.savez(buf, joints=rec['joints'], body_present=rec['body_present'])
        (npz_dir / f'{info["motion_id"]}.npz').write_bytes(buf.getvalue())
    ds = NTUSkeletonDataset(str(npz_dir), 'ntu60_xview', 'train')
    assert _ids(ds) == _ids(src)
    np.testing.assert_array_equal(ds[0]['joints'], src[0]['joints'])
    shutil.copy(next(npz_dir.glob('*.npz')), ntu_dir)
    with pytest.raises(ValueError, match="holds both .skeleton and .npz files"):
        NTUSkeletonDataset(str(ntu_dir), 'ntu60_xview')
    assert len(NTUSkeletonDataset(str(ntu_dir), 'ntu60_xview', 'all', suffix='.npz')) == 1

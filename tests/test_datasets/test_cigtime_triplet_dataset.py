"""CigTimeTripletDataset, LoadMotionPair / PackMotionPairInputs, motion_pair_collate and
MotionPairDataPreprocessor on a small triplet folder built from SynthMotion."""
import json
import shutil

import numpy as np
import pytest
import torch
from mmengine.registry import FUNCTIONS as MMENGINE_FUNCTIONS
from mmengine.registry import init_default_scope

from motionkit.registry import DATASETS, MODELS

TRAIN_PIPELINE = [dict(type='LoadMotionPair', max_length=196),
                  dict(type='PackMotionPairInputs', response_key='instructions')]
TEST_PIPELINE = [dict(type='LoadMotionPair', with_joints=True, max_length=196),
                 dict(type='PackMotionPairInputs', response_key='instruction', test_mode=True)]


@pytest.fixture(scope='module')
def triplet_root(tmp_path_factory):
    from motionkit.datagen import build_cigtime_triplets
    base = tmp_path_factory.mktemp('cigtime_ds')
    return build_cigtime_triplets(base / 'triplets', 16, seed=3, per_source=2, progress=False,
                                  synthmotion_cache_dir=str(base / 'sm'))


def _records(root):
    return [json.loads(line) for line in (root / 'triplets.jsonl').read_text().splitlines()]


def _build(root, split='train', pipeline=TRAIN_PIPELINE, **kw):
    init_default_scope('motionkit')
    return DATASETS.build(dict(type='CigTimeTripletDataset', data_root=str(root), split=split,
                               pipeline=pipeline, **kw))


def test_split_sizes_and_keys(triplet_root):
    recs = _records(triplet_root)
    for split in ('train', 'val', 'test'):
        n = sum(r['split'] == split for r in recs)
        if n:
            assert len(_build(triplet_root, split)) == n
    ds = _build(triplet_root, 'all', pipeline=[])
    assert len(ds) == len(recs)
    info = ds.get_data_info(0)
    rec = recs[0]
    assert info['motion_path'].endswith(rec['target_vecs'])
    assert info['source_motion_path'].endswith(rec['source_vecs'])
    assert [t['caption'] for t in info['texts']] == rec['instructions']
    assert info['length'] == len(np.load(info['motion_path']))
    assert info['mean_path'].endswith('Mean.npy') and info['feature_dim'] == 263
    first = _build(triplet_root, 'all', pipeline=[], instruction_mode='first').get_data_info(0)
    assert [t['caption'] for t in first['texts']] == [rec['instruction']]


def test_body_parts_filter(triplet_root):
    recs = _records(triplet_root)
    parts = ('upper_body', 'lower_body')
    ds = _build(triplet_root, 'all', pipeline=[], body_parts=parts)
    kept = [r['id'] for r in recs if r['body_part'] in parts]
    assert [ds.get_data_info(i)['triplet_id'] for i in range(len(ds))] == kept
    dropped = len(recs) - len(kept)
    assert ds.filter_stats == ({'other_body_part': dropped} if dropped else {})
    with pytest.raises(ValueError, match='body_parts'):
        _build(triplet_root, 'all', pipeline=[], body_parts=('arms', ))
    with pytest.raises(ValueError, match='body_parts'):
        _build(triplet_root, 'all', pipeline=[], body_parts='upper_body')


def test_relative_data_root(triplet_root, monkeypatch):
    # configs name the folder relative to the working directory (work_dirs/cigtime_tiny/triplets)
    monkeypatch.chdir(triplet_root.parent)
    ds = _build(triplet_root.name, 'all', pipeline=[])
    assert len(ds) == len(_records(triplet_root))
    assert np.load(ds.get_data_info(0)['motion_path']).shape[-1] == 263


def test_text_template_with_source_caption(triplet_root):
    rec = _records(triplet_root)[0]
    info = _build(triplet_root, 'all', pipeline=[],
                  text_template='{source_caption}{instruction}').get_data_info(0)
    texts = [t['caption'] for t in info['texts']]
    assert len(texts) == len(rec['instructions']) * len(rec['source_captions'])
    caption = rec['source_captions'][0].strip().rstrip('.')
    assert texts[0] == f"{caption}. {rec['instructions'][0]}"
    with pytest.raises(ValueError, match='lacks'):
        _build(triplet_root, 'all', pipeline=[], text_template='{source_caption}')
    with pytest.raises(ValueError, match='may only use'):
        _build(triplet_root, 'all', pipeline=[], text_template='{instruction} {target}')


def test_pair_pipeline_test_mode(triplet_root):
    ds = _build(triplet_root, 'all', TEST_PIPELINE, test_mode=True)
    out = ds[0]
    rec = _records(triplet_root)[0]
    src = np.load(triplet_root / rec['source_vecs'])
    tgt = np.load(triplet_root / rec['target_vecs'])
    assert torch.equal(out['inputs']['source'], torch.from_numpy(src))
    assert torch.equal(out['inputs']['target'], torch.from_numpy(tgt))
    s = out['data_samples']
    assert s.gt_instruction == rec['instruction'] == rec['instructions'][0]
    assert s.gt_instructions == rec['instructions']
    assert (s.body_part, s.triplet_id, s.source_id, s.edit) == (rec['body_part'], rec['id'],
                                                                rec['source_id'], rec['edit'])
    assert s.edited_joints == rec['edited_joints']
    tj = np.load(triplet_root / rec['target_joints'])
    assert torch.equal(s.gt_target_joints, torch.from_numpy(tj))
    assert s.gt_source_joints.shape == (len(src) + 1, 22, 3)
    for key in ('data_root', 'source_motion_path', 'mean_path', 'std_path', 'sample_id'):
        assert key in s.metainfo
    # the exact editor's targets are the features of the target joints
    from motionkit.motion.humanml3d import HumanML3DFeatures
    np.testing.assert_allclose(HumanML3DFeatures().encode(tj), tgt, atol=1e-5)


def test_pack_response_random_in_training(triplet_root):
    ds = _build(triplet_root, 'all', TRAIN_PIPELINE)
    rec = _records(triplet_root)[0]
    np.random.seed(0)
    seen = {ds[0]['data_samples'].gt_instruction for _ in range(30)}
    assert seen == set(rec['instructions'])  # three paraphrases, all drawn in 30 tries
    assert 'gt_target_joints' not in ds[0]['data_samples']


def test_max_length_truncates(triplet_root):
    from motionkit.datasets.transforms import LoadMotionPair
    info = _build(triplet_root, 'all', []).get_data_info(0)
    out = LoadMotionPair(with_joints=True, max_length=10)(dict(info))
    assert out['source_motion'].shape == (10, 263) and out['target_motion'].shape == (10, 263)
    assert out['source_joints'].shape == (11, 22, 3) and out['length'] == 10


def test_collate_and_preprocessor(triplet_root):
    ds = _build(triplet_root, 'train', TEST_PIPELINE)
    collate = MMENGINE_FUNCTIONS.get('motionkit.motion_pair_collate')
    batch = collate([ds[0], ds[1], ds[2]])
    assert len(batch['inputs']['source']) == 3 and len(batch['data_samples']) == 3
    pre = MODELS.build(dict(type='MotionPairDataPreprocessor'))  # statistics from the metainfo
    out = pre(batch)['inputs']
    mean = np.load(triplet_root / 'Mean.npy')
    std = np.load(triplet_root / 'Std.npy')
    for name in ('source', 'target'):
        lengths = [len(x) for x in batch['inputs'][name]]
        assert out[f'{name}_lengths'].tolist() == lengths
        assert out[name].shape == (3, max(lengths), 263)
        assert out[f'{name}_mask'].sum(1).tolist() == lengths
        for i, n in enumerate(lengths):
            want = (batch['inputs'][name][i].numpy() - mean) / std
            np.testing.assert_allclose(out[name][i, :n].numpy(), want, rtol=1e-5, atol=1e-5)
            assert (out[name][i, n:] == 0).all()
    assert torch.allclose(pre.denormalize(out['target'][0, :5]), batch['inputs']['target'][0][:5],
                          atol=1e-4)


def test_preprocessor_explicit_stats_and_tensors():
    pre = MODELS.build(dict(type='MotionPairDataPreprocessor', mean=[1.0, 2.0], std=[2.0, 4.0],
                            pad_value=-1.0))
    src = torch.ones(2, 3, 2)
    out = pre(dict(inputs=dict(source=src, target=[torch.zeros(1, 2), torch.zeros(2, 2)],
                               source_lengths=torch.tensor([3, 1])), data_samples=None))['inputs']
    assert out['source'][0].tolist() == [[0.0, -0.25]] * 3
    assert out['source'][1, 1:].eq(-1.0).all() and out['source_mask'].tolist() == [[True] * 3,
                                                                                   [True, False, False]]
    assert out['target'][0].tolist() == [[-0.5, -0.5], [-1.0, -1.0]]
    with pytest.raises(ValueError, match='no normalisation statistics'):
        MODELS.build(dict(type='MotionPairDataPreprocessor'))(
            dict(inputs=dict(source=[src[0]], target=[src[0]]), data_samples=[None]))
    with pytest.raises(KeyError, match='target'):
        pre(dict(inputs=dict(source=[src[0]]), data_samples=None))


def test_humanml3d_pipeline_on_target_and_instruction(triplet_root):
    """D trains the instruction-conditioned MDM on (target motion, instruction) with the standard
    HumanML3D transforms."""
    pipeline = [dict(type='LoadMotion'), dict(type='SampleCaption', test_mode=True),
                dict(type='CropMotion', test_mode=True), dict(type='NormalizeMotion'),
                dict(type='PackMotionInputs')]
    ds = _build(triplet_root, 'all', pipeline)
    out = ds[0]
    rec = _records(triplet_root)[0]
    tgt = np.load(triplet_root / rec['target_vecs'])
    n = out['inputs'].shape[0]
    assert n == (len(tgt) // 4) * 4
    mean = np.load(triplet_root / 'Mean.npy')
    std = np.load(triplet_root / 'Std.npy')
    np.testing.assert_allclose(out['inputs'].numpy(), (tgt[:n] - mean) / std, rtol=1e-5, atol=1e-5)
    assert out['data_samples'].gt_text == rec['instructions'][0]
    assert out['data_samples'].gt_texts == rec['instructions']


def test_errors(triplet_root, tmp_path):
    with pytest.raises(FileNotFoundError, match='not a directory'):
        _build(tmp_path / 'nope')
    with pytest.raises(FileNotFoundError, match='manifest.json'):
        _build(tmp_path)
    with pytest.raises(ValueError, match='split must be one of'):
        _build(triplet_root, 'training')
    bad = tmp_path / 'copy'
    shutil.copytree(triplet_root, bad)
    rec = _records(bad)[0]
    np.save(bad / rec['target_joints'], np.zeros((5, 22, 3), np.float32))
    with pytest.raises(ValueError, match='has 5 frames'):
        _build(bad, 'all')
    (bad / rec['target_joints']).unlink()
    with pytest.raises(FileNotFoundError, match=rec['target_joints'].split('/')[-1]):
        _build(bad, 'all')
    (bad / 'manifest.json').write_text(json.dumps(dict(name='SynthMotion')))
    with pytest.raises(ValueError, match='CigTimeTriplets'):
        _build(bad, 'all')

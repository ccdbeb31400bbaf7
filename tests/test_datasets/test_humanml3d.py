"""HumanML3DDataset / KITDataset: index rules of the T2M loader, pipelines, errors, real sample."""
import shutil
from pathlib import Path

import numpy as np
import pytest
import torch
from torch.utils.data import DataLoader

from motionkit.datasets import HumanML3DDataset, KITDataset, motion_collate, parse_caption_line
from motionkit.datasets.transforms import (CropMotion, LoadMotion, NormalizeMotion,
                                           PackMotionInputs, SampleCaption)

D = 263

# motion id -> number of frames
LENGTHS = {
    '000001': 100,
    '000002': 196,
    '000003': 30,   # too short: dropped with its captions
    '000004': 210,  # too long (>= 200): dropped, even its valid 100-frame span
    '000005': 199,  # longest kept; only span captions -> no whole-motion sample
    '000006': 40,   # shortest kept
    '000007': 80,
}
TEXTS = {
    '000001': [
        'a person walks forward.#a/DET person/NOUN walk/VERB forward/ADV#0.0#0.0',
        'someone takes a stroll.#someone/PRON take/VERB a/DET stroll/NOUN#0.0#0.0',
        'a person waves with the left hand.#a/DET person/NOUN wave/VERB with/ADP the/DET '
        'left/ADJ hand/NOUN#1.0#3.5',                                     # frames 20:70 -> kept
        'a person nods.#a/DET person/NOUN nod/VERB#0.5#2.0',               # 10:40 = 30 -> dropped
    ],
    '000002': [
        'a man jumps twice.#a/DET man/NOUN jump/VERB twice/ADV#0.0#0.0',
        'a man runs.#a/DET man/NOUN run/VERB#0.0#9.0',                     # 0:180 -> kept
    ],
    '000003': ['a person sits down.#a/DET person/NOUN sit/VERB down/ADP#0.0#0.0'],
    '000004': [
        'a person dances.#a/DET person/NOUN dance/VERB#0.0#0.0',
        'a person spins.#a/DET person/NOUN spin/VERB#0.0#5.0',
    ],
    '000005': ['a person kicks.#a/DET person/NOUN kick/VERB#2.0#5.0'],    # 40:100 -> kept
    '000006': [
        'a person bows.#a/DET person/NOUN bow/VERB#0.0#0.0',
        'a person bows deeply.#a/DET person/NOUN bow/VERB deeply/ADV#1.0#10.0',  # 20:40 -> dropped
    ],
    '000007': ['a person turns around.#a/DET person/NOUN turn/VERB around/ADV#nan#nan'],
}
EXPECTED_TRAIN = ['000001_seg2', '000001', '000002_seg1', '000002', '000005_seg0', '000006',
                  '000007']


def smooth_motion(rng, frames, dim=D):
    return np.cumsum(rng.normal(scale=0.05, size=(frames, dim)), axis=0).astype(np.float32)


def make_layout(root: Path, seed: int = 0) -> Path:
    rng = np.random.default_rng(seed)
    for sub in ('new_joint_vecs', 'new_joints', 'texts'):
        (root / sub).mkdir(parents=True, exist_ok=True)
    for motion_id, frames in LENGTHS.items():
        np.save(root / 'new_joint_vecs' / f'{motion_id}.npy', smooth_motion(rng, frames))
        np.save(root / 'new_joints' / f'{motion_id}.npy',
                rng.normal(size=(frames, 22, 3)).astype(np.float32))
        (root / 'texts' / f'{motion_id}.txt').write_text('\n'.join(TEXTS[motion_id]) + '\n')
    (root / 'train.txt').write_text('\n'.join(LENGTHS) + '\n')
    (root / 'test.txt').write_text('000001\n000006\n')
    (root / 'val.txt').write_text('\n\n')
    (root / 'filtered.txt').write_text('000003\n000004\n')
    np.save(root / 'Mean.npy', np.linspace(-1, 1, D).astype(np.float32))
    np.save(root / 'Std.npy', np.full(D, 2.0, np.float32))
    return root


@pytest.fixture
def hml_root(tmp_path):
    return make_layout(tmp_path / 'HumanML3D')


def train_pipeline():
    return [dict(type=LoadMotion), dict(type=SampleCaption), dict(type=CropMotion),
            dict(type=NormalizeMotion), dict(type=PackMotionInputs)]


def test_parse_caption_line():
    text = parse_caption_line('a man walks.#a/DET man/NOUN walk/VERB#1.5#nan\n')
    assert text == dict(caption='a man walks.', tokens=['a/DET', 'man/NOUN', 'walk/VERB'],
                        start=1.5, end=0.0)


def test_index_follows_t2m_rules(hml_root):
    ds = HumanML3DDataset(str(hml_root), ann_file='train.txt')
    ids = [ds.get_data_info(i)['sample_id'] for i in range(len(ds))]
    assert ids == EXPECTED_TRAIN
    assert dict(ds.filter_stats) == dict(motion_too_short=1, motion_too_long=1,
                                         segment_too_short=2, no_whole_caption=1)
    info = {ds.get_data_info(i)['sample_id']: ds.get_data_info(i) for i in range(len(ds))}
    # whole-motion captions are pooled; span captions are samples of their own
    assert [t['caption'] for t in info['000001']['texts']] == [
        'a person walks forward.', 'someone takes a stroll.']
    assert (info['000001_seg2']['start_frame'], info['000001_seg2']['end_frame'],
            info['000001_seg2']['length']) == (20, 70, 50)
    assert (info['000002_seg1']['start_frame'], info['000002_seg1']['length']) == (0, 180)
    assert (info['000005_seg0']['start_frame'], info['000005_seg0']['end_frame']) == (40, 100)
    assert info['000007']['texts'][0]['start'] == 0.0  # nan#nan counts as the whole motion
    assert ds.lengths.tolist() == [50, 100, 180, 196, 60, 40, 80]
    meta = ds.metainfo
    assert (meta['fps'], meta['feature_dim'], meta['skeleton'], meta['representation']) == (
        20, 263, 't2m22', 'HumanML3DFeatures')
    assert meta['mean_path'] == str(hml_root / 'Mean.npy')
    assert meta['std_path'] == str(hml_root / 'Std.npy')
    # every metainfo value is plain Python (it goes into checkpoint meta)
    assert all(isinstance(v, (int, float, str, type(None))) for v in meta.values())


def test_split_segments_off_and_test_split(hml_root):
    ds = HumanML3DDataset(str(hml_root), ann_file='train.txt', split_segments=False)
    assert [ds.get_data_info(i)['sample_id'] for i in range(len(ds))] == [
        '000001', '000002', '000006', '000007']
    test = HumanML3DDataset(str(hml_root), ann_file='test.txt')
    assert len(test) == 3  # 000001, its waving span, 000006


def test_min_length_override_keeps_more(hml_root):
    ds = HumanML3DDataset(str(hml_root), ann_file='train.txt', min_motion_length=24)
    ids = {ds.get_data_info(i)['sample_id'] for i in range(len(ds))}
    # 000003 (30 frames), the 30-frame nod span, and 000006's 20-frame span stays out
    assert ids == set(EXPECTED_TRAIN) | {'000003', '000001_seg3'}


def test_pipeline_outputs(hml_root):
    np.random.seed(0)
    ds = HumanML3DDataset(str(hml_root), ann_file='train.txt', pipeline=train_pipeline())
    mean = np.linspace(-1, 1, D).astype(np.float32)
    for i in range(len(ds)):
        out = ds[i]
        sample = out['data_samples']
        x = out['inputs']
        info = ds.get_data_info(i)
        assert x.dtype == torch.float32 and x.shape[1] == D
        length = sample.metainfo['length']
        assert x.shape[0] == length and length % 4 == 0 and length <= 196
        assert length in (info['length'] // 4 * 4, (info['length'] // 4 - 1) * 4)
        # the cropped window, normalised with the dataset statistics
        raw = np.load(info['motion_path'])[info['start_frame']:info['end_frame']]
        start = sample.metainfo['crop_start']
        expected = (raw[start:start + length] - mean) / 2.0
        np.testing.assert_allclose(x.numpy(), expected, rtol=1e-6, atol=1e-6)
        assert sample.gt_text in [t['caption'] for t in info['texts']]
        assert len(sample.gt_tokens) == 22 and sample.gt_tokens[0] == 'sos/OTHER'
        assert sample.metainfo['sample_id'] == info['sample_id']


def test_test_mode_is_deterministic(hml_root):
    pipeline = [dict(type=LoadMotion), dict(type=SampleCaption, test_mode=True),
                dict(type=CropMotion, test_mode=True), dict(type=NormalizeMotion),
                dict(type=PackMotionInputs)]
    ds = HumanML3DDataset(str(hml_root), ann_file='train.txt', pipeline=pipeline,
                          test_mode=True)
    first = [ds[i] for i in range(len(ds))]
    np.random.seed(123)
    second = [ds[i] for i in range(len(ds))]
    for a, b in zip(first, second):
        assert torch.equal(a['inputs'], b['inputs'])
        assert a['data_samples'].gt_text == b['data_samples'].gt_text
    by_id = {o['data_samples'].metainfo['sample_id']: o for o in first}
    assert by_id['000001']['data_samples'].gt_text == 'a person walks forward.'
    assert by_id['000005_seg0']['inputs'].shape[0] == 60
    assert by_id['000002']['inputs'].shape[0] == 196
    assert by_id['000002']['data_samples'].metainfo['crop_start'] == 0


def test_dataloader_with_collate(hml_root):
    ds = HumanML3DDataset(str(hml_root), ann_file='train.txt', pipeline=train_pipeline())
    loader = DataLoader(ds, batch_size=3, shuffle=False, collate_fn=motion_collate)
    batches = list(loader)
    assert [len(b['data_samples']) for b in batches] == [3, 3, 1]
    for batch in batches:
        motion, mask, lengths = (batch['inputs'][k] for k in ('motion', 'mask', 'lengths'))
        assert motion.shape[:2] == mask.shape and motion.shape[1] == int(lengths.max())
        assert mask.sum(1).tolist() == lengths.tolist()
        assert lengths.tolist() == [s.metainfo['length'] for s in batch['data_samples']]
        assert torch.all(motion[~mask] == 0)


def test_runner_builds_dataloader_from_config(hml_root):
    from mmengine.runner import Runner
    from mmengine.registry import DefaultScope
    cfg = dict(batch_size=2, num_workers=0, sampler=dict(type='DefaultSampler', shuffle=False),
               collate_fn=dict(type='motionkit.motion_collate'),
               dataset=dict(type='HumanML3DDataset', data_root=str(hml_root),
                            ann_file='test.txt',
                            pipeline=[dict(type='LoadMotion'),
                                      dict(type='SampleCaption', test_mode=True),
                                      dict(type='CropMotion', test_mode=True),
                                      dict(type='PackMotionInputs')]))
    with DefaultScope.overwrite_default_scope('motionkit'):
        loader = Runner.build_dataloader(cfg, seed=0)
        batch = next(iter(loader))
    assert batch['inputs']['lengths'].tolist() == [48, 100]
    assert batch['inputs']['motion'].shape == (2, 100, D)


def test_joints_loading_and_kit(hml_root, tmp_path):
    ds = HumanML3DDataset(str(hml_root), ann_file='test.txt', with_joints=True,
                          pipeline=[dict(type=LoadMotion, with_joints=True),
                                    dict(type=CropMotion, test_mode=True),
                                    dict(type=PackMotionInputs, input_key='joints',
                                         gt_keys=('motion', ))])
    out = ds[0]
    info = ds.get_data_info(0)
    joints = np.load(info['joints_path'])[info['start_frame']:info['end_frame']]
    np.testing.assert_array_equal(out['inputs'].numpy(), joints[:out['inputs'].shape[0]])
    assert out['data_samples'].gt_motion.shape == (out['inputs'].shape[0], D)

    # KIT: 251-D, 24-frame minimum, 12.5 fps
    root = tmp_path / 'KIT-ML'
    (root / 'new_joint_vecs').mkdir(parents=True)
    (root / 'texts').mkdir()
    rng = np.random.default_rng(1)
    for motion_id, frames in (('00001', 24), ('00002', 23), ('00003', 150)):
        np.save(root / 'new_joint_vecs' / f'{motion_id}.npy', smooth_motion(rng, frames, 251))
        (root / 'texts' / f'{motion_id}.txt').write_text('a person walks.#a/DET person/NOUN '
                                                         'walk/VERB#0.0#0.0\n')
    (root / 'train.txt').write_text('00001\n00002\n00003\n')
    kit = KITDataset(str(root), mean_file=None, std_file=None)
    assert [kit.get_data_info(i)['motion_id'] for i in range(len(kit))] == ['00001', '00003']
    assert kit.metainfo['fps'] == 12.5 and kit.metainfo['feature_dim'] == 251
    assert kit.metainfo['mean_path'] is None


# ---------------------------------------------------------------------------- bad inputs
def test_wrong_feature_width_names_file(hml_root):
    np.save(hml_root / 'new_joint_vecs' / '000001.npy', np.zeros((100, 251), np.float32))
    with pytest.raises(ValueError, match=r'000001\.npy.*\(100, 251\)'):
        HumanML3DDataset(str(hml_root), ann_file='train.txt')


def test_nan_motion_names_file(hml_root):
    bad = smooth_motion(np.random.default_rng(0), 100)
    bad[7, 3] = np.nan
    bad[9, 0] = np.inf
    np.save(hml_root / 'new_joint_vecs' / '000001.npy', bad)
    ds = HumanML3DDataset(str(hml_root), ann_file='test.txt', pipeline=train_pipeline(),
                          test_mode=True)
    with pytest.raises(ValueError, match=r'000001\.npy.*1 NaN and 1 inf.*first bad frame 7'):
        ds[1]  # the whole-motion sample of 000001


def test_missing_text_file(hml_root):
    (hml_root / 'texts' / '000002.txt').unlink()
    with pytest.raises(FileNotFoundError, match=r'texts/000002\.txt not found.*train\.txt'):
        HumanML3DDataset(str(hml_root), ann_file='train.txt')
    ds = HumanML3DDataset(str(hml_root), ann_file='train.txt', skip_missing=True)
    assert len(ds) == len(EXPECTED_TRAIN) - 2 and ds.filter_stats['missing_files'] == 1
    ds = HumanML3DDataset(str(hml_root), ann_file='train.txt', with_texts=False)
    assert len(ds) == 5  # one caption-less sample per motion of valid length


def test_missing_motion_file(hml_root):
    (hml_root / 'new_joint_vecs' / '000006.npy').unlink()
    with pytest.raises(FileNotFoundError, match=r'new_joint_vecs/000006\.npy not found'):
        HumanML3DDataset(str(hml_root), ann_file='test.txt')


@pytest.mark.parametrize('line, message', [
    ('a man walks.#a/DET man/NOUN#0.0', r'expected 4 "#"-separated fields.*got 3'),
    ('a man walks.#a/DET man/NOUN#0.0#0.0#1', r'expected 4 "#"-separated fields.*got 5'),
    ('a man walks.#a/DET man walk/VERB#0.0#0.0', r"tokens must be word/POS, got \['man'\]"),
    ('a man walks.##0.0#0.0', r'no word/POS tokens'),
    ('a man walks.#a/DET#zero#0.0', r"from time 'zero' is not a number"),
])
def test_malformed_caption_line(hml_root, line, message):
    path = hml_root / 'texts' / '000007.txt'
    path.write_text('fine caption.#fine/ADJ caption/NOUN#0.0#0.0\n' + line + '\n')
    with pytest.raises(ValueError, match=r'texts/000007\.txt, line 2: ' + message):
        HumanML3DDataset(str(hml_root), ann_file='train.txt')


def test_empty_and_fully_filtered_split(hml_root):
    with pytest.raises(ValueError, match=r'split file .*val\.txt is empty'):
        HumanML3DDataset(str(hml_root), ann_file='val.txt')
    with pytest.raises(ValueError, match=r'no sample left from split file .*filtered\.txt.*'
                       r'motion_too_long=1, motion_too_short=1'):
        HumanML3DDataset(str(hml_root), ann_file='filtered.txt')
    with pytest.raises(FileNotFoundError, match=r'split file not found: .*nope\.txt'):
        HumanML3DDataset(str(hml_root), ann_file='nope.txt')


def test_missing_or_bad_mean_std(hml_root):
    (hml_root / 'Std.npy').unlink()
    with pytest.raises(FileNotFoundError, match=r'std file not found: .*Std\.npy.*mean_file=None'):
        HumanML3DDataset(str(hml_root), ann_file='test.txt')
    ds = HumanML3DDataset(str(hml_root), ann_file='test.txt', mean_file=None, std_file=None,
                          pipeline=[dict(type=LoadMotion), dict(type=NormalizeMotion)])
    with pytest.raises(ValueError, match='NormalizeMotion: no statistics'):
        ds[0]
    np.save(hml_root / 'Std2.npy', np.zeros(D, np.float32))
    with pytest.raises(ValueError, match=r'Std2\.npy: standard deviation must be > 0'):
        HumanML3DDataset(str(hml_root), ann_file='test.txt', std_file='Std2.npy')
    np.save(hml_root / 'Std3.npy', np.ones(251, np.float32))
    with pytest.raises(ValueError, match=r'Mean\.npy has shape \(263,\) but .*Std3\.npy has'):
        HumanML3DDataset(str(hml_root), ann_file='test.txt', std_file='Std3.npy')


# ---------------------------------------------------------------------------- real data
def test_real_reference_sample_without_texts(shared_data, tmp_path):
    ref = shared_data / 'humanml3d_reference'
    split = tmp_path / 'one.txt'
    split.write_text('012314\n')
    ds = HumanML3DDataset(str(ref), ann_file=str(split), with_texts=False, with_joints=True,
                          pipeline=[dict(type=LoadMotion, with_joints=True),
                                    dict(type=CropMotion, test_mode=True),
                                    dict(type=NormalizeMotion),
                                    dict(type=PackMotionInputs)])
    assert len(ds) == 1 and ds.get_data_info(0)['length'] == 170
    out = ds[0]
    raw = np.load(ref / 'new_joint_vecs' / '012314.npy')
    mean, std = np.load(ref / 'Mean.npy'), np.load(ref / 'Std.npy')
    assert out['inputs'].shape == (168, 263)  # 170 -> multiple of 4
    np.testing.assert_allclose(out['inputs'].numpy(), (raw[:168] - mean) / std, rtol=1e-5,
                               atol=1e-5)
    # hand-checked: frame 0, feature 3 (root height 0.8369993), mean 0.93855059, std 0.15376593
    assert out['inputs'][0, 3].item() == pytest.approx((0.8369993 - 0.93855059) / 0.15376593,
                                                       rel=1e-5)
    assert out['data_samples'].gt_joints.shape == (168, 22, 3)
    assert 'gt_texts' not in out['data_samples']

    # the published split lists 23,384 train ids; only the reference sample is present
    ds = HumanML3DDataset(str(ref), ann_file='train.txt', with_texts=False, skip_missing=True)
    assert len(ds) == 1 and ds.filter_stats['missing_files'] == 23383


def test_real_reference_sample_with_written_caption(shared_data, tmp_path):
    ref = shared_data / 'humanml3d_reference'
    root = tmp_path / 'hml'
    (root / 'new_joint_vecs').mkdir(parents=True)
    (root / 'texts').mkdir()
    shutil.copy(ref / 'new_joint_vecs' / '012314.npy', root / 'new_joint_vecs')
    (root / 'texts' / '012314.txt').write_text(
        'a person serves a tennis ball.#a/DET person/NOUN serve/VERB a/DET tennis/NOUN '
        'ball/NOUN#0.0#0.0\n'
        'a person swings the right arm.#a/DET person/NOUN swing/VERB the/DET right/ADJ '
        'arm/NOUN#1.5#6.0\n')
    (root / 'train.txt').write_text('012314\n')
    ds = HumanML3DDataset(str(root), mean_file=str(ref / 'Mean.npy'),
                          std_file=str(ref / 'Std.npy'),
                          pipeline=[dict(type=LoadMotion), dict(type=SampleCaption, test_mode=True),
                                    dict(type=PackMotionInputs)])
    assert len(ds) == 2
    seg = [ds[i] for i in range(2) if ds.get_data_info(i)['sample_id'] == '012314_seg1'][0]
    raw = np.load(ref / 'new_joint_vecs' / '012314.npy')
    np.testing.assert_array_equal(seg['inputs'].numpy(), raw[30:120])  # int(1.5*20):int(6*20)
    assert seg['data_samples'].gt_text == 'a person swings the right arm.'
    assert seg['data_samples'].metainfo['start_frame'] == 30

"""HumanML3D-format writer, POS tagger and the CMU+Bandai build (session fixture in ../conftest.py)."""
import json
import warnings

import numpy as np
import pytest

from motionkit.datasets.importers import (FrameRateMismatchWarning, HumanML3DWriter, block_std, build_cmu_bandai,
                                          caption_line, split_of, split_windows, tag_caption)
from motionkit.datasets.humanml3d import load_caption_file, parse_caption_line
from motionkit.motion.humanml3d import HumanML3DFeatures


def test_tagger_on_motion_captions():
    assert tag_caption('A person walks forward and turns left.') == [
        'a/DET', 'person/NOUN', 'walk/VERB', 'forward/ADV', 'and/CCONJ', 'turn/VERB', 'left/ADV']
    assert tag_caption('a man kicks something with his left leg') == [
        'a/DET', 'man/NOUN', 'kick/VERB', 'something/PRON', 'with/ADP', 'his/DET', 'left/ADJ', 'leg/NOUN']
    assert tag_caption('the person is running, then stops to jump twice') == [
        'the/DET', 'person/NOUN', 'be/AUX', 'run/VERB', 'then/ADV', 'stop/VERB', 'to/PART', 'jump/VERB',
        'twice/ADV']
    # A verb/noun word is a noun after a determiner or adjective; plural and irregular lemmas.
    assert tag_caption('takes a jump on both feet') == ['take/VERB', 'a/DET', 'jump/NOUN', 'on/ADP', 'both/DET',
                                                        'foot/NOUN']
    assert tag_caption('wave left hand (youthful style)') == ['wave/VERB', 'left/ADJ', 'hand/NOUN',
                                                              'youthful/ADJ', 'style/NOUN']


def test_caption_line_parses_back():
    line = caption_line('walk (happy style)')
    assert line == 'walk (happy style)#walk/VERB happy/ADJ style/NOUN#0.0#0.0'
    parsed = parse_caption_line(line)
    assert parsed['caption'] == 'walk (happy style)' and parsed['tokens'][0] == 'walk/VERB'
    with pytest.raises(ValueError, match='"#"'):
        caption_line('a # b')
    with pytest.raises(ValueError, match='empty'):
        caption_line('  ')


def test_split_of_is_deterministic_and_proportional():
    assert split_of('cmu_02_01') == split_of('cmu_02_01')
    counts = {'train': 0, 'val': 0, 'test': 0}
    for k in range(4000):
        counts[split_of(f'id{k}')] += 1
    assert abs(counts['train'] / 4000 - 0.80) < 0.03
    assert abs(counts['val'] / 4000 - 0.05) < 0.015
    with pytest.raises(ValueError):
        split_of('x', (0.5, 0.5, 0.5))


def test_split_windows():
    assert split_windows(39) == []
    assert split_windows(40) == [(0, 40)]
    assert split_windows(196) == [(0, 196)]
    assert split_windows(197) == [(0, 98), (98, 197)]
    w = split_windows(1000)
    assert w[0][0] == 0 and w[-1][1] == 1000 and len(w) == 6
    assert all(98 <= b - a <= 196 for a, b in w)


def test_block_std_is_constant_per_block():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(500, 263)) * np.linspace(0.1, 3, 263)
    s = block_std(x)
    for a, b in [(0, 1), (1, 3), (3, 4), (4, 67), (67, 193), (193, 259), (259, 263)]:
        assert np.allclose(s[a:b], x.std(0)[a:b].mean())


def _walk(t=30):
    """A rigid t2m22 rest pose translating along +Z at 1 m/s (20 fps)."""
    from motionkit.motion.humanml3d import humanml3d_target_offsets
    from motionkit.motion.skeletons import get_skeleton
    sk = get_skeleton('t2m22')
    off = humanml3d_target_offsets()
    pose = np.zeros((22, 3))
    for j in sk.topological_order[1:]:
        pose[j] = pose[sk.parents[j]] + off[j]
    pose[:, 1] -= pose[:, 1].min()
    return pose[None] + np.arange(t)[:, None, None] * np.array([0.0, 0.0, 0.05])


def test_writer_layout_resume_and_stats(tmp_path):
    w = HumanML3DWriter(tmp_path)
    ids = [f'm{k}' for k in range(12)]
    for k, mid in enumerate(ids):
        w.write(mid, _walk(30 + k), ['a person walks forward'], dict(source=f's{k}.bvh'), group=f'g{k}')
    assert w.has('m3') and not w.has('m99')
    counts = w.finalize()
    assert counts['all'] == 12 and counts['train'] + counts['val'] + counts['test'] == 12
    j = np.load(tmp_path / 'new_joints/m2.npy')
    v = np.load(tmp_path / 'new_joint_vecs/m2.npy')
    assert j.shape == (32, 22, 3) and j.dtype == np.float32 and v.shape == (31, 263)
    np.testing.assert_allclose(v, HumanML3DFeatures(root_angular_velocity='wrapped').encode(j.astype(np.float64)),
                               atol=1e-5)
    assert load_caption_file(str(tmp_path / 'texts/m2.txt'))[0]['tokens'][:3] == ['a/DET', 'person/NOUN', 'walk/VERB']
    train = (tmp_path / 'train.txt').read_text().split()
    feats = np.concatenate([np.load(tmp_path / f'new_joint_vecs/{i}.npy') for i in train])
    np.testing.assert_allclose(np.load(tmp_path / 'Mean.npy'), feats.mean(0), atol=1e-5)
    assert np.load(tmp_path / 'Std.npy').shape == (263,) and (np.load(tmp_path / 'Std.npy') > 0).all()
    recs = [json.loads(line) for line in (tmp_path / 'manifest.jsonl').read_text().splitlines()]
    assert [r['id'] for r in recs] == ids and recs[0]['source'] == 's0.bvh'
    assert not list(tmp_path.rglob('*.tmp'))
    # Resume: a new writer sees what is done; a cut manifest line is ignored (that id is rebuilt).
    with open(tmp_path / 'manifest.jsonl', 'a') as f:
        f.write('{"id": "m12", "spl')
    w2 = HumanML3DWriter(tmp_path)
    assert all(w2.has(i) for i in ids) and not w2.has('m12')


def test_writer_rejects_bad_input(tmp_path):
    w = HumanML3DWriter(tmp_path)
    with pytest.raises(ValueError, match=r'bad: joints must have shape \(T>=2, 22, 3\)'):
        w.write('bad', np.zeros((10, 21, 3)), ['x'], {})
    with pytest.raises(ValueError, match='motion id'):
        w.write('a/b', _walk(), ['x'], {})
    with pytest.raises(ValueError, match='no motion written'):
        w.finalize()


def test_cmu_bandai_build(cmu_bandai_dataset, shared_data):
    out, summary, caught = cmu_bandai_dataset
    recs = {json.loads(line)['id']: json.loads(line) for line in (out / 'manifest.jsonl').read_text().splitlines()}
    # 01_01 (2,751 frames at 120 fps -> 459 at 20 fps) gives 3 windows; 09_01 (1.1 s) is too short.
    assert set(recs) == {'cmu_01_01_w00', 'cmu_01_01_w01', 'cmu_01_01_w02', 'cmu_02_01', 'cmu_daz_02_01',
                         'cmu_amc_16_01_w00', 'cmu_amc_16_01_w01', 'bandai_d1_kick_normal_001_w00',
                         'bandai_d1_kick_normal_001_w01',
                         'bandai_d1_walk_happy_001', 'bandai_d2_wave-left-hand_normal_001'}
    assert [s['source'] for s in summary['too_short']] == ['cmu_mocap/bvh/09_01.bvh']
    assert {'cmu_01_01_w00', 'cmu_01_01_w01', 'cmu_01_01_w02'} <= set(recs)
    assert recs['cmu_01_01_w00']['window'] == [0, 153] and recs['cmu_01_01_w02']['window'][1] == 459
    assert recs['cmu_02_01']['captions'] == ['walk'] and recs['cmu_daz_02_01']['group'] == 'cmu_02_01'
    assert recs['cmu_02_01']['split'] == recs['cmu_daz_02_01']['split']  # one clip, one split
    assert recs['bandai_d1_walk_happy_001']['captions'] == ['walk (happy style)']
    assert recs['cmu_02_01']['sha256'] == \
        __import__('hashlib').sha256((shared_data / 'cmu_mocap/bvh/02_01.bvh').read_bytes()).hexdigest()
    for mid, r in recs.items():
        j = np.load(out / 'new_joints' / f'{mid}.npy')
        v = np.load(out / 'new_joint_vecs' / f'{mid}.npy')
        assert v.shape == (j.shape[0] - 1, 263) and 40 <= v.shape[0] <= 196
        assert j[:, [7, 10, 8, 11], 1].min() == pytest.approx(0.0, abs=1e-6)
        np.testing.assert_allclose(j[0, 0, [0, 2]], 0.0, atol=1e-6)
    # The 30-vs-120 fps file warned, naming the file and how to override; the header was used.
    msgs = [str(w.message) for w in caught if issubclass(w.category, FrameRateMismatchWarning)]
    assert len(msgs) == 1 and 'bvh_other/16_01.bvh' in msgs[0] and '--fps-override' in msgs[0]
    assert recs['cmu_amc_16_01_w00']['source_fps'] == pytest.approx(30.0, rel=1e-3)
    assert recs['cmu_amc_16_01_w00']['fps_source'] == 'header'
    assert sorted((out / 'all.txt').read_text().split()) == sorted(recs)
    # The encoding is recorded in the build config and in every record (issue #17).
    wrapped = dict(representation='HumanML3DFeatures', root_angular_velocity='wrapped')
    assert json.loads((out / 'build_config.json').read_text())['feature_encoding'] == wrapped
    assert all(r['feature_encoding'] == wrapped for r in recs.values())


def test_cmu_bandai_dataset_loads(cmu_bandai_dataset):
    from motionkit.datasets import HumanML3DDataset
    out, _, _ = cmu_bandai_dataset
    ds = HumanML3DDataset(data_root=str(out), ann_file='all.txt', pipeline=[])
    ids = (out / 'all.txt').read_text().split()
    assert len(ds) == len(ids) == 11  # every window passes the loader's 40..196-frame filter
    # The encoding the builder recorded reaches the dataset and every item (issue #17).
    assert ds.metainfo['feature_encoding'] == 'wrapped' and ds.get_data_info(0)['feature_encoding'] == 'wrapped'


def test_read_feature_encoding(shared_data, tmp_path):
    from motionkit.datasets import read_feature_encoding
    # HumanML3D as released has no record: the official encoding.
    assert read_feature_encoding(str(shared_data / 'humanml3d_reference')) == 'official'
    lines = [dict(id='a', feature_encoding=dict(root_angular_velocity='wrapped')),
             dict(id='b', feature_encoding=dict(root_angular_velocity='official'))]
    (tmp_path / 'manifest.jsonl').write_text(''.join(json.dumps(r) + '\n' for r in lines))
    with pytest.raises(ValueError, match=r"manifest.jsonl, line 2: motion 'b' was encoded with 'official'"):
        read_feature_encoding(str(tmp_path))
    (tmp_path / 'manifest.json').write_text(json.dumps(dict(feature_encoding=dict(root_angular_velocity='x'))))
    with pytest.raises(ValueError, match=r"manifest.json: feature_encoding.root_angular_velocity must be one of"):
        read_feature_encoding(str(tmp_path))


def test_fps_override_and_resume(shared_data, tmp_path):
    kw = dict(include=['bvh_other/16_01.bvh'], progress=False)
    with warnings.catch_warnings():
        warnings.simplefilter('error', FrameRateMismatchWarning)  # the override silences the warning
        s1 = build_cmu_bandai(tmp_path, shared_data, fps_overrides={'16_01.bvh': 120}, **kw)
    rec = json.loads((tmp_path / 'manifest.jsonl').read_text().splitlines()[0])
    assert rec['fps_source'] == 'override' and rec['source_fps'] == 120
    assert rec['header_fps'] == pytest.approx(30, rel=1e-3)
    assert s1['written'] == ['cmu_amc_16_01'] and rec['frames'] == 54  # 322 frames / 6
    s2 = build_cmu_bandai(tmp_path, shared_data, fps_overrides={'16_01.bvh': 120}, **kw)
    assert s2['written'] == [] and s2['resumed'] == ['cmu_amc_16_01']
    with pytest.raises(ValueError, match='matches no BVH'):
        build_cmu_bandai(tmp_path, shared_data, fps_overrides={'nope.bvh': 120}, **kw)


def test_cmu_bandai_build_of_a_clip_crossing_180_degrees(shared_data, tmp_path):
    # CMU 05_06 (modern dance) turns past 180 degrees once: the stored features decode back to the
    # stored joints; an official build of the same clip drifts by more than 0.1 m on average.
    kw = dict(include=['bvh/05_06.bvh'], progress=False)
    build_cmu_bandai(tmp_path / 'wrapped', shared_data, **kw)
    build_cmu_bandai(tmp_path / 'official', shared_data, root_angular_velocity='official', **kw)
    rep = HumanML3DFeatures()
    for name, bound in (('wrapped', (0.0, 1e-4)), ('official', (0.1, 1.0))):
        j = np.load(tmp_path / name / 'new_joints/cmu_05_06.npy')
        v = np.load(tmp_path / name / 'new_joint_vecs/cmu_05_06.npy')
        err = np.linalg.norm(rep.decode(v) + np.array([0, j[..., 1].min(), 0]) - j[:-1], axis=-1).mean()
        assert bound[0] <= err < bound[1], (name, err)
        rec = json.loads((tmp_path / name / 'manifest.jsonl').read_text())
        assert rec['feature_encoding']['root_angular_velocity'] == name


def test_cli_parses_overrides():
    import importlib.util
    from pathlib import Path
    path = Path(__file__).resolve().parents[3] / 'tools/data/import_bvh.py'
    spec = importlib.util.spec_from_file_location('import_bvh', path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    args = mod.parse_args(['--cmu', 'c', '--out', 'o', '--fps-override', 'bvh_other/16_01.bvh=120'])
    assert args.fps_override == [('bvh_other/16_01.bvh', 120.0)]
    assert args.root_angular_velocity == 'wrapped'
    assert mod.parse_args(['--cmu', 'c', '--out', 'o', '--root-angular-velocity', 'official']
                          ).root_angular_velocity == 'official'
    with pytest.raises(SystemExit):
        mod.parse_args(['--cmu', 'c', '--out', 'o', '--fps-override', 'x=abc'])


def test_writer_encodes_wrapped_records_it_and_refuses_to_mix(tmp_path):
    # Issue #17: a clip turning past 180 degrees is stored with the wrapped root angular velocity,
    # every record says so, and its features decode back to its joints.
    from tests.test_motion.test_humanml3d import circle_walk
    joints = circle_walk(turns=1.25).astype(np.float32)
    w = HumanML3DWriter(tmp_path)
    rec = w.write('turn', joints, ['a person walks in a circle'], dict(source='synthetic'))
    wrapped = dict(representation='HumanML3DFeatures', root_angular_velocity='wrapped')
    assert rec['feature_encoding'] == wrapped
    assert json.loads((tmp_path / 'manifest.jsonl').read_text())['feature_encoding'] == wrapped
    v = np.load(tmp_path / 'new_joint_vecs/turn.npy')
    official = HumanML3DFeatures().encode(joints.astype(np.float64))
    assert (np.abs(v[:, 0] - official[:, 0]) > 1e-3).sum() == 1  # the one frame crossing 180 degrees
    dec = HumanML3DFeatures().decode(v) + np.array([0, joints[..., 1].min(), 0])
    assert np.linalg.norm(dec - joints[:-1], axis=-1).max() < 1e-4  # float32 storage, < 0.1 mm
    # Resuming with the other encoding, or over records written before the entry existed (official),
    # raises instead of mixing two kinds of features in one dataset.
    with pytest.raises(ValueError, match=r"manifest.jsonl, line 1: motion 'turn' was written with.*wrapped.*official"):
        HumanML3DWriter(tmp_path, HumanML3DFeatures())
    old = tmp_path / 'old'
    old.mkdir()
    (old / 'manifest.jsonl').write_text(json.dumps(dict(id='m0', split='train')) + '\n')
    with pytest.raises(ValueError, match=r"'m0' was written with.*'official'"):
        HumanML3DWriter(old)
    assert HumanML3DWriter(old, HumanML3DFeatures()).has('m0') is False  # same encoding: resumes

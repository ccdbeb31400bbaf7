import json
import os

import numpy as np
import pytest

from motionkit.synthmotion import build_synthmotion
from motionkit.synthmotion import build as build_mod
from motionkit.registry import DATASETS


def _tree_bytes(root):
    out = {}
    for dp, _, files in os.walk(root):
        for f in files:
            p = os.path.join(dp, f)
            with open(p, 'rb') as fh:
                out[os.path.relpath(p, root)] = fh.read()
    return out


def test_same_seed_same_bytes_and_resume(tmp_path, monkeypatch):
    a, b, c = tmp_path / 'a', tmp_path / 'b', tmp_path / 'c'
    build_synthmotion(a, 14, seed=2, progress=False, num_feedback=3)
    build_synthmotion(b, 14, seed=2, progress=False, num_feedback=3)
    ta, tb = _tree_bytes(a), _tree_bytes(b)
    assert ta.keys() == tb.keys() and all(ta[k] == tb[k] for k in ta)
    # an interrupted build resumes and ends with the same files
    calls = {'n': 0}
    real = build_mod.make_feedback_pair

    def flaky(*args, **kw):
        calls['n'] += 1
        if calls['n'] == 2:
            raise KeyboardInterrupt
        return real(*args, **kw)
    monkeypatch.setattr(build_mod, 'make_feedback_pair', flaky)
    with pytest.raises(KeyboardInterrupt):
        build_synthmotion(c, 14, seed=2, progress=False, num_feedback=3)
    assert not (c / 'manifest.json').exists() and (c / '.partial').is_dir()
    monkeypatch.setattr(build_mod, 'make_feedback_pair', real)
    build_synthmotion(c, 14, seed=2, progress=False, num_feedback=3)
    tc = _tree_bytes(c)
    assert tc.keys() == ta.keys() and all(tc[k] == ta[k] for k in ta)
    # another seed gives other data; another config in the same folder is refused
    with pytest.raises(FileExistsError):
        build_synthmotion(a, 14, seed=3, progress=False)


def test_build_layout(tmp_path):
    out = build_synthmotion(tmp_path / 'd', 20, seed=4, progress=False, num_feedback=2)
    man = json.loads((out / 'manifest.json').read_text())
    assert man['synthetic'] is True and man['counts']['motions'] == 20
    ids = (out / 'all.txt').read_text().split()
    assert len(ids) == 20
    for i in ids:
        j = np.load(out / 'new_joints' / f'{i}.npy')
        f = np.load(out / 'new_joint_vecs' / f'{i}.npy')
        assert j.dtype == np.float32 and f.shape == (len(j) - 1, 263)
        assert len((out / 'texts' / f'{i}.txt').read_text().strip().split('\n')) == 3
    assert np.load(out / 'Mean.npy').shape == (263,) and (np.load(out / 'Std.npy') > 0).all()
    progs = [json.loads(l) for l in (out / 'synthmotion' / 'programs.jsonl').read_text().splitlines()]
    assert [p['id'] for p in progs] == ids
    trips = [json.loads(l) for l in (out / 'synthmotion' / 'triplets.jsonl').read_text().splitlines()]
    assert trips and all((out / t['target_joints']).is_file() for t in trips)
    fb = [json.loads(l) for l in (out / 'synthmotion' / 'feedback.jsonl').read_text().splitlines()]
    assert len(fb) == 2 and all((out / fb[0]['files'][r]['coco17']).is_file() for r in ('novice', 'expert'))
    classes = json.loads((out / 'synthmotion' / 'classes.json').read_text())['classes']
    assert sum(c['count'] for c in classes) == sum(len(p['labels']) for p in progs)


def test_humanml3d_round_trip(synth_items):
    # Every generated motion, turning past 180 degrees or not, decodes back to itself with the wrapped
    # encoding SynthMotion writes (issue #17); the official one drifts on the motions that cross.
    from motionkit.motion.humanml3d import HumanML3DFeatures
    rep = HumanML3DFeatures(root_angular_velocity='wrapped')
    official = HumanML3DFeatures()
    crossing = 0
    for it in synth_items:
        j = it.motion.joints.astype(np.float64)
        feats = rep.encode(j)
        rec = np.asarray(rep.decode(feats)) + np.array([0.0, j[..., 1].min(), 0.0])
        err = np.linalg.norm(rec - j[:len(rec)], axis=-1)
        assert err.max() < 1e-5, (it.motion_id, err.max())
        if (official.encode(j)[:, 0] != feats[:, 0]).any():
            crossing += 1
            off = np.asarray(official.decode(official.encode(j))) + np.array([0.0, j[..., 1].min(), 0.0])
            assert np.linalg.norm(off - j[:len(off)], axis=-1).max() > 1e-5, it.motion_id
    assert 5 <= crossing <= 40, crossing  # ~7 %: 80 of the 1,200 motions of seed 0 cross


def test_feature_encoding_recorded_and_in_cache_key(tmp_path):
    from motionkit.synthmotion import ensure_synthmotion, synthmotion_config
    from motionkit.synthmotion.build import config_hash
    wrapped, official = synthmotion_config(30), synthmotion_config(30, root_angular_velocity='official')
    # The official config is the one every build had before the option existed (same features, so
    # those caches stay valid); the wrapped one has its own key.
    assert set(official) == {'version', 'num_motions', 'seed', 'num_triplets', 'num_feedback',
                             'class_distribution', 'imbalance_ratio', 'max_events', 'noise_amplitude',
                             'render_feedback'}
    assert wrapped == dict(official, root_angular_velocity='wrapped')
    assert config_hash(wrapped) != config_hash(official)
    with pytest.raises(ValueError, match="root_angular_velocity must be one of.*'nope'"):
        synthmotion_config(30, root_angular_velocity='nope')
    roots = {enc: ensure_synthmotion(30, 0, cache_dir=tmp_path, num_feedback=0, num_triplets=0,
                                     root_angular_velocity=enc) for enc in ('wrapped', 'official')}
    assert roots['wrapped'] != roots['official']
    assert roots['official'].name.endswith(config_hash(dict(official, num_triplets=0, num_feedback=0)))
    for enc, root in roots.items():
        man = json.loads((root / 'manifest.json').read_text())
        assert man['feature_encoding'] == dict(representation='HumanML3DFeatures', root_angular_velocity=enc)
    # S000026 (seed 0) turns past 180 degrees: the two builds differ in its root angular velocity only,
    # in one frame; every other motion is byte-identical.
    differ = []
    for i in (roots['wrapped'] / 'all.txt').read_text().split():
        a = np.load(roots['wrapped'] / 'new_joint_vecs' / f'{i}.npy')
        b = np.load(roots['official'] / 'new_joint_vecs' / f'{i}.npy')
        if not np.array_equal(a, b):
            differ.append(i)
            rows, cols = np.nonzero(a != b)
            assert cols.tolist() == [0] and len(rows) == 1, (i, rows, cols)
    assert differ == ['S000026']


def test_registered_dataset_builds_and_caches(tmp_path):
    cfg = dict(type='SynthMotionDataset', num_motions=16, seed=1, cache_dir=str(tmp_path), split='all',
               build_options=dict(num_feedback=1))
    ds = DATASETS.build(cfg)
    assert len(ds) == 16
    info = ds.get_data_info(0)
    assert info['dataset_name'] == 'SynthMotion' and info['gt_action_labels']
    assert info['feature_encoding'] == 'wrapped'
    assert info['texts'][0]['tokens']
    root = ds.data_root
    mtime = os.path.getmtime(os.path.join(root, 'manifest.json'))
    ds2 = DATASETS.build(cfg)
    assert ds2.data_root == root and os.path.getmtime(os.path.join(root, 'manifest.json')) == mtime
    with pytest.raises(ValueError):
        DATASETS.build(dict(cfg, split='bogus'))


def test_cli(tmp_path):
    import importlib.util
    spec = importlib.util.spec_from_file_location(
        'make_synthmotion', os.path.join(os.path.dirname(__file__), '..', '..', 'tools', 'data',
                                         'make_synthmotion.py'))
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    mod.main(['--out', str(tmp_path / 'cli'), '--num', '6', '--seed', '9', '--quiet', '--num-feedback', '0'])
    man = json.loads((tmp_path / 'cli' / 'manifest.json').read_text())
    assert man['config']['seed'] == 9 and man['counts']['feedback'] == 0
    assert man['feature_encoding']['root_angular_velocity'] == 'wrapped'
    mod.main(['--out', str(tmp_path / 'off'), '--num', '6', '--seed', '9', '--quiet', '--num-feedback', '0',
              '--root-angular-velocity', 'official'])
    man = json.loads((tmp_path / 'off' / 'manifest.json').read_text())
    assert man['feature_encoding']['root_angular_velocity'] == 'official'
    assert 'root_angular_velocity' not in man['config']

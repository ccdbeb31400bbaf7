"""Pre-tokenisation of a HumanML3D-layout folder (motionkit.datagen.tokenize + the CLI)."""
import json

import numpy as np
import pytest
import torch

from motionkit.datagen.tokenize import read_manifest, tokenize_motion_folder
from motionkit.models.tokenizers import MotionVQVAE

D = 263


def _model() -> MotionVQVAE:
    torch.manual_seed(0)
    model = MotionVQVAE(feature_dim=D, width=16, code_dim=8, depth=2,
                        quantizer=dict(type='EMAQuantizer', codebook_size=32))
    model.train()
    model.loss(torch.randn(8, 32, D), torch.full((8, ), 32))
    return model.eval()


def _folder(root, lengths=(40, 17, 64, 3, 52)):
    rng = np.random.default_rng(0)
    (root / 'new_joint_vecs').mkdir(parents=True)
    ids = []
    for i, n in enumerate(lengths):
        motion_id = f'{i:06d}'
        np.save(root / 'new_joint_vecs' / f'{motion_id}.npy',
                rng.normal(size=(n, D)).astype(np.float32))
        ids.append(motion_id)
    np.save(root / 'Mean.npy', rng.normal(size=D).astype(np.float32))
    np.save(root / 'Std.npy', (0.5 + rng.random(D)).astype(np.float32))
    (root / 'all.txt').write_text('\n'.join(ids) + '\n')
    return ids


def test_tokens_match_the_model_and_resume(tmp_path):
    data, out = tmp_path / 'data', tmp_path / 'out'
    ids = _folder(data)
    model = _model()
    summary = tokenize_motion_folder(model, str(data), str(out), batch_size=2, progress=False)
    assert summary == dict(written=4, skipped=1, already_done=0, total=5, out_dir=str(out))
    mean, std = np.load(data / 'Mean.npy'), np.load(data / 'Std.npy')
    records = {r['id']: r for r in read_manifest(str(out / 'manifest.jsonl'))}
    assert records[ids[3]]['skipped'].startswith('shorter than 4')
    for motion_id in (ids[0], ids[1], ids[2], ids[4]):
        tokens = np.load(out / 'tokens' / f'{motion_id}.npy')
        assert tokens.dtype == np.int16
        x = (np.load(data / 'new_joint_vecs' / f'{motion_id}.npy') - mean) / std
        expected, _ = model.encode(torch.from_numpy(x.astype(np.float32))[None])
        assert tokens.tolist() == expected[0].tolist()
        assert records[motion_id]['num_tokens'] == len(tokens) == len(x) // 4
    meta = json.loads((out / 'meta.json').read_text())
    assert meta['codebook_size'] == 32 and meta['unit_length'] == 4

    # resume: nothing to do
    again = tokenize_motion_folder(model, str(data), str(out), progress=False)
    assert again['written'] == 0 and again['already_done'] == 5
    # an interrupted run: a lost token file and a torn manifest line are redone
    (out / 'tokens' / f'{ids[2]}.npy').unlink()
    with open(out / 'manifest.jsonl', 'a') as f:
        f.write('{"id": "0000')
    resumed = tokenize_motion_folder(model, str(data), str(out), progress=False)
    assert resumed['written'] == 1 and resumed['already_done'] == 4
    assert (out / 'tokens' / f'{ids[2]}.npy').is_file()
    assert len(read_manifest(str(out / 'manifest.jsonl'))) == 5


def test_refuses_an_output_built_from_another_tokenizer(tmp_path):
    data, out = tmp_path / 'data', tmp_path / 'out'
    _folder(data)
    model = _model()
    tokenize_motion_folder(model, str(data), str(out), provenance=dict(checkpoint_sha256='aa'),
                           progress=False)
    with pytest.raises(ValueError, match='checkpoint_sha256'):
        tokenize_motion_folder(model, str(data), str(out),
                               provenance=dict(checkpoint_sha256='bb'), progress=False)


def test_bad_inputs(tmp_path):
    data = tmp_path / 'data'
    ids = _folder(data)
    model = _model()
    np.save(data / 'new_joint_vecs' / f'{ids[0]}.npy', np.zeros((20, 250), np.float32))
    with pytest.raises(ValueError, match=r'expected \(T, 263\)'):
        tokenize_motion_folder(model, str(data), str(tmp_path / 'o1'), progress=False)
    with pytest.raises(FileNotFoundError, match='split file'):
        tokenize_motion_folder(model, str(data), str(tmp_path / 'o2'), split='nope.txt',
                               progress=False)
    bad = np.ones((20, D), np.float32)
    bad[3, 3] = np.nan
    np.save(data / 'new_joint_vecs' / f'{ids[0]}.npy', bad)
    summary = tokenize_motion_folder(model, str(data), str(tmp_path / 'o3'), progress=False)
    records = {r['id']: r for r in read_manifest(str(tmp_path / 'o3' / 'manifest.jsonl'))}
    assert records[ids[0]]['skipped'] == 'NaN or inf in the features'
    assert summary['skipped'] == 2
    with open(tmp_path / 'o3' / 'manifest.jsonl', 'a') as f:
        f.write('not json\n{"id": "x", "skipped": "y"}\n')
    with pytest.raises(ValueError, match='line 6: not valid JSON'):
        read_manifest(str(tmp_path / 'o3' / 'manifest.jsonl'))


@pytest.mark.filterwarnings('ignore:Detected pickle protocol')
def test_cli_loads_checkpoint_safely(tmp_path, monkeypatch):
    from pathlib import Path
    monkeypatch.syspath_prepend(str(Path(__file__).resolve().parents[3] / 'tools' / 'data'))
    import tokenize_motions

    data = tmp_path / 'data'
    _folder(data, lengths=(24, 36))
    model = _model()
    cfg = tmp_path / 'vq.py'
    cfg.write_text("default_scope = 'motionkit'\nmodel = dict(type='MotionVQVAE', feature_dim=263, "
                   "width=16, code_dim=8, depth=2, quantizer=dict(type='EMAQuantizer', "
                   'codebook_size=32))\n')
    torch.save(dict(state_dict=model.state_dict(), meta=dict(iter=1)), tmp_path / 'vq.pth')
    summary = tokenize_motions.main([str(cfg), str(tmp_path / 'vq.pth'), str(data), '--out',
                                     str(tmp_path / 'out'), '--split', 'all.txt',
                                     '--no-progress'])
    assert summary['written'] == 2
    meta = json.loads((tmp_path / 'out' / 'meta.json').read_text())
    assert len(meta['checkpoint_sha256']) == 64
    # an untrained checkpoint (uninitialised codebook) is refused
    fresh = MotionVQVAE(feature_dim=263, width=16, code_dim=8, depth=2,
                        quantizer=dict(type='EMAQuantizer', codebook_size=32))
    torch.save(fresh.state_dict(), tmp_path / 'fresh.pth')
    with pytest.raises(ValueError, match='uninitialised codebook'):
        tokenize_motions.main([str(cfg), str(tmp_path / 'fresh.pth'), str(data), '--out',
                               str(tmp_path / 'out2'), '--no-progress'])
    # a pickle that is not weights-only is refused before it runs
    import pickle

    class Evil:
        def __reduce__(self):
            return (print, ('pwned', ))

    with open(tmp_path / 'evil.pth', 'wb') as f:
        pickle.dump(Evil(), f)
    with pytest.raises(RuntimeError, match='weights_only'):
        tokenize_motions.main([str(cfg), str(tmp_path / 'evil.pth'), str(data), '--out',
                               str(tmp_path / 'out3'), '--no-progress'])

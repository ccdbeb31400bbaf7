"""Tokenizer reconstruction evaluation on a HumanML3D-layout folder (motionkit.datagen.
tokenizer_eval + tools/analysis_tools/eval_tokenizer_on_dataset.py)."""
import importlib.util
import json

import numpy as np
import pytest
import torch

from motionkit.datagen.tokenizer_eval import (evaluate_motion_tokenizer, format_tokenizer_table,
                                              tokenizer_training_statistics)
from motionkit.evaluation.functional import pa_mpjpe
from motionkit.models.tokenizers import MotionVQVAE
from motionkit.motion import HumanML3DFeatures
from tests.conftest import REPO_ROOT

D = 263
MODEL_CFG = dict(type='MotionVQVAE', feature_dim=D, width=16, code_dim=8, depth=2,
                 quantizer=dict(type='EMAQuantizer', codebook_size=32))


def _model() -> MotionVQVAE:
    torch.manual_seed(0)
    cfg = dict(MODEL_CFG)
    cfg.pop('type')
    model = MotionVQVAE(**cfg)
    model.train()  # one loss call initialises the codebook from data (otherwise all codes are 0)
    model.loss(torch.randn(8, 32, D), torch.full((8, ), 32))
    return model.eval()


def _folder(root, lengths=(42, 64, 17)):
    """3 motions in a HumanML3D layout; the folder's own Mean/Std differ from the tokenizer's."""
    rng = np.random.default_rng(0)
    (root / 'new_joint_vecs').mkdir(parents=True)
    ids = []
    for i, n in enumerate(lengths):
        motion_id = f'M{i:03d}'
        np.save(root / 'new_joint_vecs' / f'{motion_id}.npy',
                (0.1 * rng.normal(size=(n, D))).astype(np.float32))
        ids.append(motion_id)
    np.save(root / 'Mean.npy', np.zeros(D, np.float32))
    np.save(root / 'Std.npy', np.ones(D, np.float32))
    (root / 'all.txt').write_text('\n'.join(ids) + '\n')
    (root / 'test.txt').write_text(ids[1] + '\n')
    stats = root.parent / 'train_stats'
    stats.mkdir()
    np.save(stats / 'Mean.npy', (0.05 * rng.normal(size=D)).astype(np.float32))
    np.save(stats / 'Std.npy', (0.5 + rng.random(D)).astype(np.float32))
    return ids, str(stats / 'Mean.npy'), str(stats / 'Std.npy')


def _direct(model, root, ids, mean_path, std_path):
    """The same numbers computed motion by motion with the model's one-pass reconstruct."""
    mean, std = np.load(mean_path), np.load(std_path)
    rep = HumanML3DFeatures()
    errs = {'mpjpe': [], 'mpjpe_root_relative': [], 'pa_mpjpe': []}
    codes = []
    for motion_id in ids:
        raw = np.load(root / 'new_joint_vecs' / f'{motion_id}.npy')
        x = torch.from_numpy(((raw - mean) / std).astype(np.float32))[None]
        recon, usable = model.reconstruct(x)
        n = int(usable[0])
        pred = rep.decode(recon[0, :n].detach().numpy() * std + mean)
        gt = rep.decode(raw[:n])
        errs['mpjpe'].append(np.linalg.norm(pred - gt, axis=-1).mean(-1) * 1000)
        rr = (pred - pred[:, :1]) - (gt - gt[:, :1])
        errs['mpjpe_root_relative'].append(np.linalg.norm(rr, axis=-1).mean(-1) * 1000)
        errs['pa_mpjpe'].append(pa_mpjpe(pred, gt, reduction='per_frame'))
        codes.append(model.encode(x)[0][0])
    out = {k: float(np.concatenate(v).mean()) for k, v in errs.items()}
    counts = torch.bincount(torch.cat(codes), minlength=32).double()
    p = counts / counts.sum()
    p = p[p > 0]
    out['perplexity'] = float(torch.exp(-(p * p.log()).sum()))
    out['usage'] = float((counts > 0).double().mean())
    return out


def test_table_numbers_equal_a_direct_computation(tmp_path, one_thread):
    root = tmp_path / 'data'
    ids, mean_path, std_path = _folder(root)
    model = _model()
    res = evaluate_motion_tokenizer(model, str(root), mean_path, std_path, split='all.txt',
                                    batch_size=2, progress=False)
    want = _direct(model, root, ids, mean_path, std_path)
    assert res['num_motions'] == 3 and res['skipped'] == 0
    assert res['num_frames'] == 40 + 64 + 16  # 4 * (T // 4) frames per motion
    for key, value in want.items():
        assert res[key] == pytest.approx(value, rel=1e-4, abs=1e-4), key
    assert res['mpjpe'] > 0 and res['pa_mpjpe'] <= res['mpjpe_root_relative'] + 1e-6
    # padding is masked: one motion per batch gives the same numbers
    single = evaluate_motion_tokenizer(model, str(root), mean_path, std_path, split='all.txt',
                                       batch_size=1, progress=False)
    for key in want:
        assert single[key] == pytest.approx(res[key], rel=1e-4, abs=1e-4), key
    # the statistics matter: the folder's own (zero mean, unit std) give other numbers
    own = evaluate_motion_tokenizer(model, str(root), str(root / 'Mean.npy'),
                                    str(root / 'Std.npy'), split='all.txt', progress=False)
    assert own['mpjpe'] != pytest.approx(res['mpjpe'], rel=1e-3)
    table = format_tokenizer_table(res, 'tiny')
    assert f'| tiny | all.txt | 3 | 120 | {res["mpjpe"]:.1f} |' in table
    # a split and max_frames select motions / frames; a too-short motion is skipped
    sub = evaluate_motion_tokenizer(model, str(root), mean_path, std_path, split='test.txt',
                                    max_frames=10, progress=False)
    assert sub['num_motions'] == 1 and sub['num_frames'] == 8


def test_bad_inputs_raise_clear_errors(tmp_path, one_thread):
    root = tmp_path / 'data'
    ids, mean_path, std_path = _folder(root)
    model = _model()
    with pytest.raises(FileNotFoundError, match='val.txt'):
        evaluate_motion_tokenizer(model, str(root), mean_path, std_path, split='val.txt',
                                  progress=False)
    np.save(root / 'new_joint_vecs' / f'{ids[0]}.npy', np.zeros((40, 10), np.float32))
    with pytest.raises(ValueError, match=f'{ids[0]}.npy.*263'):
        evaluate_motion_tokenizer(model, str(root), mean_path, std_path, progress=False)
    with pytest.raises(ValueError, match='no motion of at least 4 frames'):
        evaluate_motion_tokenizer(model, str(root), mean_path, std_path, split='test.txt',
                                  max_frames=3, progress=False)


def test_training_statistics_lookup(tmp_path):
    root = tmp_path / 'data'
    _, mean_path, std_path = _folder(root)
    meta = dict(dataset_meta=dict(mean_path=mean_path, std_path=std_path))
    assert tokenizer_training_statistics('unused.py', meta) == (mean_path, std_path,
                                                                'checkpoint meta')
    # stale paths in the checkpoint: fall back to the config's training dataset
    cfg = tmp_path / 'cfg.py'
    cfg.write_text(f"default_scope = 'motionkit'\ntrain_dataloader = dict(dataset=dict("
                   f"type='HumanML3DDataset', data_root={str(root)!r}, ann_file='all.txt', "
                   "with_texts=False))\n")
    stale = dict(dataset_meta=dict(mean_path=str(tmp_path / 'gone.npy'), std_path=std_path))
    assert tokenizer_training_statistics(str(cfg), stale) == (
        str(root / 'Mean.npy'), str(root / 'Std.npy'), 'config train dataset')


def test_cli_prints_and_writes_the_same_numbers(tmp_path, capsys, one_thread):
    root = tmp_path / 'data'
    ids, mean_path, std_path = _folder(root)
    model = _model()
    ckpt = tmp_path / 'tok.pth'
    torch.save(dict(state_dict=model.state_dict(), meta=dict(dataset_meta=dict(
        mean_path=mean_path, std_path=std_path))), ckpt)
    cfg = tmp_path / 'tok.py'
    cfg.write_text(f"default_scope = 'motionkit'\nmodel = {MODEL_CFG!r}\n")
    spec = importlib.util.spec_from_file_location(
        'eval_tokenizer_on_dataset',
        REPO_ROOT / 'tools' / 'analysis_tools' / 'eval_tokenizer_on_dataset.py')
    tool = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(tool)
    out = tmp_path / 'res.json'
    res = tool.main([str(cfg), str(ckpt), str(root), '--split', 'all.txt', '--no-progress',
                     '--out', str(out)])
    printed = capsys.readouterr().out
    assert 'checkpoint meta' in printed and f'{res["pa_mpjpe"]:.1f}' in printed
    want = _direct(model, root, ids, mean_path, std_path)
    for key, value in want.items():
        assert res[key] == pytest.approx(value, rel=1e-4, abs=1e-4), key
    assert json.loads(out.read_text())['statistics']['mean_path'] == mean_path

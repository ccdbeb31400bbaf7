"""The tiny T2M evaluator learns SynthMotion's text-motion pairing (issue: trainable in-house)."""
import numpy as np
import pytest
import torch
from mmengine.config import Config

from motionkit.evaluation.functional import fid, r_precision
from tests.conftest import REPO_ROOT

CONFIG = REPO_ROOT / 'configs' / 't2m_evaluator' / 't2m-evaluator_tiny_1xb32-2k_synthmotion.py'


@pytest.mark.slow
def test_tiny_evaluator_learns_synthmotion_pairs(tmp_path):
    from mmengine.runner import Runner
    from motionkit.utils import register_all_modules
    register_all_modules(init_default_scope=False)
    cfg = Config.fromfile(str(CONFIG))
    cfg.work_dir = str(tmp_path)
    for loader in (cfg.train_dataloader, cfg.val_dataloader, cfg.test_dataloader):
        loader.dataset.num_motions = 400
        loader.dataset.cache_dir = str(tmp_path / 'cache')
    cfg.train_cfg = dict(type='IterBasedTrainLoop', max_iters=300, val_interval=10000)
    cfg.val_cfg = cfg.val_dataloader = cfg.val_evaluator = None
    cfg.param_scheduler = []
    cfg.default_hooks.checkpoint = dict(type='CheckpointHook', interval=10000, by_epoch=False)
    cfg.default_hooks.logger = dict(type='LoggerHook', interval=100)
    cfg.visualizer = dict(type='Visualizer', vis_backends=[dict(type='LocalVisBackend')])
    runner = Runner.from_cfg(cfg)
    runner.train()

    model = runner.model.eval()
    texts, motions, noisy = [], [], []
    gen = torch.Generator().manual_seed(0)
    with torch.no_grad():
        for batch in runner.test_dataloader:
            data = model.data_preprocessor(batch)
            t, m = model(data['inputs'], data['data_samples'], mode='tensor')
            texts.append(t.numpy())
            motions.append(m.numpy())
            # the same motions with noise of one standard deviation per feature: "bad generations"
            inputs = dict(data['inputs'])
            noise = torch.randn(inputs['motion'].shape, generator=gen) * model.std
            inputs['motion'] = inputs['motion'] + noise
            noisy.append(model(inputs, None, mode='tensor').numpy())
    texts, motions, noisy = np.concatenate(texts), np.concatenate(motions), np.concatenate(noisy)
    assert len(texts) >= 32
    chance_top3 = 3 / 32
    real = r_precision(texts, motions, top_k=3, batch_size=32)
    rng = np.random.default_rng(0)
    shuffled = r_precision(texts, motions[rng.permutation(len(motions))], top_k=3, batch_size=32)
    top3 = lambda r: float(np.asarray(r['r_precision'] if isinstance(r, dict) else r).ravel()[-1])
    print(f'R-precision top-3: real {top3(real):.3f}, shuffled {top3(shuffled):.3f}, '
          f'chance {chance_top3:.3f}')
    assert top3(real) > 3 * chance_top3, 'far above chance on real held-out pairs'
    assert top3(shuffled) < top3(real) - 0.15, 'shuffling the pairs must lower the score'
    # real-vs-real FID between two halves of the test set is small next to real-vs-noisy
    half = len(motions) // 2
    real_fid = fid(motions[:half], motions[half:2 * half])
    noisy_fid = fid(motions[:half], noisy[half:2 * half])
    print(f'FID real-vs-real {real_fid:.3f}, real-vs-noisy {noisy_fid:.3f}')
    assert real_fid < 0.5 * noisy_fid

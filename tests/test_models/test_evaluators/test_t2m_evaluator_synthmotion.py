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
    # a 16-D embedding: FID needs many more samples than dimensions to estimate covariances
    cfg.model.embed_dim = 16
    cfg.train_cfg = dict(type='IterBasedTrainLoop', max_iters=250, val_interval=10000)
    cfg.val_cfg = cfg.val_dataloader = cfg.val_evaluator = None
    cfg.param_scheduler = []
    cfg.default_hooks.checkpoint = dict(type='CheckpointHook', interval=10000, by_epoch=False)
    cfg.default_hooks.logger = dict(type='LoggerHook', interval=100)
    cfg.visualizer = dict(type='Visualizer', vis_backends=[dict(type='LocalVisBackend')])
    runner = Runner.from_cfg(cfg)
    runner.train()

    model = runner.model.eval()
    def embed(loader, degrade=False):
        texts, motions = [], []
        gen = torch.Generator().manual_seed(0)
        with torch.no_grad():
            for batch in loader:
                data = model.data_preprocessor(batch)
                inputs = dict(data['inputs'])
                if degrade:  # "bad generations": every motion keeps only its first frame, jittered
                    first = inputs['motion'][:, :1].expand_as(inputs['motion'])
                    inputs['motion'] = first + 0.1 * model.std * torch.randn(
                        inputs['motion'].shape, generator=gen)
                t, m = model(inputs, data['data_samples'], mode='tensor')
                texts.append(t.numpy())
                motions.append(m.numpy())
        return np.concatenate(texts), np.concatenate(motions)

    texts, motions = embed(runner.test_dataloader)
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
    # real-vs-real FID between two halves of the training motions is small next to real-vs-frozen
    train_cfg = cfg.test_dataloader.copy()
    train_cfg['dataset'] = dict(cfg.test_dataloader.dataset, split='train')
    train_loader = Runner.build_dataloader(train_cfg, seed=0)
    _, train_motions = embed(train_loader)
    _, noisy = embed(train_loader, degrade=True)
    half = len(train_motions) // 2
    real_fid = fid(train_motions[:half], train_motions[half:2 * half])
    noisy_fid = fid(train_motions[:half], noisy[half:2 * half])
    print(f'FID real-vs-real {real_fid:.3f}, real-vs-frozen {noisy_fid:.3f}')
    assert real_fid < 0.5 * noisy_fid

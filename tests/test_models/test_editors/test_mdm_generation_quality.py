"""A tiny MDM trained on SynthMotion generates motions that a trained T2M evaluator scores clearly
better than an untrained MDM's (issue: evaluator R-precision and FID against real pairs)."""
import pytest
from mmengine.config import Config

from tests.conftest import REPO_ROOT

EVAL_CONFIG = REPO_ROOT / 'configs' / 't2m_evaluator' / 't2m-evaluator_tiny_1xb32-2k_synthmotion.py'
MDM_CONFIG = REPO_ROOT / 'configs' / 'mdm' / 'mdm_tiny_1xb32-2k_synthmotion.py'


def _small(cfg, tmp_path, iters, cache):
    cfg.work_dir = str(tmp_path / 'work')
    for name in ('train_dataloader', 'val_dataloader', 'test_dataloader'):
        loader = cfg.get(name)
        if loader:
            loader.dataset.num_motions = 400
            loader.dataset.cache_dir = str(cache)  # one SynthMotion build for all runs
    cfg.train_cfg = dict(type='IterBasedTrainLoop', max_iters=iters, val_interval=10 * iters)
    cfg.val_cfg = cfg.val_dataloader = cfg.val_evaluator = None
    cfg.param_scheduler = []
    cfg.default_hooks.checkpoint = dict(type='CheckpointHook', interval=iters, by_epoch=False)
    cfg.default_hooks.logger = dict(type='LoggerHook', interval=100)
    cfg.visualizer = dict(type='Visualizer', vis_backends=[dict(type='LocalVisBackend')])
    return cfg


@pytest.mark.slow
def test_trained_mdm_beats_untrained_through_the_evaluator(tmp_path):
    from mmengine.runner import Runner
    from motionkit.utils import register_all_modules
    register_all_modules(init_default_scope=False)

    ev_cfg = _small(Config.fromfile(str(EVAL_CONFIG)), tmp_path / 'ev', 300, tmp_path / 'cache')
    ev_cfg.model.embed_dim = 16  # FID estimates covariances from ~60 test motions
    ev_cfg.default_hooks.checkpoint.save_best = None
    Runner.from_cfg(ev_cfg).train()
    ev_ckpt = tmp_path / 'ev' / 'work' / 'iter_300.pth'
    assert ev_ckpt.is_file()

    def scores(iters):
        cfg = _small(Config.fromfile(str(MDM_CONFIG)), tmp_path / f'mdm{iters}', max(iters, 1),
                     tmp_path / 'cache')
        cfg.model.num_inference_steps = 20
        cfg.test_evaluator = [dict(
            type='T2MGenerationMetric', evaluator=ev_cfg.model.to_dict(),
            evaluator_checkpoint=str(ev_ckpt), preset='guo2022', replications=5,
            diversity_times=20, mm_num_texts=0)]
        runner = Runner.from_cfg(cfg)
        if iters:
            runner.train()
        return runner.test()

    untrained, trained = scores(0), scores(600)
    print('untrained', {k: round(v, 3) for k, v in untrained.items() if 'ci95' not in k})
    print('trained', {k: round(v, 3) for k, v in trained.items() if 'ci95' not in k})
    # the real motions' own scores bound both from above
    assert trained['t2m/gt/r_precision_top3'] > 0.5
    assert trained['t2m/r_precision_top3'] > untrained['t2m/r_precision_top3'] + 0.15
    assert trained['t2m/fid'] < 0.5 * untrained['t2m/fid']
    assert trained['t2m/mm_dist'] < untrained['t2m/mm_dist']

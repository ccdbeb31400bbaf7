"""projects/atom MotionGPT stages: the tiny stage-2 config trains through the Runner and its test
yields T2M metrics; the paper-scale configs build on the meta device with the published sizes."""
import copy
import math

import numpy as np
import pytest
import torch
from mmengine.config import Config
from mmengine.registry import init_default_scope

from tests.conftest import REPO_ROOT

CONFIGS = REPO_ROOT / 'projects' / 'atom' / 'configs'
T2M_EVALUATOR = REPO_ROOT / 'configs' / 't2m_evaluator' / 't2m-evaluator_tiny_1xb32-2k_synthmotion.py'
# transformers >= 5 ties every T5 head to its embeddings: flan-t5-base counts 222,903,552 with its
# 32,128 tokens; MotionGPT's 515 motion tokens add 515 x 768 = 395,520
FLAN_T5_BASE_MOTIONGPT = 222_903_552 + 515 * 768
# LoRA r 8 on q and v of the 36 attention blocks (12 encoder self, 12 decoder self, 12 cross):
# 36 x 2 x (768 x 8 + 8 x 768)
LORA_R8_QV = 36 * 2 * (768 * 8 + 8 * 768)


def _meta_model(name):
    cfg = Config.fromfile(str(CONFIGS / name))
    assert cfg.paper_scale
    init_default_scope('motionkit')
    from motionkit.registry import MODELS
    model_cfg = copy.deepcopy(cfg.model.to_dict())
    llm = model_cfg['llm']
    llm['init_device'] = 'meta'
    llm['tokenizer'] = None  # no weights or tokenizer files here: count the architecture
    llm['backbone'] = dict(preset='flan-t5-base', vocab_size=32128 + 515)
    return cfg, MODELS.build(model_cfg)


@pytest.mark.parametrize('name', ['motiongpt-s2-pretrain_flan-t5-base_1xb16_humanml3d.py',
                                  'motiongpt-s3-instruct_flan-t5-base_1xb16_humanml3d.py',
                                  'motiongpt-base_official_humanml3d.py'])
def test_paper_scale_full_configs_build_on_meta(name):
    cfg, model = _meta_model(name)
    assert sum(p.numel() for p in model.llm.parameters()) == FLAN_T5_BASE_MOTIONGPT
    assert model.motion_tokenizer.codebook_size == 512 and model.llm.codebook_size == 512
    assert cfg.train_dataloader.batch_size == 16 and cfg.optim_wrapper.optimizer.lr == 2e-4
    assert model.llm.motion_markers and model.llm.strategy == 'extended'


def test_paper_scale_lora_config_counts_adapter():
    cfg, model = _meta_model('motiongpt-s3-instruct-lora_flan-t5-base_1xb16_humanml3d.py')
    named = list(model.llm.named_parameters())
    lora = sum(p.numel() for n, p in named if 'lora_' in n)
    assert lora == LORA_R8_QV
    trainable_other = {n for n, p in named if p.requires_grad and 'lora_' not in n}
    # the motion-token embeddings train (modules_to_save copies of the shared embedding / head)
    assert trainable_other and all('modules_to_save' in n for n in trainable_other)
    assert model.templates['t2m'][0][0].startswith('generate a motion')


def _vq_checkpoint(cfg, path):
    from motionkit.registry import MODELS
    torch.manual_seed(0)
    vq = MODELS.build(copy.deepcopy(cfg.model.tokenizer.to_dict()))
    vq.train()
    vq.loss(torch.randn(8, 64, 263), torch.full((8, ), 64))  # initialises the EMA codebook
    path.parent.mkdir(parents=True, exist_ok=True)
    torch.save(dict(state_dict=vq.state_dict(), meta=dict()), path)


def _evaluator_checkpoint(work, path):
    """The tiny T2M evaluator, randomly initialised, with the build's feature statistics."""
    from motionkit.registry import MODELS
    cfg = Config.fromfile(str(T2M_EVALUATOR))
    torch.manual_seed(0)
    ev = MODELS.build(cfg.model.to_dict())
    ev.set_feature_stats(np.load(work / 'synthmotion' / 'Mean.npy'), np.load(work / 'synthmotion' / 'Std.npy'))
    path.parent.mkdir(parents=True, exist_ok=True)
    torch.save(dict(state_dict=ev.state_dict(), meta=dict()), path)


def test_stage2_trains_and_tests_with_t2m_metrics(atom_work_dir, monkeypatch, tmp_path):
    from mmengine.runner import Runner
    from motionkit.utils import register_all_modules
    monkeypatch.setenv('ATOM_WORK_DIR', str(atom_work_dir))
    register_all_modules(init_default_scope=False)
    cfg = Config.fromfile(str(CONFIGS / 'motiongpt-s2-pretrain_tiny-t5_1xb32-2k_synthmotion.py'))
    _vq_checkpoint(cfg, atom_work_dir / 'vqvae' / 'iter_2000.pth')
    _evaluator_checkpoint(atom_work_dir, atom_work_dir / 't2m_evaluator' / 'iter_2000.pth')
    iters = 6
    cfg.merge_from_dict({
        'work_dir': str(tmp_path / 'work'), 'train_dataloader.batch_size': 8, 'train_cfg.max_iters': iters,
        'optim_wrapper.optimizer.lr': 3e-3, 'default_hooks.logger.interval': 1,
        'default_hooks.checkpoint.interval': iters, 'log_processor.window_size': 1,
        'test_dataloader.batch_size': 6, 'model.max_motion_tokens': 12,
        'test_evaluator.0.batch_size': 4, 'test_evaluator.0.replications': 2,
        'test_evaluator.0.diversity_times': 3})
    cfg.param_scheduler = []
    runner = Runner.from_cfg(cfg)
    runner.train()
    assert (tmp_path / 'work' / f'iter_{iters}.pth').is_file()
    model = runner.model
    # the vocabulary: training captions + template words + 64 codes + MotionGPT's 3 markers
    vocab = model.llm.tokenizer.get_vocab()
    assert all(f'<motion_id_{k}>' in vocab for k in range(67)) and '<motion_id_67>' not in vocab
    torch.manual_seed(0)
    metrics = runner.test()
    for key in ('t2m/fid', 't2m/diversity', 't2m/r_precision_top3', 't2m/mm_dist', 't2m/gt/r_precision_top3'):
        assert key in metrics and math.isfinite(metrics[key]), (key, metrics)
    assert 0.0 <= metrics['t2m/r_precision_top3'] <= 1.0
    # every generation is either decoded codes or a counted failure
    assert model.num_generated == 6  # one generation per test caption (num_samples=1)
    assert 0 <= model.num_failed <= model.num_generated

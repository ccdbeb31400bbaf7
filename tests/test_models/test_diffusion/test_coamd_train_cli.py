"""The tiny CoAMD configs through the real CLIs: train the autoencoder, train the generator on its
checkpoint, generate with tools/test.py (a few iterations each, SynthMotion)."""
import os
import subprocess
import sys

import pytest
import torch

from motionkit.utils import safe_load, safe_pickle_load
from tests.conftest import REPO_ROOT

CONFIGS = REPO_ROOT / 'projects' / 'coamd' / 'configs'


def _run(args, timeout=300):
    env = dict(os.environ, OMP_NUM_THREADS='1',
               PYTHONPATH=os.pathsep.join([str(REPO_ROOT), os.environ.get('PYTHONPATH', '')]))
    proc = subprocess.run([sys.executable, *args], cwd=REPO_ROOT, env=env, capture_output=True,
                          text=True, timeout=timeout)
    assert proc.returncode == 0, f'{args} failed:\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}'
    return proc


@pytest.mark.slow  # three CLI runs, ~1 min on 2 cores
def test_autoencoder_then_generator_train_and_generate(tmp_path):
    ae_dir, gen_dir = tmp_path / 'ae', tmp_path / 'gen'
    _run(['tools/train.py', str(CONFIGS / 'coamd-ae_tiny_1xb32-2k_synthmotion.py'),
          '--work-dir', str(ae_dir), '--cfg-options', 'train_cfg.max_iters=4',
          'train_cfg.val_interval=100', 'default_hooks.checkpoint.interval=4'])
    ae_ckpt = ae_dir / 'iter_4.pth'
    state = safe_load(str(ae_ckpt))['state_dict']
    # JointStatsHook put the train split's joint statistics into the checkpoint
    assert bool(state['stats_flag']) and state['std'].shape == (66, )
    assert 0.5 < float(state['mean'][1]) < 1.5  # pelvis height, metres
    _run(['tools/train.py', str(CONFIGS / 'coamd_tiny_1xb32-2k_synthmotion.py'),
          '--work-dir', str(gen_dir), '--cfg-options', 'train_cfg.max_iters=4',
          'default_hooks.checkpoint.interval=4', f'model.tokenizer_checkpoint={ae_ckpt}'])
    gen_ckpt = gen_dir / 'iter_4.pth'
    gen_state = safe_load(str(gen_ckpt))['state_dict']
    # the frozen autoencoder is the one trained above
    assert torch.equal(gen_state['tokenizer.std'], state['std'])
    assert torch.equal(gen_state['tokenizer.decoder.conv_out.weight'], state['decoder.conv_out.weight'])
    out = tmp_path / 'pred.pkl'
    # the config's T2M metric needs trained evaluators (the pipeline's): dump the predictions only,
    # one generation per prompt
    test_cfg = tmp_path / 'coamd_dump.py'
    test_cfg.write_text(f"_base_ = ['{CONFIGS / 'coamd_tiny_1xb32-2k_synthmotion.py'}']\n"
                        "model = dict(num_replications=1)\n"
                        f"test_evaluator = [dict(type='DumpPredictions', out_file_path='{out}')]\n")
    _run(['tools/test.py', str(test_cfg), str(gen_ckpt),
          '--work-dir', str(tmp_path / 'test'), '--cfg-options',
          f'model.tokenizer_checkpoint={ae_ckpt}', 'model.num_ar_steps=2',
          'model.num_inference_steps=2', 'test_dataloader.dataset.indices=6',
          'test_dataloader.batch_size=3'])
    preds = safe_pickle_load(str(out))
    assert len(preds) == 6
    for p in preds:
        n = p['pred_length']
        assert n == p['length'] - p['length'] % 4
        assert p['pred_joints'].shape == (n, 22, 3) and p['pred_motion'].shape == (n, 66)
        assert p['gt_joints'].shape == (n, 22, 3) and p['pred_motion_normalized'] is False

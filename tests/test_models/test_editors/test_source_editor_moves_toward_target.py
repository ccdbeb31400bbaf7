"""An instruction edit moves the edited part toward the ground-truth target (issue: SynthMotion
instruction edits, MPJPE to the target below that of the unedited source).

Each per-part SourceConditionedMDM config (upper body; lower body, root trajectory included) is
trained briefly on a few dozen SynthMotion triplets of its part and then edits their sources with
their instructions; the edited part must end clearly closer to the targets than the sources are.
(Held-out triplets: benchmarks/bench_mdm_editing.py, numbers in docs/editors.md.)"""
import json

import numpy as np
import pytest
import torch
from mmengine.config import Config

from motionkit.structures import EditRequest
from tests.conftest import REPO_ROOT

CONFIGS = REPO_ROOT / 'projects' / 'cigtime' / 'configs'
ITERS, NUM = 600, 48


@pytest.mark.slow
@pytest.mark.parametrize('part,config,bound', [
    ('upper_body', 'mdm-source-editor-upper_tiny_1xb32-1k_synthmotion.py', 0.6),
    ('lower_body', 'mdm-source-editor-lower_tiny_1xb32-2k_synthmotion.py', 0.6),
])
def test_instruction_edit_moves_toward_target(tmp_path, monkeypatch, part, config, bound):
    from mmengine.runner import Runner
    from motionkit.datagen import build_cigtime_triplets
    from motionkit.evaluation.metrics.instruction_reconstruction_metric import common_length_mpjpe
    from motionkit.motion import HumanML3DFeatures, body_part_joints
    from motionkit.utils import register_all_modules
    register_all_modules(init_default_scope=False)

    root = build_cigtime_triplets(tmp_path / 'triplets', 200, seed=0, per_source=2, progress=False,
                                  synthmotion_cache_dir=str(tmp_path / 'sm'))
    monkeypatch.setenv('CIGTIME_WORK_DIR', str(tmp_path))
    cfg = Config.fromfile(str(CONFIGS / config))
    cfg.work_dir = str(tmp_path / 'work')
    cfg.randomness = dict(seed=0)
    cfg.train_dataloader.dataset.indices = NUM
    cfg.train_cfg = dict(type='IterBasedTrainLoop', max_iters=ITERS, val_interval=10 * ITERS)
    cfg.param_scheduler = [
        dict(type='LinearLR', start_factor=0.1, by_epoch=False, begin=0, end=50),
        dict(type='CosineAnnealingLR', by_epoch=False, begin=50, end=ITERS, eta_min=1e-5)]
    cfg.default_hooks.checkpoint = dict(type='CheckpointHook', interval=ITERS, by_epoch=False)
    cfg.default_hooks.logger = dict(type='LoggerHook', interval=100)
    cfg.visualizer = dict(type='Visualizer', vis_backends=[dict(type='LocalVisBackend')])
    torch.manual_seed(0)
    runner = Runner.from_cfg(cfg)
    runner.train()
    model = runner.model.eval()

    rows = [json.loads(line) for line in (root / 'triplets.jsonl').read_text().splitlines() if line]
    rows = [r for r in rows if r['split'] == 'train' and r['body_part'] == part][:NUM]
    assert len(rows) >= 24, len(rows)
    sources = [EditRequest(r['instruction'], motion=np.load(root / r['source_vecs']), body_part=r['body_part'],
                           source_id=r['source_id']) for r in rows]
    torch.manual_seed(0)
    edited = model.edit_instructions(sources)
    joints = body_part_joints('t2m22', part)
    src_err, edit_err, kept_err = [], [], []
    kept = body_part_joints('t2m22', 'lower_body')
    rep = HumanML3DFeatures()
    for r, s, out in zip(rows, sources, edited):
        src, tgt = np.load(root / r['source_joints']), np.load(root / r['target_joints'])
        src_err.append(common_length_mpjpe(src[:, joints], tgt[:, joints]))
        edit_err.append(common_length_mpjpe(out[:, joints], tgt[:, joints]))
        decoded = rep.decode(torch.from_numpy(s.motion)).numpy()  # the source as features say
        kept_err.append(common_length_mpjpe(out[:, kept], decoded[:, kept]))
    src_err, edit_err = float(np.mean(src_err)), float(np.mean(edit_err))
    print(f'{part} MPJPE to target (mm): source {src_err:.1f}, edit {edit_err:.1f}')
    assert edit_err < bound * src_err
    if part == 'upper_body':  # the kept lower body (and root) is the source's (its features, decoded)
        assert max(kept_err) < 1.0

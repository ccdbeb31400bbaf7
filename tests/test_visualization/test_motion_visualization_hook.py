"""MotionVisualizationHook: called directly with a fake runner, and in a tiny mmengine Runner."""
from types import SimpleNamespace

import numpy as np
import torch
from mmengine.evaluator import BaseMetric
from mmengine.model import BaseModel
from PIL import Image

from motionkit.engine.hooks.motion_visualization_hook import MotionVisualizationHook
from motionkit.structures.motion_data_sample import MotionDataSample
from motionkit.visualization import MotionVisualizer


def _sample(i, T=6, with_pred=True):
    rng = np.random.default_rng(i)
    s = MotionDataSample(metainfo=dict(motion_id=f'{i:06d}'))
    s.gt_joints = rng.uniform(0, 1.6, (T, 22, 3)).astype(np.float32)
    if with_pred:
        s.pred_joints = s.gt_joints + 0.05
    return s


def _fake_runner(tmp_path, name, visualizer=True, it=100):
    vis = None
    if visualizer:
        vis = MotionVisualizer(name=name, save_dir=str(tmp_path),
                               vis_backends=[dict(type='LocalVisBackend')], width=64, height=64)
    return SimpleNamespace(work_dir=str(tmp_path), log_dir=str(tmp_path), visualizer=vis, iter=it)


def _videos(tmp_path):
    return sorted(p.name for p in (tmp_path / 'vis_data' / 'vis_video').glob('*'))


def test_first_n_val_predictions_every_interval(tmp_path):
    runner = _fake_runner(tmp_path, 'hook_interval')
    hook = MotionVisualizationHook(interval=2, max_samples=3)
    for run in range(3):  # validation runs 1, 2, 3 -> drawn in runs 1 and 3
        runner.iter = 10 * (run + 1)
        hook.before_val_epoch(runner)
        hook.after_val_iter(runner, 0, None, [_sample(0), _sample(1)])
        hook.after_val_iter(runner, 1, None, [_sample(2), _sample(3)])
    assert _videos(tmp_path) == ['val_0_10.gif', 'val_0_30.gif', 'val_1_10.gif',
                                 'val_1_30.gif', 'val_2_10.gif', 'val_2_30.gif']
    images = sorted(p.name for p in (tmp_path / 'vis_data' / 'vis_image').glob('*.png'))
    assert len(images) == 6
    with Image.open(tmp_path / 'vis_data' / 'vis_video' / 'val_0_10.gif') as im:
        assert im.size == (128, 64) and im.n_frames == 6
    assert len(hook.written) == 6


def test_test_iter_takes_gt_from_data_batch_and_builds_its_own_visualizer(tmp_path):
    runner = _fake_runner(tmp_path, 'unused', visualizer=False)
    hook = MotionVisualizationHook(max_samples=1, test_max_samples=2, video_formats=('mp4', ))
    hook.before_test_epoch(runner)
    # the model returned predictions only; gt is in the input data samples
    outputs = [dict(pred_joints=_sample(i).gt_joints + 0.1) for i in range(3)]
    data_batch = dict(inputs=None, data_samples=[_sample(i, with_pred=False) for i in range(3)])
    hook.after_test_iter(runner, 0, data_batch, outputs)
    assert _videos(tmp_path) == ['test_0_0.mp4', 'test_1_0.mp4']
    vis = hook._own_visualizer  # written to the runner's log_dir
    assert isinstance(vis, MotionVisualizer)
    merged = _merged(outputs[0], data_batch['data_samples'][0])
    vis.panel_width = vis.panel_height = 48
    frames = vis.render_sample(merged)
    assert frames.shape == (6, 48, 2 * 48, 3)  # gt and pred panels both found
    assert merged.get('motion_id') == '000000'


def _merged(a, b):
    from motionkit.engine.hooks.motion_visualization_hook import _MergedSample
    return _MergedSample(a, b)


def test_disabled_hook_writes_nothing(tmp_path):
    runner = _fake_runner(tmp_path, 'hook_off')
    hook = MotionVisualizationHook(enable=False)
    hook.after_val_iter(runner, 0, None, [_sample(0)])
    hook.after_test_iter(runner, 0, None, [_sample(0)])
    assert not (tmp_path / 'vis_data' / 'vis_video').exists()


# ------------------------------------------------------------------ a real (tiny) Runner run
class _ToyMotionModel(BaseModel):
    """Predicts the ground truth shifted by a learnable offset."""

    def __init__(self):
        super().__init__()
        self.offset = torch.nn.Parameter(torch.zeros(3))

    def forward(self, inputs, data_samples=None, mode='tensor'):
        outs = []
        for s in data_samples:
            s.pred_joints = torch.as_tensor(s.gt_joints) + self.offset.detach() + 0.1
            outs.append(s)
        return outs


class _CountMetric(BaseMetric):
    default_prefix = 'toy'

    def process(self, data_batch, data_samples):
        self.results.append(len(data_samples))

    def compute_metrics(self, results):
        return dict(count=float(sum(results)))


def test_hook_in_a_runner_test_run(tmp_path):
    from mmengine.runner import Runner
    dataset = [dict(inputs=torch.zeros(1), data_samples=_sample(i, with_pred=False))
               for i in range(5)]
    vis = MotionVisualizer(name='runner_vis', vis_backends=[dict(type='LocalVisBackend')],
                           save_dir=str(tmp_path / 'vis_root'), width=64, height=64)
    runner = Runner(
        model=_ToyMotionModel(),
        work_dir=str(tmp_path / 'work'),
        test_dataloader=dict(dataset=dataset, sampler=dict(type='DefaultSampler', shuffle=False),
                             batch_size=2, collate_fn=dict(type='pseudo_collate')),
        test_cfg=dict(),
        test_evaluator=[_CountMetric()],
        custom_hooks=[MotionVisualizationHook(max_samples=3)],
        visualizer=vis,
        default_scope='motionkit',
        default_hooks=dict(logger=None, checkpoint=None),
        experiment_name='vis_hook_runner')
    metrics = runner.test()
    assert metrics['toy/count'] == 5.0
    videos = sorted(p.name for p in (tmp_path / 'vis_root' / 'vis_data' / 'vis_video').glob('*'))
    assert videos == ['test_0_0.gif', 'test_1_0.gif', 'test_2_0.gif']

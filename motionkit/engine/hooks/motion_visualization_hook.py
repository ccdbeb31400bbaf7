"""Render the first predictions of validation / test runs to images and GIF / MP4 files."""
from __future__ import annotations

from typing import Any, Optional, Sequence

from mmengine.dist import is_main_process
from mmengine.hooks import Hook

from motionkit.registry import HOOKS


class _MergedSample:
    """Read a key from the model output first, then from the input data sample.

    Models usually copy the ground truth into the samples they return; when they do not, the
    ground truth (``gt_*``, captions, metainfo) is still in ``data_batch['data_samples']``.
    """

    def __init__(self, primary: Any, secondary: Any) -> None:
        self.primary, self.secondary = primary, secondary

    @staticmethod
    def _lookup(sample: Any, key: str, missing: Any) -> Any:
        if sample is None:
            return missing
        if isinstance(sample, dict):
            if key in sample:
                return sample[key]
            meta = sample.get('metainfo')
            return meta.get(key, missing) if isinstance(meta, dict) else missing
        return sample.get(key, missing)

    def get(self, key: str, default: Any = None) -> Any:
        missing = object()
        value = self._lookup(self.primary, key, missing)
        if value is missing:
            value = self._lookup(self.secondary, key, missing)
        return default if value is missing else value


@HOOKS.register_module()
class MotionVisualizationHook(Hook):
    """Draw ground truth vs prediction for the first ``max_samples`` samples of a val/test run.

    Each output data sample (the ``outputs`` of ``val_step`` / ``test_step``) is given to
    :class:`~motionkit.visualization.MotionVisualizer`; what it expects is documented in
    ``motionkit/visualization/motion_visualizer.py``: ``pred_joints`` / ``gt_joints`` (T, J, 3),
    or ``pred_motion`` / ``gt_motion`` features plus a ``representation`` name in the metainfo
    (with ``normalized`` + ``mean`` / ``std`` to denormalise). Fields missing from the output are
    looked up in ``data_batch['data_samples']``.

    The runner's visualizer is used if it is a ``MotionVisualizer`` (configure it with
    ``visualizer=dict(type='MotionVisualizer', vis_backends=[dict(type='LocalVisBackend')])``);
    otherwise the hook makes one that writes to the runner's log folder. Files land in
    ``<log_dir>/vis_data/vis_image/{val|test}_<k>_<step>.png`` (a grid of frames) and
    ``<log_dir>/vis_data/vis_video/{val|test}_<k>_<step>.gif`` (step = training iteration for
    validation, 0 for test). Only the main process renders.

    Args:
        enable: turn the hook off without removing it from the config.
        interval: draw in every ``interval``-th validation run (1 = every run; the first run is
            always drawn).
        max_samples: samples drawn per validation run.
        test_max_samples: samples drawn in a test run (default: ``max_samples``).
        representation, mean, std: defaults handed to the visualizer when it has none (for
            samples holding features without naming a representation / statistics).
        video_formats: override the visualizer's formats, e.g. ``('gif', 'mp4')``.
    """

    priority = 'NORMAL'

    def __init__(self,
                 enable: bool = True,
                 interval: int = 1,
                 max_samples: int = 4,
                 test_max_samples: Optional[int] = None,
                 representation: Any = None,
                 mean: Any = None,
                 std: Any = None,
                 video_formats: Optional[Sequence[str]] = None,
                 test_out_dir: Optional[str] = None) -> None:
        if interval < 1:
            raise ValueError(f'interval must be >= 1, got {interval}')
        if max_samples < 0:
            raise ValueError(f'max_samples must be >= 0, got {max_samples}')
        self.enable = enable
        self.interval = int(interval)
        self.max_samples = int(max_samples)
        self.test_max_samples = self.max_samples if test_max_samples is None else int(
            test_max_samples)
        self.representation, self.mean, self.std = representation, mean, std
        self.video_formats = None if video_formats is None else tuple(video_formats)
        # tools/test.py --show-dir: test renders go to this folder (relative to the work dir)
        self.test_out_dir = test_out_dir
        self._val_runs = 0
        self._drawn = {'val': 0, 'test': 0}
        self._own_visualizer = None
        self.written: list = []  # every file this hook wrote (handy in tests and notebooks)

    # -- visualizer ------------------------------------------------------------------------
    def _visualizer(self, runner):
        from motionkit.visualization import MotionVisualizer
        vis = getattr(runner, 'visualizer', None)
        if not isinstance(vis, MotionVisualizer):
            if self._own_visualizer is None:
                log_dir = getattr(runner, 'log_dir', None) or runner.work_dir
                self._own_visualizer = MotionVisualizer(
                    name=f'motion_visualization_hook_{id(self)}', save_dir=log_dir,
                    vis_backends=[dict(type='LocalVisBackend')])
            vis = self._own_visualizer
        if vis.representation is None:
            vis.representation = self.representation
        if vis.mean is None and vis.std is None:
            vis.mean, vis.std = self.mean, self.std
        if self.video_formats is not None:
            vis.video_formats = self.video_formats
        return vis

    # -- hook points -----------------------------------------------------------------------
    def before_val_epoch(self, runner) -> None:
        self._val_runs += 1
        self._drawn['val'] = 0

    def before_test_epoch(self, runner) -> None:
        self._drawn['test'] = 0

    def _draw(self, runner, mode: str, data_batch: Any, outputs: Optional[Sequence],
              limit: int, step: int) -> None:
        if not self.enable or not outputs or self._drawn[mode] >= limit:
            return
        if not is_main_process():
            return
        inputs = data_batch.get('data_samples') if isinstance(data_batch, dict) else None
        vis = self._visualizer(runner)
        for i, out in enumerate(outputs):
            if self._drawn[mode] >= limit:
                break
            given = inputs[i] if inputs is not None and i < len(inputs) else None
            sample = _MergedSample(out, given)
            k = self._drawn[mode]
            out_file = None
            if mode == 'test' and self.test_out_dir:
                import os.path as osp
                out_dir = osp.join(runner.work_dir, self.test_out_dir)
                fmt = (self.video_formats or vis.video_formats or ('gif', ))[0]
                out_file = osp.join(out_dir, f'{mode}_{k}.{fmt}')
            self.written.extend(vis.add_datasample(f'{mode}_{k}', sample, step=step,
                                                   out_file=out_file))
            self._drawn[mode] += 1

    def after_val_iter(self,
                       runner,
                       batch_idx: int,
                       data_batch: Any = None,
                       outputs: Optional[Sequence] = None) -> None:
        if (max(self._val_runs, 1) - 1) % self.interval != 0:
            return
        self._draw(runner, 'val', data_batch, outputs, self.max_samples,
                   step=int(getattr(runner, 'iter', 0)))

    def after_test_iter(self,
                        runner,
                        batch_idx: int,
                        data_batch: Any = None,
                        outputs: Optional[Sequence] = None) -> None:
        self._draw(runner, 'test', data_batch, outputs, self.test_max_samples, step=0)

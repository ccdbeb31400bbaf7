"""Write a run's numeric environment (torch build, CPU vector kernels, threads, device) into its
log and into the meta of every checkpoint it saves."""
from __future__ import annotations

import json

import torch
from mmengine.hooks import Hook

from motionkit.registry import HOOKS
from motionkit.utils.reproducibility import numeric_environment


def _model_device(runner) -> torch.device:
    model = runner.model.module if hasattr(runner.model, 'module') else runner.model
    param = next(model.parameters(), None)
    return param.device if param is not None else torch.device('cpu')


@HOOKS.register_module()
class NumericEnvironmentHook(Hook):
    """Record :func:`~motionkit.utils.reproducibility.numeric_environment` in the log (before the
    run) and as ``meta['numeric_env']`` of each checkpoint.

    Two runs of one config, seed and data give bit-identical checkpoints only in the same numeric
    environment; a vector-quantised tokenizer turns a last-bit difference into another codebook
    (docs/reproducibility.md). mmengine's log names the torch build and the CPU capability but
    not the thread count, which the caller's ``OMP_NUM_THREADS`` sets; with this record, two
    checkpoints that differ say whether they were meant to agree
    (``tools/analysis_tools/compare_checkpoints.py`` prints the difference).
    """

    priority = 'VERY_LOW'

    def before_run(self, runner) -> None:
        env = numeric_environment(_model_device(runner))
        runner.logger.info('numeric environment: ' + json.dumps(env, sort_keys=True))

    def before_save_checkpoint(self, runner, checkpoint: dict) -> None:
        # measured at save time: the thread count may have been changed during the run
        checkpoint.setdefault('meta', {})['numeric_env'] = numeric_environment(_model_device(runner))

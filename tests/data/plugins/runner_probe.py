"""Hooks the runner tests inject with ``custom_imports``: a hard kill and per-rank weight dumps."""
import os
import signal

import torch
from mmengine.hooks import Hook

from motionkit.registry import HOOKS


@HOOKS.register_module()
class KillAtIterHook(Hook):
    """SIGKILL the process after training iteration ``at_iter`` (after checkpointing ran)."""

    priority = 'LOWEST'

    def __init__(self, at_iter: int):
        self.at_iter = at_iter

    def after_train_iter(self, runner, batch_idx, data_batch=None, outputs=None):
        if runner.iter + 1 == self.at_iter:
            os.kill(os.getpid(), signal.SIGKILL)


@HOOKS.register_module()
class DumpWeightsHook(Hook):
    """Save each rank's weights before and after the run, with the number of iterations run."""

    priority = 'LOWEST'

    def __init__(self, out_dir: str):
        self.out_dir = out_dir

    def _dump(self, runner, tag):
        model = runner.model.module if hasattr(runner.model, 'module') else runner.model
        os.makedirs(self.out_dir, exist_ok=True)
        torch.save({'state_dict': {k: v.detach().clone() for k, v in model.state_dict().items()},
                    'iter': runner.iter, 'rank': runner.rank, 'world_size': runner.world_size},
                   os.path.join(self.out_dir, f'{tag}_rank{runner.rank}.pt'))

    def before_train(self, runner):
        self._dump(runner, 'before')

    def after_train(self, runner):
        self._dump(runner, 'after')

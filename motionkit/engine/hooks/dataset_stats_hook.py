"""Give a model the feature statistics of its training set before training starts."""
import numpy as np
import torch
from mmengine.hooks import Hook

from motionkit.registry import HOOKS


@HOOKS.register_module()
class DatasetStatsHook(Hook):
    """Copy the train dataset's ``Mean.npy`` / ``Std.npy`` into the model once, before training.

    Models that keep their own statistics (e.g. :class:`T2MEvaluator`, whose statistics must travel
    with its checkpoint) expose ``set_feature_stats(mean, std)`` and ``feature_stats_set``. The
    dataset's location is often only known at run time (SynthMotion builds into a cache folder),
    so a config cannot name the files. Statistics already in the model (set in the config, or
    restored by ``--resume`` / ``load_from``) are kept.
    """

    priority = 'VERY_HIGH'

    def before_train(self, runner) -> None:
        model = runner.model.module if hasattr(runner.model, 'module') else runner.model
        if not hasattr(model, 'set_feature_stats'):
            raise TypeError(f'DatasetStatsHook: {type(model).__name__} has no set_feature_stats()')
        if bool(getattr(model, 'feature_stats_set', False)):
            return
        dataset = runner.train_dataloader.dataset
        meta = getattr(dataset, 'metainfo', {})
        mean_path, std_path = meta.get('mean_path'), meta.get('std_path')
        if mean_path is None or std_path is None:
            raise KeyError(f'DatasetStatsHook: {type(dataset).__name__} has no mean_path/std_path '
                           'in its metainfo')
        model.set_feature_stats(np.load(mean_path), np.load(std_path))
        runner.logger.info(f'DatasetStatsHook: model statistics set from {mean_path}, {std_path}')
        if torch.distributed.is_available() and torch.distributed.is_initialized():
            torch.distributed.barrier()

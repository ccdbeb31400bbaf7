"""Give a model the statistics of the absolute joint coordinates of its training set."""
import numpy as np
import torch
from mmengine.hooks import Hook

from motionkit.registry import HOOKS


def joint_coordinate_stats(paths, num_joints=None, progress: bool = False) -> tuple:
    """Per-coordinate mean and standard deviation ``(3 J,)`` over every frame of ``(T, J, 3)``
    ``.npy`` joint files (float64 sums; x, y, z of joint 0, then joint 1, ...).

    Raises:
        ValueError: no files, a file that is not ``(T, J, 3)`` (with ``num_joints`` joints), NaN /
            inf values, or a coordinate that never varies (std 0); the file is named.
    """
    from motionkit.datasets.transforms.loading import load_motion_file
    paths = list(paths)
    if not paths:
        raise ValueError('joint_coordinate_stats: no joint files')
    total = sq = None
    count = 0
    it = paths
    if progress:
        from tqdm import tqdm
        it = tqdm(paths, desc='joint statistics', unit='file')
    for path in it:
        joints = load_motion_file(path, 'joints', 'JointStatsHook', num_joints=num_joints)
        flat = joints.reshape(len(joints), -1).astype(np.float64)
        if total is None:
            total, sq = np.zeros(flat.shape[1]), np.zeros(flat.shape[1])
        elif flat.shape[1] != total.shape[0]:
            raise ValueError(f'{path}: {flat.shape[1] // 3} joints, the files before it have '
                             f'{total.shape[0] // 3}')
        total += flat.sum(0)
        sq += (flat ** 2).sum(0)
        count += len(flat)
    mean = total / count
    std = np.sqrt(np.maximum(sq / count - mean ** 2, 0.0))
    if (std <= 0).any():
        bad = int(np.nonzero(std <= 0)[0][0])
        raise ValueError(f'joint_coordinate_stats: coordinate {bad} (joint {bad // 3}, axis '
                         f'{"xyz"[bad % 3]}) is constant over {len(paths)} files; it cannot be '
                         'normalised')
    return mean.astype(np.float32), std.astype(np.float32)


@HOOKS.register_module()
class JointStatsHook(Hook):
    """Compute the mean / std of the absolute joint coordinates of the train split once, before
    training, and hand them to the model's ``set_feature_stats`` (e.g.
    :class:`~motionkit.models.MultimodalAutoencoder`, which keeps them in its checkpoints).

    Every distinct ``joints_path`` of the train dataset is read once (the whole file, as the
    reference's ``mean_std/original_absolute`` statistics of HumanML3D); the dataset must be built
    with ``with_joints=True``. Statistics already in the model (set in the config, or restored by
    ``--resume`` / ``load_from``) are kept.
    """

    priority = 'VERY_HIGH'

    def __init__(self, progress: bool = True) -> None:
        self.progress = progress

    def before_train(self, runner) -> None:
        model = runner.model.module if hasattr(runner.model, 'module') else runner.model
        if not hasattr(model, 'set_feature_stats'):
            raise TypeError(f'JointStatsHook: {type(model).__name__} has no set_feature_stats()')
        if bool(getattr(model, 'feature_stats_set', False)):
            return
        dataset = runner.train_dataloader.dataset
        if not hasattr(dataset, 'get_data_info'):
            raise TypeError(f'JointStatsHook: {type(dataset).__name__} has no get_data_info()')
        paths = []
        seen = set()
        for i in range(len(dataset)):
            info = dataset.get_data_info(i)
            path = info.get('joints_path')
            if path is None:
                raise KeyError(f'JointStatsHook: sample {i} of {type(dataset).__name__} has no '
                               'joints_path (build the dataset with with_joints=True)')
            if path not in seen:
                seen.add(path)
                paths.append(path)
        mean, std = joint_coordinate_stats(paths, getattr(model, 'num_joints', None),
                                           progress=self.progress)
        model.set_feature_stats(mean, std)
        runner.logger.info(f'JointStatsHook: joint statistics from {len(paths)} files of the '
                           'train split')
        if torch.distributed.is_available() and torch.distributed.is_initialized():
            torch.distributed.barrier()

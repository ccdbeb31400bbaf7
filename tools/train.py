"""Train a model from a config: ``python tools/train.py CONFIG [--work-dir DIR] [--resume [auto|PATH]]``."""
import argparse
import os
import os.path as osp
import sys

# Let ``python tools/train.py`` work from a source checkout without installing.
sys.path.insert(0, osp.dirname(osp.dirname(osp.abspath(__file__))))

from mmengine.config import Config, DictAction  # noqa: E402


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description='Train a motionkit model')
    parser.add_argument('config', help='train config file path')
    parser.add_argument('--work-dir', help='the dir to save logs and models')
    parser.add_argument(
        '--resume', nargs='?', type=str, const='auto',
        help='resume from this checkpoint; with no value, resume from the latest checkpoint in '
        'the work dir (if any)')
    parser.add_argument(
        '--allow-unpinned', action='store_true',
        help='accept a downloaded load_from/resume checkpoint (motionkit://, https://, hf://) whose '
        'sha256 is not pinned; its hash is printed so that it can be pinned')
    parser.add_argument('--amp', action='store_true', help='enable automatic mixed precision')
    parser.add_argument(
        '--auto-scale-lr', action='store_true',
        help='scale the learning rate by (total batch size / auto_scale_lr.base_batch_size)')
    parser.add_argument('--no-validate', action='store_true', help='skip validation during training')
    parser.add_argument(
        '--cfg-options', nargs='+', action=DictAction,
        help='override config keys, e.g. "train_cfg.max_iters=10 model.width=64"')
    parser.add_argument(
        '--trust-remote-code', action='store_true',
        help='let the config pass trust_remote_code=True to Hugging Face loaders (runs Python code '
        'shipped with a model folder; a config alone cannot switch this on)')
    parser.add_argument(
        '--launcher', choices=['none', 'pytorch', 'slurm', 'mpi'], default='none',
        help='job launcher')
    # torchrun passes LOCAL_RANK in the environment; --local-rank is accepted for older launchers.
    parser.add_argument('--local_rank', '--local-rank', type=int, default=0)
    args = parser.parse_args(argv)
    if 'LOCAL_RANK' not in os.environ:
        os.environ['LOCAL_RANK'] = str(args.local_rank)
    return args


def merge_args(cfg: Config, args) -> Config:
    if args.work_dir is not None:
        cfg.work_dir = args.work_dir
    elif cfg.get('work_dir', None) is None:
        cfg.work_dir = osp.join('./work_dirs', osp.splitext(osp.basename(args.config))[0])
    cfg.launcher = args.launcher
    if args.amp:
        import torch
        if not torch.cuda.is_available():
            raise SystemExit('--amp needs a CUDA device (mmengine AmpOptimWrapper); this machine '
                             'has none. Drop --amp to train in float32 on the CPU.')
        cfg.optim_wrapper.type = 'AmpOptimWrapper'
        cfg.optim_wrapper.setdefault('loss_scale', 'dynamic')
    if args.resume == 'auto':
        cfg.resume = True
        cfg.load_from = None
    elif args.resume is not None:
        cfg.resume = True
        cfg.load_from = args.resume
    if args.auto_scale_lr:
        if 'auto_scale_lr' not in cfg or 'base_batch_size' not in cfg.auto_scale_lr:
            raise SystemExit(f'{args.config}: --auto-scale-lr needs auto_scale_lr.base_batch_size '
                             'in the config')
        cfg.auto_scale_lr.enable = True
    if args.no_validate:
        cfg.val_cfg = None
        cfg.val_dataloader = None
        cfg.val_evaluator = None
    if args.cfg_options is not None:
        cfg.merge_from_dict(args.cfg_options)
    if args.allow_unpinned and cfg.get('load_from'):
        # the runner's checkpoint schemes never accept an unpinned file: fetch it here, explicitly
        from motionkit.hub import resolve_checkpoint
        cfg.load_from = resolve_checkpoint(cfg.load_from, allow_unpinned=True)
    return cfg


def main(argv=None):
    args = parse_args(argv)
    from motionkit.utils import (destroy_distributed, init_distributed_if_needed,
                                 register_all_modules)
    register_all_modules(init_default_scope=False)
    if args.trust_remote_code:
        from motionkit.utils import allow_remote_code
        allow_remote_code()
    cfg = merge_args(Config.fromfile(args.config), args)
    own_group = init_distributed_if_needed(args.launcher)
    if 'runner_type' in cfg:
        from mmengine.registry import RUNNERS
        runner = RUNNERS.build(cfg)
    else:
        from mmengine.runner import Runner
        runner = Runner.from_cfg(cfg)
    runner.train()
    if own_group:
        destroy_distributed()


if __name__ == '__main__':
    main()

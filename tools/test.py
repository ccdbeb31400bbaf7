"""Test a checkpoint: ``python tools/test.py CONFIG CHECKPOINT|none [--out results.pkl|json] [--show-dir DIR]``.

CHECKPOINT may be a local path or a hub name/URL (``motionkit://<model name>``, ``https://...``,
``hf://<owner>/<repo>/<file>``, ``file://...``): it is downloaded, checked against its pinned sha256
and loaded with ``weights_only=True``.
"""
import argparse
import os
import os.path as osp
import sys

sys.path.insert(0, osp.dirname(osp.dirname(osp.abspath(__file__))))

from mmengine.config import Config, DictAction  # noqa: E402


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description='Test (and evaluate) a motionkit model')
    parser.add_argument('config', help='test config file path')
    parser.add_argument('checkpoint',
                        help='checkpoint file (.pth or .safetensors); "none" tests the model as built '
                        '(training-free baselines such as nearest-neighbour retrieval); also '
                        'motionkit://NAME, https://, hf://, file:// (downloaded and verified)')
    parser.add_argument('--allow-unpinned', action='store_true',
                        help='accept a downloaded checkpoint whose sha256 is not pinned (metafile, '
                        'file name); its hash is printed so that it can be pinned')
    parser.add_argument('--work-dir', help='the dir to save evaluation results and logs')
    parser.add_argument('--out', help='dump predictions to a .pkl or .json file')
    parser.add_argument('--metrics-out', help='write the computed metrics to this .json file (atomic)')
    parser.add_argument('--show-dir', help='render predictions (GIF/MP4) into this folder')
    parser.add_argument('--show', action='store_true', help='render predictions into work_dir/vis')
    parser.add_argument('--cfg-options', nargs='+', action=DictAction,
                        help='override config keys, e.g. "test_dataloader.batch_size=8"')
    parser.add_argument(
        '--trust-remote-code', action='store_true',
        help='let the config pass trust_remote_code=True to Hugging Face loaders (runs Python code '
        'shipped with a model folder; a config alone cannot switch this on)')
    parser.add_argument('--launcher', choices=['none', 'pytorch', 'slurm', 'mpi'], default='none')
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
    if args.checkpoint.lower() == 'none':
        cfg.load_from = None
    elif args.allow_unpinned:
        # the runner's checkpoint schemes never accept an unpinned file: fetch it here, explicitly
        from motionkit.hub import resolve_checkpoint
        cfg.load_from = resolve_checkpoint(args.checkpoint, allow_unpinned=True)
    else:
        cfg.load_from = args.checkpoint
    cfg.resume = False
    if args.show or args.show_dir:
        hooks = cfg.setdefault('default_hooks', {})
        vis_hook = hooks.get('visualization') or dict(type='MotionVisualizationHook')
        vis_hook['enable'] = True
        vis_hook['test_out_dir'] = args.show_dir or 'vis'
        hooks['visualization'] = vis_hook
    if args.out is not None:
        if not args.out.endswith(('.pkl', '.pickle', '.json')):
            raise SystemExit(f'--out must end with .pkl, .pickle or .json, got {args.out}')
        dump = dict(type='DumpPredictions', out_file_path=args.out)
        evaluator = cfg.test_evaluator
        if isinstance(evaluator, (list, tuple)):
            cfg.test_evaluator = list(evaluator) + [dump]
        elif isinstance(evaluator, dict) and 'metrics' in evaluator:
            evaluator['metrics'] = list(evaluator['metrics']) + [dump]
        else:
            cfg.test_evaluator = [evaluator, dump]
    if args.cfg_options is not None:
        cfg.merge_from_dict(args.cfg_options)
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
    metrics = runner.test()
    if args.metrics_out and runner.rank == 0:
        import json
        from motionkit.utils.io import atomic_write_text
        atomic_write_text(args.metrics_out, json.dumps(
            {k: (float(v) if hasattr(v, '__float__') else v) for k, v in metrics.items()}, indent=1) + '\n')
    if own_group:
        destroy_distributed()
    return metrics


if __name__ == '__main__':
    main()

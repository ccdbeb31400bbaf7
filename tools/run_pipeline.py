"""Run a pipeline config: ``python tools/run_pipeline.py PIPELINE_CONFIG [--work-dir DIR] [--dry-run]
[--from STAGE ...] [--cfg-options KEY=VALUE ...]``.

A pipeline config lists stages (a command, a training or a test config), their inputs, outputs and
dependencies (format: ``motionkit/utils/pipeline.py``; examples: ``projects/*/pipeline*.py``). Stages
whose outputs exist and were made by the same command are reused, so an interrupted run resumes;
``--from STAGE`` reruns a stage and what depends on it; ``--dry-run`` prints every stage's command
(each can be run by hand) and whether it would run. The stage times are printed as a table at the
end, and the results stage's output (when the config names one) is printed last.
"""
import argparse
import os.path as osp
import sys

sys.path.insert(0, osp.dirname(osp.dirname(osp.abspath(__file__))))

from mmengine.config import DictAction  # noqa: E402


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    p.add_argument('config', help='pipeline config file')
    p.add_argument('--work-dir', help="where every stage writes (default: the config's work_dir)")
    p.add_argument('--dry-run', action='store_true', help='print the commands, run nothing')
    p.add_argument('--from', dest='start_from', nargs='+', default=[], metavar='STAGE',
                   help='rerun these stages and everything that depends on them')
    p.add_argument('--slots', type=int, default=None, help='stages run side by side (default: the config)')
    p.add_argument('--cfg-options', nargs='+', action=DictAction, default=None,
                   help='override keys of the pipeline config, e.g. vars.iters=50 slots=1')
    return p.parse_args(argv)


def main(argv=None) -> int:
    args = parse_args(argv)
    from motionkit.utils.pipeline import PipelineError, load_pipeline
    options = dict(args.cfg_options or {})
    if args.slots is not None:
        options['slots'] = args.slots
    try:
        pipe = load_pipeline(args.config, work_dir=args.work_dir, options=options)
        if args.dry_run:
            print(pipe.dry_run(args.start_from))
            return 0
        timings = pipe.run(args.start_from)
    except PipelineError as e:
        print(f'run_pipeline: {e}', file=sys.stderr)
        return 1
    print('\n' + pipe.timing_report(timings))
    if pipe.results:
        out = pipe.outputs(pipe.results)[0]
        if osp.isfile(out) and out.endswith(('.md', '.txt')):
            print('\n' + open(out, encoding='utf-8').read())
        else:
            print(f'\nresults: {out}')
    return 0


if __name__ == '__main__':
    sys.exit(main())

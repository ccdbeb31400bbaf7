"""Are two checkpoints bit-identical? Compare their state dicts entry by entry.

    python tools/analysis_tools/compare_checkpoints.py A.pth B.pth

Prints how many entries differ (with the largest absolute difference of each) and, where the
checkpoints carry it (``NumericEnvironmentHook``), how their numeric environments differ: torch
build, CPU vector kernels, thread count, device. Exit status 0 when every entry is bit-identical,
1 otherwise, so a script can check that two runs of one config reproduce each other
(docs/reproducibility.md). Files load with ``weights_only=True`` (``motionkit.utils.safe_load``).
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))  # run from a checkout

from motionkit.utils import install_safe_checkpoint_loader, safe_load  # noqa: E402
from motionkit.utils.reproducibility import compare_state_dicts  # noqa: E402


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description='Compare two checkpoints bit for bit')
    parser.add_argument('a', help='first checkpoint (.pth)')
    parser.add_argument('b', help='second checkpoint (.pth)')
    parser.add_argument('--max-lines', type=int, default=20,
                        help='differing entries to list (default 20)')
    return parser.parse_args(argv)


def _load(path: str) -> tuple:
    ckpt = safe_load(path, map_location='cpu')
    if not isinstance(ckpt, dict):
        raise SystemExit(f'{path}: expected a state dict or an mmengine checkpoint, got '
                         f'{type(ckpt).__name__}')
    state = ckpt.get('state_dict', ckpt)
    meta = ckpt.get('meta') if isinstance(ckpt.get('meta'), dict) else {}
    return state, meta.get('numeric_env')


def main(argv=None) -> int:
    args = parse_args(argv)
    install_safe_checkpoint_loader()  # the numpy / mmengine globals of mmengine checkpoints
    state_a, env_a = _load(args.a)
    state_b, env_b = _load(args.b)
    result = compare_state_dicts(state_a, state_b)
    n_diff = len(result['differing']) + len(result['only_in_a']) + len(result['only_in_b'])
    print(f'{n_diff}/{result["num_entries"]} state-dict entries differ')
    for key, diff in result['differing'][:args.max_lines]:
        print(f'  {key}: ' + ('dtype, shape or value type differ' if diff is None
                              else f'max |a - b| = {diff:.3g}'))
    for side, keys in (('a', result['only_in_a']), ('b', result['only_in_b'])):
        if keys:
            print(f'  only in {side}: {keys[:args.max_lines]}')
    if env_a is None or env_b is None:
        print('numeric environment: not recorded in '
              + ' and '.join(p for p, e in ((args.a, env_a), (args.b, env_b)) if e is None))
    else:
        changed = {k: (env_a.get(k), env_b.get(k)) for k in sorted(set(env_a) | set(env_b))
                   if env_a.get(k) != env_b.get(k)}
        if changed:
            print('numeric environment differs (bit-identity is not expected): '
                  + ', '.join(f'{k}: {a!r} vs {b!r}' for k, (a, b) in changed.items()))
        else:
            print('numeric environment: the same')
    return 0 if result['identical'] else 1


if __name__ == '__main__':
    sys.exit(main())

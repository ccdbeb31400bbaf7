"""Instruction-driven MDM editing on CigTime triplets: does an edit move the edited body part toward
the ground-truth target?

Usage::

    python benchmarks/bench_mdm_editing.py --triplets work_dirs/cigtime_tiny/triplets \\
        --config projects/cigtime/configs/mdm-editor_tiny_1xb32-1k_synthmotion.py \\
        --checkpoint work_dirs/cigtime_tiny/editor/iter_1000.pth \\
        [--strengths 1.0 0.5] [--guidance 2.5] [--split test] [--num 200] [--threads 1] [--by-edit]

Every upper- or lower-body triplet of ``--split`` (the first ``--num``) is edited with its
ground-truth instruction through ``MDM.edit_instructions`` (body-part keep mask, <= 50 DDIM steps,
CigTime's eq. 5 post-blend) at each edit ``strength`` (1: from pure noise, as MDM; below 1:
SDEdit-style, from the source noised to that level). Reported per body part, in mm over the frames
both motions have (``common_length_mpjpe``):

* ``part``: MPJPE of the edited part's joints (the part the instruction is about), global;
* ``part (root-rel.)``: the same, root-relative;
* ``all``: MPJPE of all joints, global;

each for the unedited source (the "do nothing" reference) and the edit. The edit moves the part
toward the target when its ``part`` error is below the source's. SynthMotion's exact editor, driven
by the same instructions, is the reference row.
"""
from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from a checkout

import numpy as np  # noqa: E402
import torch  # noqa: E402

from motionkit.utils.owned_model import build_owned_model  # noqa: E402
from motionkit.evaluation.metrics.instruction_reconstruction_metric import \
    common_length_mpjpe  # noqa: E402
from motionkit.motion import body_part_joints  # noqa: E402
from motionkit.structures import EditRequest  # noqa: E402


def load_triplets(root: Path, split: str, num: int) -> list:
    rows = [json.loads(line) for line in (root / 'triplets.jsonl').read_text().splitlines() if line]
    rows = [r for r in rows if r['split'] == split and r['body_part'] in ('upper_body', 'lower_body')]
    if not rows:
        raise SystemExit(f'{root}: no upper/lower-body triplets in split {split!r}')
    return rows[:num]


def requests_of(root: Path, rows: list) -> list:
    """One :class:`EditRequest` per triplet, with its ground-truth instruction."""
    return [EditRequest(r['instruction'], source_id=r['source_id'], motion=np.load(root / r['source_vecs']),
                        joints=np.load(root / r['source_joints']), body_part=r['body_part'],
                        edited_joints=r['edited_joints'], source_captions=r.get('source_captions') or (),
                        data_root=str(root)) for r in rows]


def by_edit(edited: list, rows: list, root: Path, srcs: list) -> dict:
    """``{(body part, edit operator): (n, source all-joint MPJPE, edited all-joint MPJPE)}``
    (global, mm): which edits an editor brings nearer the target and which it drifts away from."""
    acc: dict = {}
    for out, r, src in zip(edited, rows, srcs):
        tgt = np.load(root / r['target_joints'])
        acc.setdefault((r['body_part'], r.get('edit', '?')), []).append(
            (common_length_mpjpe(src.joints, tgt), common_length_mpjpe(out, tgt)))
    return {k: (len(v), *np.mean(v, axis=0).tolist()) for k, v in acc.items()}


def score(edited: list, rows: list, root: Path, srcs: list) -> dict:
    per_part: dict = {}
    for out, r, src in zip(edited, rows, srcs):
        tgt = np.load(root / r['target_joints'])
        joints = body_part_joints('t2m22', r['body_part'])
        rec = per_part.setdefault(r['body_part'], {k: [] for k in (
            'src_part', 'edit_part', 'src_part_rel', 'edit_part_rel', 'src_all', 'edit_all')})
        for name, motion in (('src', src.joints), ('edit', out)):
            rel_m = motion - motion[:, :1]
            rel_t = tgt - tgt[:, :1]
            rec[f'{name}_part'].append(common_length_mpjpe(motion[:, joints], tgt[:, joints]))
            rec[f'{name}_part_rel'].append(common_length_mpjpe(rel_m[:, joints], rel_t[:, joints]))
            rec[f'{name}_all'].append(common_length_mpjpe(motion, tgt))
    return {part: {k: float(np.mean(v)) for k, v in rec.items()} | {'n': len(rec['src_all'])}
            for part, rec in per_part.items()}


def edit_all(editor, srcs: list, batch: int, seed: int) -> list:
    out = []
    for start in range(0, len(srcs), batch):
        torch.manual_seed(seed + start)
        out += editor.edit_instructions(srcs[start:start + batch])
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--triplets', required=True)
    parser.add_argument('--config', required=True, help='the MDM editor config')
    parser.add_argument('--checkpoint', required=True,
                        help="the editor's checkpoint; 'none' for a config that loads its own "
                             '(BodyPartEditorRouter)')
    parser.add_argument('--strengths', type=float, nargs='+', default=[1.0, 0.5])
    parser.add_argument('--guidance', type=float, default=None, help='default: the config\'s')
    parser.add_argument('--split', default='test')
    parser.add_argument('--num', type=int, default=200)
    parser.add_argument('--batch-size', type=int, default=64)
    parser.add_argument('--seed', type=int, default=0)
    parser.add_argument('--threads', type=int, default=1)
    parser.add_argument('--out', help='write the results as JSON here')
    parser.add_argument('--by-edit', action='store_true',
                        help='also print all-joint MPJPE per edit operator (source -> edit)')
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    root = Path(args.triplets)
    rows = load_triplets(root, args.split, args.num)
    srcs = requests_of(root, rows)

    results = {}
    exact = build_owned_model(dict(type='SynthMotionExactEditor'), None, 'bench')
    results['exact editor'] = score(exact.edit_instructions(srcs), rows, root, srcs)
    ckpt = None if args.checkpoint.lower() == 'none' else args.checkpoint
    mdm = build_owned_model(args.config, ckpt, 'bench', 'edit_instructions')
    # the diffusion editors whose sampling the flags set (each part's editor behind a router)
    samplers = list(mdm.editors.values()) if hasattr(mdm, 'editors') else [mdm]
    if args.guidance is not None:
        for m in samplers:
            m.guidance_scale = args.guidance
    seconds, per_edit = {}, {}
    for strength in args.strengths:
        for m in samplers:
            m.edit_strength = strength
        start = time.time()
        with torch.no_grad():
            edited = edit_all(mdm, srcs, args.batch_size, args.seed)
        seconds[strength] = time.time() - start
        results[f'MDM strength {strength:g}'] = score(edited, rows, root, srcs)
        if args.by_edit:
            per_edit[f'MDM strength {strength:g}'] = by_edit(edited, rows, root, srcs)

    head = ('| editor | part | n | part: source -> edit | part root-rel.: source -> edit | '
            'all joints: source -> edit |')
    lines = [head, '|---|---|---|---|---|---|']
    for name, parts in results.items():
        for part, m in sorted(parts.items()):
            lines.append(f"| {name} | {part} | {m['n']} | {m['src_part']:.1f} -> {m['edit_part']:.1f} | "
                         f"{m['src_part_rel']:.1f} -> {m['edit_part_rel']:.1f} | "
                         f"{m['src_all']:.1f} -> {m['edit_all']:.1f} |")
    print('\n'.join(lines))
    for name, table in per_edit.items():
        print(f'\nper edit, {name}: | part | edit | n | all joints: source -> edit |')
        for (part, edit), (n, src_err, edit_err) in sorted(table.items(), key=lambda kv: (kv[0][0], -kv[1][0])):
            print(f'| {part} | {edit} | {n} | {src_err:.1f} -> {edit_err:.1f} |')
    print('seconds per strength (all triplets):',
          ', '.join(f'{k:g}: {v:.1f}' for k, v in seconds.items()))
    if args.out:
        Path(args.out).write_text(json.dumps(dict(results=results, seconds=seconds), indent=1))


if __name__ == '__main__':
    main()

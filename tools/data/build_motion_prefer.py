"""Build AToM's MotionPrefer preference data (Han et al., CVPR 2025, sec. 3.1-3.3, algorithm 1).

Stages, each resumable (run the same command again after an interruption or a spent --budget),
atomic, with a progress bar; layout and rules in docs/motion_prefer.md:

    prompts   captions/programs -> label groups per subtask -> prompts.jsonl (template or LLM)
    score     a generated-motion folder (index.json + joints/<id>.npy) -> scores.jsonl
    pairs     scores.jsonl -> pairs.jsonl + pairs_stats.json (table 3), score gap > theta
    testsets  caption filter rules -> per-subtask test-set counts (and ids) of a caption split

Examples:
    # prompts from a SynthMotion build's programs, offline templates
    python tools/data/build_motion_prefer.py prompts --data-root DIR --source programs \\
        --num 100 --out prompts_out
    # the paper's route: an LLM behind an OpenAI-compatible server, at most 500 requests
    python tools/data/build_motion_prefer.py prompts --data-root data/HumanML3D --source captions \\
        --route llm --base-url http://127.0.0.1:8000/v1 --model gpt-4o --budget 500 --out prompts_out
    # score generated motions with a vision model (full-image injection) or the offline oracle
    python tools/data/build_motion_prefer.py score --motions gen_dir --scorer vlm \\
        --base-url https://api.openai.com/v1 --model gpt-4o --injection full_image --budget 2000 --out scores_out
    python tools/data/build_motion_prefer.py score --motions gen_dir --scorer oracle --out scores_out
    # the oracle on events found by a trained segment classifier (motions without a program)
    python tools/data/build_motion_prefer.py score --motions gen_dir --scorer oracle \
        --detector projects/atom/configs/segment-classifier_tcn-tiny_1xb64-1k_synthmotion.py \
        --detector-checkpoint work_dirs/segment-classifier_tcn-tiny_1xb64-1k_synthmotion/iter_1000.pth \
        --out scores_out
    python tools/data/build_motion_prefer.py pairs --scores scores_out/scores.jsonl --theta 2 --out pairs_out
    python tools/data/build_motion_prefer.py testsets --data-root data/HumanML3D --split test.txt
"""
import argparse
import json
import sys
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from motionkit.datagen.motion_prefer import (COUNTABLE_PRIMITIVES, SUBTASKS,  # noqa: E402
                                             events_from_program, events_from_tokens, meta_labels,
                                             sample_label_groups, score_samples, subtask_test_sets,
                                             write_pairs, write_prompts, write_subtask_test_sets)
from motionkit.feedback import (CallBudget, OpenAIChatClient, SynthMotionOracleScorer,  # noqa: E402
                                VLMScorer)


def _client(args):
    if not args.base_url or not args.model:
        sys.exit('this route needs --base-url and --model (an OpenAI-compatible server)')
    return OpenAIChatClient(args.base_url, args.model, cache_dir=args.cache_dir, timeout=args.timeout,
                            max_retries=args.max_retries, max_tokens=args.max_tokens)


def _split_ids(root: Path, split: str):
    if split in (None, 'none'):
        return None
    path = root / split
    if not path.is_file():
        sys.exit(f'{path}: split file not found')
    return {line.strip() for line in path.read_text().splitlines() if line.strip()}


def _caption_tokens(root: Path, ids):
    """(motion id, token list) for every caption line of texts/<id>.txt (in id order)."""
    from motionkit.datasets.humanml3d import parse_caption_line
    texts = root / 'texts'
    if not texts.is_dir():
        sys.exit(f'{texts}: no caption folder (HumanML3D texts/<id>.txt)')
    for p in sorted(texts.glob('*.txt')):
        if ids is not None and p.stem not in ids:
            continue
        for n, line in enumerate(p.read_text(encoding='utf-8').splitlines(), 1):
            if line.strip():
                yield p.stem, parse_caption_line(line, str(p), n)['tokens']


def cmd_prompts(args):
    root = Path(args.data_root)
    ids = _split_ids(root, args.split)
    if args.source == 'programs':
        path = root / 'synthmotion' / 'programs.jsonl'
        if not path.is_file():
            sys.exit(f'{path}: not a SynthMotion build (use --source captions)')
        progs = [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
        lists = [events_from_program(p) for p in progs if ids is None or p['id'] in ids]
        countable = [lab for lab in meta_labels(lists) if lab in COUNTABLE_PRIMITIVES]
    else:
        lists = [events_from_tokens(toks) for _, toks in _caption_tokens(root, ids)]
        countable = meta_labels([[e for e in evs if e.count is not None] for evs in lists])
    labels = meta_labels(lists, args.min_label_count)
    groups = []
    for sub in SUBTASKS:
        groups += sample_label_groups(labels, sub, args.num, args.seed,
                                      countable=countable or labels)
    budget = CallBudget(args.budget)
    client = _client(args) if args.route == 'llm' else None
    stats = write_prompts(groups, args.out, args.route, client, budget=budget, progress=not args.quiet)
    stats['meta_labels'] = len(labels)
    print(json.dumps(stats, indent=1, sort_keys=True))
    return 3 if stats['budget_exhausted'] else 0


def cmd_score(args):
    budget = CallBudget(args.budget)
    if args.scorer == 'vlm':
        scorer = VLMScorer(_client(args), injection=args.injection, max_attempts=args.max_attempts,
                           cache_dir=(Path(args.cache_dir) / 'vlm_scores') if args.cache_dir else None,
                           budget=budget)
    elif args.detector:  # the events a learned detector finds in the joints (unknown programs)
        scorer = SynthMotionOracleScorer(detector=dict(
            type='RecognizerEventDetector', classifier=args.detector,
            checkpoint=args.detector_checkpoint, window=args.window, stride=args.stride,
            min_event_frames=args.min_event_frames))
    else:
        scorer = SynthMotionOracleScorer()
    stats = score_samples(args.motions, args.out, scorer, progress=not args.quiet)
    print(json.dumps(stats, indent=1, sort_keys=True))
    return 3 if stats['budget_exhausted'] else 0


def cmd_pairs(args):
    stats = write_pairs(args.scores, args.out, args.theta)
    t = stats['table3']
    print(f"{'subtask':<11}{'prompts':>9}{'motions':>9}{'pairs':>9}")
    for sub in (*SUBTASKS, 'total'):
        print(f"{sub:<11}{t[sub]['prompts']:>9}{t[sub]['motions']:>9}{t[sub]['pairs']:>9}")
    print(f"skipped prompts: {stats['skipped_prompts']}")
    return 0


def cmd_testsets(args):
    root = Path(args.data_root)
    try:
        if args.out:
            stats = write_subtask_test_sets(root, args.out, args.split)
            counts, motions, lines = stats['captions'], stats['motions'], stats['caption_lines']
        else:
            sets, lines = subtask_test_sets(root, args.split)
            counts = {s: len(v) for s, v in sets.items()}
            motions = {s: len({r['id'] for r in v}) for s, v in sets.items()}
    except FileNotFoundError as err:
        sys.exit(str(err))
    print(json.dumps(dict(caption_lines=lines, captions_per_subtask=counts, motions_per_subtask=motions),
                      indent=1))
    return 0


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = p.add_subparsers(dest='stage', required=True)

    def service(q):
        q.add_argument('--base-url', default=None, help='OpenAI-compatible API root (LLM / VLM routes)')
        q.add_argument('--model', default=None, help='model name on that server')
        q.add_argument('--cache-dir', default=None, help='request / score cache folder')
        q.add_argument('--timeout', type=float, default=60.0, help='seconds per HTTP request')
        q.add_argument('--max-retries', type=int, default=3, help='transport retries per request')
        q.add_argument('--max-tokens', type=int, default=256)
        q.add_argument('--budget', type=int, default=None,
                       help='at most this many HTTP requests (cache hits are free); rerun to resume')
        q.add_argument('--quiet', action='store_true', help='no progress bar')

    q = sub.add_parser('prompts', help='label groups -> prompts.jsonl')
    q.add_argument('--data-root', required=True, help='HumanML3D-format folder (or a SynthMotion build)')
    q.add_argument('--source', choices=['programs', 'captions'], default='captions',
                   help="events from SynthMotion programs or from the captions' word/POS tags")
    q.add_argument('--split', default='train.txt', help="split file of the motions to read ('none': all)")
    q.add_argument('--num', type=int, default=100, help='prompts per subtask')
    q.add_argument('--min-label-count', type=int, default=1, help='keep labels seen at least this often')
    q.add_argument('--seed', type=int, default=0)
    q.add_argument('--route', choices=['template', 'llm'], default='template')
    q.add_argument('--out', required=True)
    service(q)
    q.set_defaults(func=cmd_prompts)

    q = sub.add_parser('score', help='generated motions -> scores.jsonl')
    q.add_argument('--motions', required=True, help='generated-motion folder (index.json + joints/)')
    q.add_argument('--scorer', choices=['vlm', 'oracle'], default='oracle',
                   help="'vlm': an OpenAI-compatible vision model; 'oracle': table 4's rules on the "
                        "samples' known programs (SynthMotion)")
    q.add_argument('--injection', choices=['frames', 'full_image', 'trajectory'], default='full_image')
    q.add_argument('--max-attempts', type=int, default=3, help='requests per motion while replies hold no score')
    q.add_argument('--detector', '--detector-config', dest='detector', default=None,
                   help='oracle: a window-classifier config for RecognizerEventDetector (e.g. '
                        'projects/atom/configs/segment-classifier_tcn-tiny_1xb64-1k_synthmotion.py) '
                        "instead of the samples' known programs")
    q.add_argument('--detector-checkpoint', default=None, help='its trained weights')
    q.add_argument('--window', '--detector-window', dest='window', type=int, default=32,
                   help='detector window (frames)')
    q.add_argument('--stride', '--detector-stride', dest='stride', type=int, default=4,
                   help='detector window stride (frames)')
    q.add_argument('--min-event-frames', type=int, default=16, help='detector: shortest event')
    q.add_argument('--out', required=True)
    service(q)
    q.set_defaults(func=cmd_score)

    q = sub.add_parser('pairs', help='scores.jsonl -> pairs.jsonl (algorithm 1) + table 3')
    q.add_argument('--scores', required=True)
    q.add_argument('--theta', type=float, required=True, help='keep pairs whose score gap exceeds theta')
    q.add_argument('--out', required=True)
    q.set_defaults(func=cmd_pairs)

    q = sub.add_parser('testsets', help='per-subtask test-set counts from the caption filter rules')
    q.add_argument('--data-root', required=True)
    q.add_argument('--split', default='test.txt')
    q.add_argument('--out', default=None, help='also write <subtask>.jsonl (the caption lines, read by a dataset\'s '
                   'filter_cfg=dict(caption_subset=...)), <subtask>_ids.txt and testsets_stats.json here')
    q.set_defaults(func=cmd_testsets)
    return p.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    return args.func(args)


if __name__ == '__main__':
    sys.exit(main())

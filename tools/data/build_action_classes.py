"""Build action classes from the captions of a HumanML3D-format dataset (CoAMD sec. 3.1 and 4.1).

Core action verbs of every caption -> MiniLM embeddings -> balanced K-means into K classes ->
each motion labelled with the classes of its captions -> head 10% / medium 30% / tail 60% split by
training frequency. K=400 is the paper's setting for HumanML3D; SynthMotion has 30 action classes
of its own (use --k 30 and --ari to compare against them). Resumable (run the same command again
after an interruption), atomic, with a progress bar. Layout: docs/recognizers.md.

Examples:
    # offline: verbs from the word/POS tokens of the caption lines
    python tools/data/build_action_classes.py data/HumanML3D --k 400 --route pos --seed 0 \\
        --out data/HumanML3D_action_classes
    # the paper's route: an LLM behind an OpenAI-compatible server (answers cached on disk)
    python tools/data/build_action_classes.py data/HumanML3D --k 400 --route llm \\
        --llm-base-url http://127.0.0.1:8000/v1 --llm-model smollm2 --out DIR
    # SynthMotion, checked against its own labels
    python tools/data/build_action_classes.py ~/.cache/motionkit/synthmotion/n1200_s0_... --k 30 \\
        --route pos --out DIR --ari
"""
import argparse
import json
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from motionkit.datagen.action_classes import (LONGTAIL_FRACTIONS, build_action_classes,  # noqa: E402
                                              synthmotion_adjusted_rand_index)


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument('data_root', help='HumanML3D-format folder (texts/<id>.txt and the split files)')
    p.add_argument('--k', type=int, required=True,
                   help='number of action classes (400 for HumanML3D in the paper; at most the number '
                        'of distinct verbs)')
    p.add_argument('--route', choices=['pos', 'llm'], default='pos',
                   help="verb extraction: 'pos' (the captions' word/POS tokens, offline) or 'llm' "
                        "(the paper's route, one request per caption)")
    p.add_argument('--seed', type=int, default=0, help='KMeans seed (same seed, same files)')
    p.add_argument('--out', required=True, help='output folder (resumes an unfinished build)')
    p.add_argument('--train-split', default='train.txt',
                   help="split file whose motions give the class frequencies ('none': every motion)")
    p.add_argument('--fractions', type=float, nargs=3, default=list(LONGTAIL_FRACTIONS),
                   metavar=('HEAD', 'MEDIUM', 'TAIL'), help='shares of the classes (default 0.1 0.3 0.6)')
    p.add_argument('--n-init', type=int, default=10, help='KMeans restarts')
    p.add_argument('--on-missing-verb', choices=['skip', 'error'], default='skip',
                   help='a caption without verb: skip it (counted and listed) or stop with an error')
    p.add_argument('--llm-base-url', default=None, help='OpenAI-compatible server (with --route llm)')
    p.add_argument('--llm-model', default=None, help='model name on that server')
    p.add_argument('--llm-cache-dir', default=None, help='on-disk cache of LLM requests')
    p.add_argument('--prompt-file', default=None, help='verb prompt with one {caption} (default: the '
                                                       "repository's motionkit/datagen/prompts/coamd_action_verbs.txt)")
    p.add_argument('--ari', action='store_true',
                   help="SynthMotion only: print the adjusted Rand index against SynthMotion's own labels")
    p.add_argument('--quiet', action='store_true', help='no progress bar')
    return p.parse_args(argv)


def main(argv=None):
    a = parse_args(argv)
    client = None
    if a.route == 'llm':
        if not (a.llm_base_url and a.llm_model):
            sys.exit('--route llm needs --llm-base-url and --llm-model')
        client = dict(type='OpenAIChatClient', base_url=a.llm_base_url, model=a.llm_model,
                      cache_dir=a.llm_cache_dir)
    t0 = time.time()
    out = build_action_classes(a.data_root, a.out, a.k, route=a.route, seed=a.seed, client=client,
                               train_split=None if a.train_split.lower() == 'none' else a.train_split,
                               fractions=a.fractions, n_init=a.n_init, on_missing_verb=a.on_missing_verb,
                               prompt_file=a.prompt_file, progress=not a.quiet)
    counts = json.loads((out / 'manifest.json').read_text())['counts']
    print(f'{counts["classes"]} action classes over {counts["verbs"]} verbs '
          f'({counts["class_size_min"]}-{counts["class_size_max"]} verbs per class) from '
          f'{counts["captions"]} captions of {counts["motions"]} motions '
          f'({counts["captions_without_verb"]} captions without verb skipped); head / medium / tail '
          f'classes: {counts["buckets"]["head"]} / {counts["buckets"]["medium"]} / '
          f'{counts["buckets"]["tail"]}; written to {out} in {time.time() - t0:.1f} s')
    if a.ari:
        r = synthmotion_adjusted_rand_index(out)
        print(f'adjusted Rand index against SynthMotion\'s labels: {r["ari"]:.4f} over {r["num_verbs"]} verbs, '
              f'{r["occurrence_ari"]:.4f} over their {r["num_occurrences"]} occurrences in the captions of '
              f'{r["num_motions"]} single-action motions')


if __name__ == '__main__':
    main()

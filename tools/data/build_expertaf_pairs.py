"""Build ExpertAF's learner/expert pairs (Ashutosh et al., CVPR 2025, sec. 3.2) from an
Ego-Exo4D-style layout, or from a SynthMotion build's learner/expert pairs.

Commentary -> summary + six body-region labels (--route llm: an OpenAI-compatible server, answers
cached on disk; --route keyword: offline) -> incorrect executions of novices / early experts paired
with correct executions of intermediate / late experts of the same activity and region -> expert
window chosen by PA-MPJPE around the expert's comment time -> top-k per incorrect execution (5 train,
1 val/test). Atomic; an interrupted build continues with --resume; progress bar. Layout, fields and
statistics: docs/expertaf_data.md.

Examples:
    # Ego-Exo4D-style layout (annotations/proficiency_demonstration_<split>.json, videos, poses/)
    python tools/data/build_expertaf_pairs.py --annotations data/egoexo/annotations --out data/expertaf_pairs \\
        --route llm --llm-base-url http://127.0.0.1:8000/v1 --llm-model llama3-70b
    # SynthMotion (built with render_feedback=True), offline route
    python tools/data/build_expertaf_pairs.py --synthmotion ~/.cache/motionkit/synthmotion/<build> \\
        --out work/expertaf_pairs_synth --route keyword
"""
import argparse
import json
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from motionkit.datagen.expertaf import build_expertaf_pairs, write_synthmotion_egoexo_layout  # noqa: E402


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    src = p.add_mutually_exclusive_group(required=True)
    src.add_argument('--annotations', help='folder with proficiency_demonstration_<split>.json '
                                           '(+ optional proficiency_demonstrator_<split>.json)')
    src.add_argument('--synthmotion', help='a finished SynthMotion build with rendered feedback videos')
    p.add_argument('--root', default=None, help='layout root for relative paths (default: the '
                                                "annotation folder's parent)")
    p.add_argument('--layout-dir', default=None, help='--synthmotion: where the layout annotation files '
                                                      'go (default: <out>.synthmotion_layout)')
    p.add_argument('--out', required=True, help='output folder')
    p.add_argument('--resume', action='store_true', help='continue an interrupted build in --out')
    p.add_argument('--route', choices=['llm', 'keyword'], default='keyword',
                   help="commentary -> regions: 'llm' (the paper's) or 'keyword' (offline)")
    p.add_argument('--view', default='ego', help='video view checked against the pose track (default ego)')
    p.add_argument('--window-s', type=float, default=2.0, help='window length in seconds (default 2)')
    p.add_argument('--search-s', type=float, default=1.0,
                   help="how far the expert window may move from the expert's comment time (default 1 s)")
    p.add_argument('--top-k-train', type=int, default=5)
    p.add_argument('--top-k-test', type=int, default=1, help='top-k for val and test')
    p.add_argument('--fps', type=float, default=30.0, help='frame rate of takes without an fps field')
    p.add_argument('--on-bad-input', choices=['skip', 'error'], default='skip',
                   help='a bad take (unreadable or short video, video/pose frame counts differ): skip and '
                        'count it, or stop')
    p.add_argument('--llm-base-url', default=None)
    p.add_argument('--llm-model', default=None)
    p.add_argument('--llm-cache-dir', default=None)
    p.add_argument('--prompt-file', default=None, help='region instruction (default: '
                   'motionkit/datagen/prompts/expertaf_commentary_regions.txt)')
    p.add_argument('--quiet', action='store_true', help='no progress bar')
    return p.parse_args(argv)


def main(argv=None):
    a = parse_args(argv)
    out = Path(a.out)
    if (out / '.partial').exists() and not (out / 'manifest.json').exists() and not a.resume:
        sys.exit(f'{out} holds an unfinished build: run again with --resume to continue it, or delete it')
    client = None
    if a.route == 'llm':
        if not (a.llm_base_url and a.llm_model):
            sys.exit('--route llm needs --llm-base-url and --llm-model')
        client = dict(type='OpenAIChatClient', base_url=a.llm_base_url, model=a.llm_model,
                      cache_dir=a.llm_cache_dir)
    t0 = time.time()
    ann, root = a.annotations, a.root
    if a.synthmotion:
        layout = Path(a.layout_dir) if a.layout_dir else out.with_name(out.name + '.synthmotion_layout')
        ann = write_synthmotion_egoexo_layout(a.synthmotion, layout)
    build_expertaf_pairs(ann, out, root=root, route=a.route, client=client, prompt_file=a.prompt_file,
                         view=a.view, window_s=a.window_s, search_s=a.search_s,
                         top_k=dict(train=a.top_k_train, val=a.top_k_test, test=a.top_k_test), fps=a.fps,
                         on_bad_input=a.on_bad_input, progress=not a.quiet)
    stats = json.loads((out / 'statistics.json').read_text())
    t = stats['totals']
    print(f'{t["pairs"]} pairs for {t["incorrect_executions_paired"]} of {t["incorrect_executions"]} incorrect '
          f'executions; {t["takes_used"]} of {t["takes"]} takes used, {t["comments_labelled"]} of '
          f'{t["comments"]} comments labelled; pairs per split {stats["pairs_per_split"]}; skipped '
          f'{stats["skipped_per_reason"]}; written to {out} in {time.time() - t0:.1f} s')


if __name__ == '__main__':
    main()

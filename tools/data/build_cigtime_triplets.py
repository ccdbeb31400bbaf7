"""Build CigTime corrective triplets (source, instruction, target) over a SynthMotion build.

Resumable (run the same command again after an interruption), atomic, with a progress bar; the
folder's manifest.json records the config, the editor (config + checkpoint sha256), the source
build and the instruction source. Layout: docs/cigtime_data.md.

Examples:
    # SynthMotion's exact edit operators (what the tiny CigTime pipeline uses)
    python tools/data/build_cigtime_triplets.py --num-motions 1500 --seed 0 --editor synthmotion \\
        --per-source 2 --out data/cigtime_triplets
    # a trained MDM editor, instructions from a jsonl file
    python tools/data/build_cigtime_triplets.py --num-motions 1500 --editor configs/mdm/....py \\
        --editor-checkpoint work_dirs/mdm/epoch_50.pth --instructions my_instructions.jsonl --out DIR
    # instruction paraphrases written by an LLM behind an OpenAI-compatible server
    python tools/data/build_cigtime_triplets.py --num-motions 1500 --instructions llm \\
        --llm-base-url http://127.0.0.1:8000/v1 --llm-model smollm2 --out DIR
"""
import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from motionkit.datagen.cigtime_triplets import build_cigtime_triplets  # noqa: E402


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument('--out', required=True, help='output folder (resumes an unfinished build)')
    p.add_argument('--num-motions', type=int, required=True, help='source motions (the SynthMotion build)')
    p.add_argument('--seed', type=int, default=0, help='SynthMotion build seed and instruction sampling')
    p.add_argument('--editor', default='synthmotion',
                   help="'synthmotion' (exact edit operators) or an editor config file (e.g. MDM)")
    p.add_argument('--editor-checkpoint', default=None, help='weights of a model editor')
    p.add_argument('--instructions', default='synthmotion',
                   help="'synthmotion', 'llm', or a jsonl file of {body_part, instruction[, operator]}")
    p.add_argument('--llm-base-url', default=None, help='OpenAI-compatible server (with --instructions llm)')
    p.add_argument('--llm-model', default=None, help='model name on that server')
    p.add_argument('--llm-cache-dir', default=None, help='on-disk cache of LLM requests')
    p.add_argument('--num-paraphrases', type=int, default=5, help='LLM paraphrases per edit operator')
    p.add_argument('--per-source', type=int, default=1, help='triplets per source motion')
    p.add_argument('--synthmotion-cache-dir', default=None, help='cache of SynthMotion builds')
    p.add_argument('--root-angular-velocity', choices=['wrapped', 'official'], default='wrapped',
                   help="feature encoding of the SynthMotion source and the targets: 'wrapped' (default, "
                        "exact through turns past 180 degrees) or 'official' (HumanML3D's process_file)")
    p.add_argument('--quiet', action='store_true', help='no progress bar')
    return p.parse_args(argv)


def main(argv=None):
    a = parse_args(argv)
    source, instruction_file, client = a.instructions, None, None
    if source not in ('synthmotion', 'llm'):
        source, instruction_file = 'file', a.instructions
    if source == 'llm':
        if not (a.llm_base_url and a.llm_model):
            sys.exit('--instructions llm needs --llm-base-url and --llm-model')
        client = dict(type='OpenAIChatClient', base_url=a.llm_base_url, model=a.llm_model,
                      cache_dir=a.llm_cache_dir)
    t0 = time.time()
    out = build_cigtime_triplets(a.out, a.num_motions, a.seed, editor=a.editor,
                                 editor_checkpoint=a.editor_checkpoint, instruction_source=source,
                                 instruction_file=instruction_file, client=client, per_source=a.per_source,
                                 num_paraphrases=a.num_paraphrases, progress=not a.quiet,
                                 synthmotion_cache_dir=a.synthmotion_cache_dir,
                                 root_angular_velocity=a.root_angular_velocity)
    print(f'CigTime triplets written to {out} in {time.time() - t0:.1f} s')


if __name__ == '__main__':
    main()

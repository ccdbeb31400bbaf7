"""Sample motions for MotionPrefer prompts from a trained text-to-motion LM (AToM sec. 3.2:
several MotionGPT generations per prompt, later scored and paired), and turn scored pairs into
the preference model's pairs file.

    # N motions per prompt -> the generated-motion folder of build_motion_prefer.py score
    python tools/data/sample_text_to_motion.py sample CONFIG CHECKPOINT --prompts P/prompts.jsonl \\
        --data-root SYNTHMOTION --num-samples 4 --temperature 1.0 --out GEN [--cfg-options ...]
    # MotionPrefer pairs (motion ids) + the folder's codes -> PreferenceDataset pairs (code ids)
    python tools/data/sample_text_to_motion.py pairs --pairs R/pairs.jsonl --motions GEN --out R/preference_pairs.jsonl

CONFIG is a ``MotionTextLM`` config (e.g. projects/atom/configs/
motiongpt-s2-pretrain_tiny-t5_1xb32-2k_synthmotion.py) and CHECKPOINT its trained weights, or a
checkpoint written by tools/model_converters/merge_preference_lora.py (a fine-tuned policy merged
back into the same model). ``--data-root`` names the folder whose Mean.npy / Std.npy the model was
trained with (the features are de-normalised with them before joints are recovered). Resumable:
run the same command again after an interruption.
"""
import argparse
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from mmengine.config import Config, DictAction  # noqa: E402

from motionkit.datagen.text_to_motion_samples import (read_prompts, sample_prompt_motions,  # noqa: E402
                                                      write_preference_pairs)
from motionkit.utils.io import file_sha256  # noqa: E402


def build_generator(config: str, checkpoint: str, cfg_options=None):
    """The ``MotionTextLM`` of ``config`` with ``checkpoint`` loaded (strict, safe loader). The
    checkpoint holds the frozen VQ-VAE too, so the config's ``tokenizer_checkpoint`` is not read."""
    from mmengine.registry import init_default_scope
    from mmengine.runner import load_checkpoint

    from motionkit.registry import MODELS
    from motionkit.utils.checkpoint import install_safe_checkpoint_loader
    import motionkit.models  # noqa: F401  (registers the models)
    cfg = Config.fromfile(config)
    if cfg_options:
        cfg.merge_from_dict(cfg_options)
    init_default_scope(cfg.get('default_scope', 'motionkit'))
    model_cfg = cfg.model.to_dict()
    if model_cfg.get('type') != 'MotionTextLM':
        sys.exit(f'{config}: model type is {model_cfg.get("type")!r}; this tool samples a MotionTextLM')
    model_cfg['tokenizer_checkpoint'] = None
    model = MODELS.build(model_cfg)
    if not Path(checkpoint).is_file():
        sys.exit(f'{checkpoint}: checkpoint not found')
    install_safe_checkpoint_loader()
    load_checkpoint(model, checkpoint, map_location='cpu', strict=True, revise_keys=[(r'^module\.', '')])
    return model.eval()


def cmd_sample(a):
    import numpy as np
    import torch
    from motionkit.motion.statistics import load_mean_std
    torch.set_num_threads(max(1, a.threads))
    prompts = read_prompts(a.prompts)
    if a.limit:
        prompts = prompts[:a.limit]
    root = Path(a.data_root)
    mean, std = load_mean_std(str(root / 'Mean.npy'), str(root / 'Std.npy'))
    model = build_generator(a.config, a.checkpoint, a.cfg_options)
    sampling = dict(do_sample=True, temperature=a.temperature)
    if a.top_k:
        sampling['top_k'] = a.top_k
    if a.top_p:
        sampling['top_p'] = a.top_p
    config = dict(config=str(a.config), checkpoint_sha256=file_sha256(a.checkpoint),
                  prompts_sha256=file_sha256(a.prompts), mean_sha256=file_sha256(str(root / 'Mean.npy')))
    stats = sample_prompt_motions(model, prompts, a.out, np.asarray(mean), np.asarray(std),
                                  num_samples=a.num_samples, batch_size=a.batch_size, seed=a.seed,
                                  sampling=sampling, failure_frames=a.failure_frames, config=config,
                                  progress=not a.quiet)
    print(json.dumps(stats, indent=1, sort_keys=True))
    return 0


def cmd_pairs(a):
    stats = write_preference_pairs(a.pairs, a.motions, a.out)
    print(json.dumps(stats, indent=1, sort_keys=True))
    return 0 if stats['written'] else 4


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = p.add_subparsers(dest='command', required=True)
    q = sub.add_parser('sample', help='prompts.jsonl -> generated-motion folder')
    q.add_argument('config', help='MotionTextLM config')
    q.add_argument('checkpoint', help='its trained (or merged fine-tuned) weights')
    q.add_argument('--prompts', required=True, help="MotionPrefer prompts.jsonl")
    q.add_argument('--data-root', required=True, help='folder with the Mean.npy / Std.npy of training')
    q.add_argument('--num-samples', type=int, default=4, help='motions per prompt')
    q.add_argument('--temperature', type=float, default=1.0)
    q.add_argument('--top-k', type=int, default=None)
    q.add_argument('--top-p', type=float, default=None)
    q.add_argument('--batch-size', type=int, default=8, help='prompts per generate call')
    q.add_argument('--seed', type=int, default=0)
    q.add_argument('--limit', type=int, default=None, help='only the first N prompts')
    q.add_argument('--failure-frames', type=int, default=40, help='frames of the mean pose of a failed generation')
    q.add_argument('--threads', type=int, default=1, help='torch threads')
    q.add_argument('--cfg-options', nargs='+', action=DictAction, help='override config keys')
    q.add_argument('--quiet', action='store_true', help='no progress bar')
    q.add_argument('--out', required=True)
    q.set_defaults(func=cmd_sample)
    q = sub.add_parser('pairs', help='MotionPrefer pairs.jsonl + motion folder -> PreferenceDataset pairs')
    q.add_argument('--pairs', required=True)
    q.add_argument('--motions', required=True)
    q.add_argument('--out', required=True)
    q.set_defaults(func=cmd_pairs)
    return p.parse_args(argv)


def main(argv=None):
    a = parse_args(argv)
    return a.func(a)


if __name__ == '__main__':
    sys.exit(main())

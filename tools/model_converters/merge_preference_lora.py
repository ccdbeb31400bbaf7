"""Merge a preference-tuned policy (``MotionPreferenceModel``, LoRA or full) back into the
``MotionTextLM`` checkpoint it started from, so that every tool that takes a text-to-motion
checkpoint (``tools/test.py`` with the stage-2 config, ``tools/data/sample_text_to_motion.py``)
runs the fine-tuned model (AToM: the aligned MotionGPT).

    python tools/model_converters/merge_preference_lora.py PREF_CONFIG PREF_CHECKPOINT \\
        --base-checkpoint STAGE2_CHECKPOINT --out merged.pth [--cfg-options ...]

The preference config is built with ``model.init_checkpoint=STAGE2_CHECKPOINT`` (its policy
starts there); its checkpoint is loaded strictly; the LoRA adapter is merged
(``W + B A alpha / r``) and the result replaces the ``llm.lm.`` weights of the base checkpoint
(every key and shape must match). The motion VQ-VAE and the vocabulary stay the base's.
"""
import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from mmengine.config import Config, DictAction  # noqa: E402


def merge(pref_config: str, pref_checkpoint: str, base_checkpoint: str, out: str, cfg_options=None,
          prefix: str = 'llm.lm.') -> dict:
    import torch
    from mmengine.registry import init_default_scope
    from mmengine.runner import load_checkpoint
    from mmengine.runner.checkpoint import _load_checkpoint

    import motionkit.models  # noqa: F401
    from motionkit.registry import MODELS
    from motionkit.utils.checkpoint import install_safe_checkpoint_loader
    from motionkit.utils.io import atomic_write_bytes, file_sha256
    cfg = Config.fromfile(pref_config)
    if cfg_options:
        cfg.merge_from_dict(cfg_options)
    cfg.model.init_checkpoint = base_checkpoint
    init_default_scope(cfg.get('default_scope', 'motionkit'))
    install_safe_checkpoint_loader()
    model = MODELS.build(cfg.model.to_dict())
    load_checkpoint(model, pref_checkpoint, map_location='cpu', strict=True, revise_keys=[(r'^module\.', '')])
    merged = model.merged_lm_state_dict()
    base = _load_checkpoint(base_checkpoint, map_location='cpu')
    state = dict(base.get('state_dict', base))
    old = {k[len(prefix):] for k in state if k.startswith(prefix)}
    if old != set(merged):
        raise KeyError(f'{pref_checkpoint}: the merged policy has keys {sorted(set(merged) - old)[:5]} that '
                       f'{base_checkpoint} lacks and lacks {sorted(old - set(merged))[:5]}')
    for k, v in merged.items():
        if tuple(state[prefix + k].shape) != tuple(v.shape):
            raise ValueError(f'{k}: {tuple(v.shape)} in the policy, {tuple(state[prefix + k].shape)} in '
                             f'{base_checkpoint}')
        state[prefix + k] = v.to(state[prefix + k].dtype)
    meta = dict(merged_from=dict(preference_config=str(pref_config), preference_checkpoint=str(pref_checkpoint),
                                 preference_sha256=file_sha256(pref_checkpoint), base_checkpoint=str(base_checkpoint),
                                 base_sha256=file_sha256(base_checkpoint)))
    import io
    buf = io.BytesIO()
    torch.save(dict(state_dict=state, meta=meta), buf)
    atomic_write_bytes(out, buf.getvalue())
    return meta


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument('config', help='the MotionPreferenceModel config it was trained with')
    p.add_argument('checkpoint', help='its checkpoint')
    p.add_argument('--base-checkpoint', required=True, help='the MotionTextLM checkpoint the policy started from')
    p.add_argument('--out', required=True)
    p.add_argument('--cfg-options', nargs='+', action=DictAction)
    a = p.parse_args(argv)
    merge(a.config, a.checkpoint, a.base_checkpoint, a.out, a.cfg_options)
    print(f'wrote {a.out}')
    return 0


if __name__ == '__main__':
    sys.exit(main())

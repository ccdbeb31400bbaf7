"""Shared steps of the converters in ``tools/model_converters/``: read an official file safely,
rename its keys, load the result into motionkit's module with ``strict=True`` (naming every missing,
unexpected or mis-shaped key), and write a motionkit checkpoint whose sha256 is printed.
"""
from __future__ import annotations

import os
import os.path as osp
import pickle
import sys
from typing import Dict, Iterable, Optional, Sequence, Tuple

import torch
from torch import nn

from motionkit.utils import checkpoint as _checkpoint


class ConversionError(ValueError):
    """The official file is not what the converter expects (wrong model, truncated, keys)."""


def load_official(path: str, expected_keys: Sequence[str] = (), what: str = 'checkpoint') -> dict:
    """``torch.load(weights_only=True)`` of an official file, with errors that say what is wrong.

    Args:
        path: the official file.
        expected_keys: top-level keys the file must have (e.g. ``('text_encoder', ...)``).
        what: what the file should be, for the error messages.
    """
    if not osp.isfile(path):
        raise FileNotFoundError(f'{what} not found: {path}')
    try:
        obj = _checkpoint.safe_load(path, map_location='cpu')
    except RuntimeError as err:
        try:  # what the file asks for, read without unpickling it
            unsafe = torch.serialization.get_unsafe_globals_in_checkpoint(path)
        except Exception:  # not a torch zip file at all
            unsafe = []
        hint = (f'; it holds objects motionkit does not build: {sorted(unsafe)[:10]}' if unsafe else
                ' (truncated download, or not a torch file?)')
        raise ConversionError(f'{path}: cannot be read as a {what}{hint}: {err}') from err
    if not isinstance(obj, dict):
        raise ConversionError(f'{path}: expected a dict ({what}), found {type(obj).__name__}')
    missing = [k for k in expected_keys if k not in obj]
    if missing:
        raise ConversionError(
            f'{path}: this is not a {what}: top-level keys {missing} are missing (found '
            f'{sorted(map(str, obj))[:12]}); is it a checkpoint of another model?')
    return obj


def rename_keys(state: Dict[str, torch.Tensor],
                rules: Iterable[Tuple[str, str]],
                source: str) -> Dict[str, torch.Tensor]:
    """Map each key by the first rule whose official prefix it starts with.

    A key no rule matches is an error that names it (the converter does not know that weight).
    """
    rules = list(rules)
    out: Dict[str, torch.Tensor] = {}
    unknown = []
    for key, value in state.items():
        for old, new in rules:
            if key == old or key.startswith(old):
                out[new + key[len(old):]] = value
                break
        else:
            unknown.append(key)
    if unknown:
        raise ConversionError(f'{source}: keys the converter does not know (extra weights, or a '
                              f'checkpoint of another model variant): {unknown}')
    return out


def load_strict(model: nn.Module, state: Dict[str, torch.Tensor], source: str) -> None:
    """``model.load_state_dict(state, strict=True)`` with every problem named."""
    own = model.state_dict()
    missing = sorted(set(own) - set(state))
    unexpected = sorted(set(state) - set(own))
    shapes = [f'{k}: official {tuple(state[k].shape)} vs motionkit {tuple(own[k].shape)}'
              for k in sorted(set(own) & set(state))
              if tuple(state[k].shape) != tuple(own[k].shape)
              and not k.endswith('word_emb.weight')]  # resized on load (T2M evaluator)
    if missing or unexpected or shapes:
        raise ConversionError(f'{source} does not fit {type(model).__name__}: missing keys '
                              f'{missing}; unexpected keys {unexpected}; shape mismatches {shapes}')
    model.load_state_dict(state, strict=True)


def save_converted(model: nn.Module, out: str, meta: Optional[dict] = None) -> str:
    """Write ``{'state_dict', 'meta'}`` atomically and return its sha256 (also printed)."""
    os.makedirs(osp.dirname(osp.abspath(out)), exist_ok=True)
    tmp = f'{out}.tmp{os.getpid()}'
    torch.save({'state_dict': model.state_dict(), 'meta': dict(meta or {})}, tmp)
    os.replace(tmp, out)
    sha = _checkpoint.file_sha256(out)
    print(f'wrote {out}\nsha256 {sha}')
    return sha


def load_plain_pickle(path: str) -> object:
    """Read a pickle of plain data (word lists, word -> index dicts) without running code
    (:func:`motionkit.utils.safe_pickle_load`: containers, numbers, strings, numeric arrays)."""
    try:
        return _checkpoint.safe_pickle_load(path)
    except (pickle.UnpicklingError, EOFError) as err:
        raise ConversionError(f'not a pickle of plain data: {err}') from err


def run_conversion(convert, *args, **kwargs) -> int:
    """A converter tool's exit status: 0 when ``convert(*args, **kwargs)`` succeeds, 1 with the
    error on stderr when the input is not what the converter expects."""
    try:
        convert(*args, **kwargs)
    except (ConversionError, FileNotFoundError) as err:
        print(f'error: {err}', file=sys.stderr)
        return 1
    return 0


def check_close(name: str, official: torch.Tensor, ours: torch.Tensor, atol: float) -> float:
    """Max abs difference of two outputs; raises if it exceeds ``atol``."""
    if official.shape != ours.shape:
        raise AssertionError(f'{name}: shapes differ: official {tuple(official.shape)} vs '
                             f'motionkit {tuple(ours.shape)}')
    diff = (official - ours).abs().max().item()
    if not diff <= atol:
        raise AssertionError(f'{name}: max abs difference {diff:.3g} > {atol}')
    return diff




def t2m_gpt_tcn_rules(official: str, ours: str, down_t: int, depth: int) -> list:
    """Key rules for T2M-GPT's ``Encoder``/``Decoder`` (``models/encdec.py``, also MoMask's)
    onto motionkit's ``TCNEncoder``/``TCNDecoder``.

    Official encoder ``model``: [conv_in, ReLU, down_t x (conv, Resnet1D), conv_out]; decoder
    ``model``: [conv_in, ReLU, down_t x (Resnet1D, Upsample, conv), conv_mid, ReLU, conv_out].
    Both list their residual blocks largest dilation first, as motionkit does.
    """
    e, d = f'{official}encoder.model.', f'{official}decoder.model.'
    rules = [(f'{e}0.', f'{ours}encoder.conv_in.'), (f'{e}{2 + down_t}.', f'{ours}encoder.conv_out.'),
             (f'{d}0.', f'{ours}decoder.conv_in.'), (f'{d}{2 + down_t}.', f'{ours}decoder.conv_mid.'),
             (f'{d}{4 + down_t}.', f'{ours}decoder.conv_out.')]
    for i in range(down_t):
        rules.append((f'{e}{2 + i}.0.', f'{ours}encoder.down.{i}.'))
        rules.append((f'{d}{2 + i}.2.', f'{ours}decoder.up_conv.{i}.'))
        for j in range(depth):
            for conv in ('conv1', 'conv2'):
                rules.append((f'{e}{2 + i}.1.model.{j}.{conv}.', f'{ours}encoder.res.{i}.blocks.{j}.{conv}.'))
                rules.append((f'{d}{2 + i}.0.model.{j}.{conv}.', f'{ours}decoder.res.{i}.blocks.{j}.{conv}.'))
    return rules


def tcn_sizes(state: dict, official: str) -> dict:
    """width, code_dim, feature_dim, down_t, depth of a T2M-GPT-style conv VQ-VAE state dict."""
    e = f'{official}encoder.model.'
    down = sorted({int(k[len(e):].split('.')[0]) for k in state
                   if k.startswith(e) and k[len(e):].split('.')[1] == '0'
                   and k[len(e):].split('.')[2] == 'weight' and k[len(e):].split('.')[0] != '0'})
    down_t = len(down)
    depth = len({k[len(f'{e}2.1.model.'):].split('.')[0] for k in state
                 if k.startswith(f'{e}2.1.model.')})
    conv_in = state[f'{e}0.weight']
    return dict(feature_dim=conv_in.shape[1], width=conv_in.shape[0],
                code_dim=state[f'{e}{2 + down_t}.weight'].shape[0], down_t=down_t, depth=depth)

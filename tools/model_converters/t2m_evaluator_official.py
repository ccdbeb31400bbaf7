"""Convert Guo et al.'s official T2M evaluator into a motionkit ``T2MEvaluator`` checkpoint.

Inputs (from the user's copies; nothing is downloaded):

- ``finest.tar``: ``checkpoints/t2m/text_mot_match/model/finest.tar`` of ``t2m.zip`` (MDM's
  ``prepare/download_t2m_evaluators.sh``; ``kit.zip`` for KIT-ML), holding ``text_encoder``,
  ``motion_encoder`` and ``movement_encoder``. ``--movement-encoder`` takes the movement encoder
  from another file instead (``Decomp_SP001_SM001_H512/model/latest.tar``, key ``movement_enc``).
- ``--glove-dir``: the GloVe subset ``our_vab_data.npy``, ``our_vab_words.pkl``, ``our_vab_idx.pkl``
  (``glove.zip``); the pickles are read as plain data, never as code.
- ``--pos-vocab``: the official ``word_vectorizer.py`` (its ``VIP_dict`` word lists, read with
  ``ast``, never imported) or a JSON ``{class: [words]}``.
- ``--mean/--std``: the evaluator's own statistics (``t2m_mean.npy``/``t2m_std.npy`` of MDM's
  ``dataset/``, i.e. ``Comp_v6_KLD01/meta/{mean,std}.npy``). They go into the checkpoint's
  ``mean``/``std`` buffers: the evaluator normalises raw 263-D features itself, as the protocol
  needs (generated motions are de-normalised with the dataset's Mean/Std, then re-normalised with
  these), whatever statistics the model under test uses.

Output folder: ``t2m_evaluator.pth`` (weights + GloVe vectors + statistics), ``glove_vocab.txt``,
``vip_words.json``: what ``configs/t2m_evaluator/t2m-evaluator_official_humanml3d.py`` reads.

    python tools/model_converters/t2m_evaluator_official.py \\
        checkpoints/t2m/text_mot_match/model/finest.tar \\
        --glove-dir glove --pos-vocab data_loaders/humanml/utils/word_vectorizer.py \\
        --mean <MDM repo>/dataset/t2m_mean.npy --std <MDM repo>/dataset/t2m_std.npy \\
        --out-dir checkpoints/t2m-evaluator_official_humanml3d
"""
import argparse
import ast
import json
import os
import os.path as osp
import sys
from typing import Optional

sys.path.insert(0, osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__)))))

import numpy as np  # noqa: E402
import torch  # noqa: E402

from motionkit.hub.converters import (ConversionError, load_official, load_plain_pickle,  # noqa: E402
                                      load_strict, rename_keys, run_conversion, save_converted)
from motionkit.models.evaluators.t2m_evaluator import POS_CATEGORIES, T2MEvaluator  # noqa: E402
from motionkit.utils.checkpoint import file_sha256  # noqa: E402

# sha256 of the evaluator statistics in MDM's repository (dataset/*.npy, float64; computed from
# github.com/GuyTevet/motion-diffusion-model at d4fd88c): the converter says whether yours are these
KNOWN_STATS = {
    '0bdb5ba69a3a9e34d71990db15bc535ebc024c8d95ddb5574196f96058faa7d3': 'MDM dataset/t2m_mean.npy',
    '6a5f7d60301c9465972fc225f8ad0ee8f957e7720431189123eb6d15873a9557': 'MDM dataset/t2m_std.npy',
    '9e23fac51db2215ab5666324226be48f27efd6a6e7b22ebd17c28e0f056a7c22': 'MDM dataset/kit_mean.npy',
    '296a60656cea07e65ee64512d73d47c0412df0698b35194116330661be32fa90': 'MDM dataset/kit_std.npy',
}

# official module/key prefix -> motionkit prefix
MOVEMENT_RULES = [('main.0.', 'movement_encoder.conv1.0.'), ('main.3.', 'movement_encoder.conv2.0.'),
                  ('out_net.', 'movement_encoder.out.')]
TEXT_RULES = [('pos_emb.', 'pos_emb.'), ('input_emb.', 'text_encoder.input_emb.'),
              ('gru.', 'text_encoder.gru.'), ('output_net.', 'text_encoder.out.'),
              ('hidden', 'text_encoder.hidden0')]
MOTION_RULES = [('input_emb.', 'motion_encoder.input_emb.'), ('gru.', 'motion_encoder.gru.'),
                ('output_net.', 'motion_encoder.out.'), ('hidden', 'motion_encoder.hidden0')]


def read_pos_vocab(path: str) -> dict:
    """VIP word lists from the official ``word_vectorizer.py`` (parsed, not run) or a JSON file."""
    if path.endswith('.json'):
        with open(path) as f:
            vip = json.load(f)
    else:
        tree = ast.parse(open(path).read(), filename=path)
        literals, vip = {}, None
        for node in tree.body:
            if not (isinstance(node, ast.Assign) and len(node.targets) == 1
                    and isinstance(node.targets[0], ast.Name)):
                continue
            name = node.targets[0].id
            if name == 'VIP_dict':
                if not isinstance(node.value, ast.Dict):
                    raise ConversionError(f'{path}: VIP_dict is not a dict literal')
                vip = {}
                for k, v in zip(node.value.keys, node.value.values):
                    key = ast.literal_eval(k)
                    if isinstance(v, ast.Name):
                        if v.id not in literals:
                            raise ConversionError(f'{path}: VIP_dict[{key!r}] names {v.id}, which '
                                                  'is not a literal defined above it')
                        vip[key] = literals[v.id]
                    else:
                        vip[key] = ast.literal_eval(v)
            else:
                try:
                    literals[name] = ast.literal_eval(node.value)
                except ValueError:
                    pass  # not a literal (a class, a function call): not needed
        if vip is None:
            raise ConversionError(f'{path}: no VIP_dict found (expected the official '
                                  'data_loaders/humanml/utils/word_vectorizer.py)')
    bad = [k for k in vip if k not in POS_CATEGORIES[9:14]]
    if bad:
        raise ConversionError(f'{path}: unknown VIP classes {bad}; expected {POS_CATEGORIES[9:14]}')
    return {k: list(v) for k, v in vip.items()}


def read_glove(glove_dir: str, prefix: str = 'our_vab'):
    """Words (in row order of the returned matrix) and their vectors, as WordVectorizer maps them."""
    vectors = np.load(osp.join(glove_dir, f'{prefix}_data.npy'))
    words = load_plain_pickle(osp.join(glove_dir, f'{prefix}_words.pkl'))
    word2idx = load_plain_pickle(osp.join(glove_dir, f'{prefix}_idx.pkl'))
    if not isinstance(words, list) or not isinstance(word2idx, dict):
        raise ConversionError(f'{glove_dir}: expected a word list and a word -> row dict')
    missing = [w for w in words if w not in word2idx]
    if missing:
        raise ConversionError(f'{glove_dir}/{prefix}_idx.pkl: no row for words {missing[:10]}')
    if 'unk' not in words:
        raise ConversionError(f'{glove_dir}/{prefix}_words.pkl: no "unk" word')
    rows = np.stack([vectors[word2idx[w]] for w in words]).astype(np.float32)
    return words, rows


def convert(finest: str, glove_dir: str, pos_vocab: str, mean: str, std: str, out_dir: str,
            movement_encoder: Optional[str] = None) -> str:
    """Write the converted evaluator into ``out_dir``; returns the checkpoint's sha256."""
    ckpt = load_official(finest, ('text_encoder', 'motion_encoder', 'movement_encoder'),
                         'T2M evaluator finest.tar (text_mot_match)')
    movement = ckpt['movement_encoder']
    if movement_encoder is not None:
        other = load_official(movement_encoder, (), 'movement encoder checkpoint')
        key = 'movement_encoder' if 'movement_encoder' in other else 'movement_enc'
        if key not in other:
            raise ConversionError(f'{movement_encoder}: no movement_encoder / movement_enc key '
                                  f'(found {sorted(other)[:12]})')
        movement = other[key]
    state = {}
    state.update(rename_keys(movement, MOVEMENT_RULES, f'{finest} [movement_encoder]'))
    state.update(rename_keys(ckpt['text_encoder'], TEXT_RULES, f'{finest} [text_encoder]'))
    state.update(rename_keys(ckpt['motion_encoder'], MOTION_RULES, f'{finest} [motion_encoder]'))

    words, vectors = read_glove(glove_dir)
    vip = read_pos_vocab(pos_vocab)
    mean_np, std_np = np.load(mean).astype(np.float32), np.load(std).astype(np.float32)
    for path in (mean, std):
        known = KNOWN_STATS.get(file_sha256(path))
        print(f'{path}: ' + (f'identical to {known}' if known else
                             "not one of MDM's published evaluator statistics (check it is the "
                             "evaluator's own mean/std, not the dataset's Mean.npy/Std.npy)"))
    conv1 = state['movement_encoder.conv1.0.weight']
    feature_dim = conv1.shape[1] + 4  # the evaluator drops the 4 foot-contact channels
    if mean_np.shape != (feature_dim, ) or std_np.shape != (feature_dim, ):
        raise ConversionError(f'{mean} / {std}: expected shape ({feature_dim},) for this evaluator '
                              f'(its movement encoder reads {feature_dim - 4} channels), got '
                              f'{mean_np.shape} / {std_np.shape}')
    word_dim = state['pos_emb.weight'].shape[0]
    if vectors.shape[1] != word_dim:
        raise ConversionError(f'{glove_dir}: word vectors are {vectors.shape[1]}-d, the text encoder '
                              f'expects {word_dim}-d')
    sizes = dict(
        feature_dim=feature_dim, movement_hidden=conv1.shape[0],
        movement_dim=state['movement_encoder.out.weight'].shape[0],
        motion_hidden=state['motion_encoder.input_emb.weight'].shape[0],
        text_hidden=state['text_encoder.input_emb.weight'].shape[0],
        embed_dim=state['text_encoder.out.3.weight'].shape[0], word_dim=word_dim)
    os.makedirs(out_dir, exist_ok=True)
    vocab_path = osp.join(out_dir, 'glove_vocab.txt')
    vip_path = osp.join(out_dir, 'vip_words.json')
    with open(vocab_path, 'w', encoding='utf-8') as f:
        f.write(''.join(w + '\n' for w in words))
    with open(vip_path, 'w', encoding='utf-8') as f:
        json.dump(vip, f, indent=1)
    model = T2MEvaluator(**sizes, word_embedding='pretrained', word_vocab_path=vocab_path,
                         vip_words=vip_path, oov_pos='other', mask_padding=False)
    state['word_emb.weight'] = torch.from_numpy(vectors)
    state['mean'] = torch.from_numpy(mean_np)
    state['std'] = torch.from_numpy(std_np)
    state['stats_flag'] = torch.tensor(True)
    load_strict(model, state, finest)
    meta = dict(converted_from=osp.basename(finest), epoch=int(ckpt.get('epoch', -1)),
                sizes=sizes, converter='tools/model_converters/t2m_evaluator_official.py')
    return save_converted(model, osp.join(out_dir, 't2m_evaluator.pth'), meta)


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description="Convert Guo et al.'s T2M evaluator (finest.tar)")
    p.add_argument('finest', help='text_mot_match/model/finest.tar')
    p.add_argument('--glove-dir', required=True, help='folder with our_vab_{data.npy,words.pkl,idx.pkl}')
    p.add_argument('--pos-vocab', required=True,
                   help="the official word_vectorizer.py (VIP_dict) or a JSON {class: [words]}")
    p.add_argument('--mean', required=True, help='the evaluator mean (t2m_mean.npy)')
    p.add_argument('--std', required=True, help='the evaluator std (t2m_std.npy)')
    p.add_argument('--movement-encoder', help='take the movement encoder from this file instead')
    p.add_argument('--out-dir', required=True)
    args = p.parse_args(argv)
    return run_conversion(convert, args.finest, args.glove_dir, args.pos_vocab, args.mean, args.std, args.out_dir,
                args.movement_encoder)


if __name__ == '__main__':
    sys.exit(main())

"""The official T2M evaluator (a tiny random one built from the public code, tests/data fixture)
converts into motionkit's T2MEvaluator with strict=True and gives the same embeddings."""
import importlib.util
import shutil

import pytest
import torch

from motionkit.hub.converters import ConversionError
from tests.conftest import REPO_ROOT

DATA = REPO_ROOT / 'tests' / 'data' / 'model_converters' / 't2m_evaluator'


def _converter():
    path = REPO_ROOT / 'tools' / 'model_converters' / 't2m_evaluator_official.py'
    spec = importlib.util.spec_from_file_location('_t2m_eval_conv', path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _convert(tmp_path, finest=None, **kw):
    args = dict(glove_dir=str(DATA / 'glove'), pos_vocab=str(DATA / 'word_vectorizer_lists.py'),
                mean=str(DATA / 't2m_mean.npy'), std=str(DATA / 't2m_std.npy'),
                out_dir=str(tmp_path / 'out'))
    args.update(kw)
    return _converter().convert(str(finest or DATA / 'finest.tar'), **args)


def _build(out_dir, sizes):
    from mmengine.config import Config
    from mmengine.registry import DefaultScope

    from motionkit.registry import MODELS
    from motionkit.utils import register_all_modules, safe_load
    register_all_modules(init_default_scope=False)
    cfg = Config.fromfile(str(REPO_ROOT / 'configs/t2m_evaluator/t2m-evaluator_official_humanml3d.py'))
    model_cfg = cfg.model.to_dict()
    model_cfg.update(sizes, word_vocab_path=f'{out_dir}/glove_vocab.txt',
                     vip_words=f'{out_dir}/vip_words.json')
    with DefaultScope.overwrite_default_scope('motionkit'):
        model = MODELS.build(model_cfg)
    model.load_state_dict(safe_load(f'{out_dir}/t2m_evaluator.pth')['state_dict'], strict=True)
    return model.eval()


def test_converted_evaluator_matches_the_official_outputs(tmp_path):
    sha = _convert(tmp_path)
    assert len(sha) == 64
    io = torch.load(DATA / 'io.pt', weights_only=True)
    # the shipped config at the fixture's tiny sizes (the published sizes are checked on meta)
    model = _build(tmp_path / 'out', io['sizes'])
    with torch.no_grad():
        text = model.encode_text(io['tokens'], io['sent_lens'])
        motion = model.encode_motion(io['raw_motion'], io['lengths'])
    assert (text - io['text_embedding']).abs().max() < 1e-5
    assert (motion - io['motion_embedding']).abs().max() < 1e-5
    # the official featurisation: an out-of-vocabulary word is unk with the OTHER class
    ids, pos, _ = model.tokenize([['person/NOUN', 'walk/NOUN', 'left/ADJ']])
    assert ids[0, 0] == model.vocab['unk'] and pos[0, 0].argmax() == 14
    assert pos[0, 1].argmax() == 12 and pos[0, 2].argmax() == 9  # Act_VIP, Loc_VIP win over tags
    assert model.feature_stats_set


def test_official_config_builds_at_the_published_size():
    from mmengine.config import Config
    from mmengine.registry import DefaultScope

    from motionkit.registry import MODELS
    from motionkit.utils import register_all_modules
    register_all_modules(init_default_scope=False)
    cfg = Config.fromfile(str(REPO_ROOT / 'configs/t2m_evaluator/t2m-evaluator_official_humanml3d.py'))
    with DefaultScope.overwrite_default_scope('motionkit'), torch.device('meta'):
        model = MODELS.build(cfg.model)
    assert model.movement_encoder.conv1[0].weight.shape == (512, 259, 4)
    assert model.motion_encoder.gru.hidden_size == 1024 and model.text_encoder.gru.hidden_size == 512
    assert model.pos_emb.weight.shape == (300, 15)


def test_bad_inputs_are_named(tmp_path):
    # a checkpoint of another model
    other = tmp_path / 'other.pth'
    torch.save({'state_dict': {'w': torch.zeros(1)}}, other)
    with pytest.raises(ConversionError, match="not a T2M evaluator.*'motion_encoder'"):
        _convert(tmp_path, other)
    # a truncated download
    truncated = tmp_path / 'finest.tar'
    truncated.write_bytes((DATA / 'finest.tar').read_bytes()[:5000])
    with pytest.raises(ConversionError, match='truncated'):
        _convert(tmp_path, truncated)
    # extra and missing keys are named
    ckpt = torch.load(DATA / 'finest.tar', weights_only=True)
    ckpt['text_encoder']['attn.weight'] = torch.zeros(2)
    extra = tmp_path / 'extra.tar'
    torch.save(ckpt, extra)
    with pytest.raises(ConversionError, match=r"\['attn.weight'\]"):
        _convert(tmp_path, extra)
    ckpt = torch.load(DATA / 'finest.tar', weights_only=True)
    del ckpt['motion_encoder']['hidden']
    missing = tmp_path / 'missing.tar'
    torch.save(ckpt, missing)
    with pytest.raises(ConversionError, match=r"missing keys \['motion_encoder.hidden0'\]"):
        _convert(tmp_path, missing)
    # statistics of the wrong width
    import numpy as np
    np.save(tmp_path / 'mean.npy', np.zeros(251, np.float32))
    with pytest.raises(ConversionError, match=r'expected shape \(263,\)'):
        _convert(tmp_path, mean=str(tmp_path / 'mean.npy'))


def test_pos_vocab_from_json_and_refused_pickle(tmp_path):
    import json
    import pickle
    conv = _converter()
    vip = conv.read_pos_vocab(str(DATA / 'word_vectorizer_lists.py'))
    assert vip['Act_VIP'] == ['walk', 'kick', 'walk'] and vip['Loc_VIP'] == ['left', 'forward']
    (tmp_path / 'vip.json').write_text(json.dumps(vip))
    assert conv.read_pos_vocab(str(tmp_path / 'vip.json')) == vip
    glove = tmp_path / 'glove'
    shutil.copytree(DATA / 'glove', glove)

    class Evil:
        def __reduce__(self):
            return (print, ('ran',))

    with open(glove / 'our_vab_words.pkl', 'wb') as f:
        pickle.dump([Evil()], f)
    with pytest.raises(ConversionError, match='refusing to load global builtins.print'):
        conv.read_glove(str(glove))

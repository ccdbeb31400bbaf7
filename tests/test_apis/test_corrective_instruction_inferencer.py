"""CorrectiveInstructionInferencer on the tiny CigTime config and the test triplet folder."""
import copy
import os

import numpy as np
import pytest
import torch
from mmengine.registry import DefaultScope

from motionkit.apis import CorrectiveInstructionInferencer
from motionkit.models.llm_heads.word_level_tokenizer import detokenize, split_words
from motionkit.registry import INFERENCERS, MODELS
from tests.conftest import REPO_ROOT

CONFIG = REPO_ROOT / 'projects' / 'cigtime' / 'configs' / 'cigtime_tiny_1xb32-1k_synthmotion.py'


@pytest.fixture(scope='module')
def cigtime_cfg(cigtime_work_dir):
    """The tiny CigTime config on the test work dir, with a random (codebook-initialised) motion
    tokenizer checkpoint where the config expects the stage-2 one."""
    from mmengine.config import Config
    mp = pytest.MonkeyPatch()
    mp.setenv('CIGTIME_WORK_DIR', str(cigtime_work_dir))
    cfg = Config.fromfile(str(CONFIG))
    ckpt = cfg.model.tokenizer_checkpoint
    if not os.path.exists(ckpt):
        torch.manual_seed(0)
        with DefaultScope.overwrite_default_scope('motionkit'):
            tok = MODELS.build(copy.deepcopy(cfg.model.tokenizer.to_dict()))
        tok.train()  # one training forward initialises the VQ codebook
        tok.loss(torch.randn(4, 64, tok.feature_dim), torch.full((4, ), 64))
        os.makedirs(os.path.dirname(ckpt), exist_ok=True)
        torch.save(dict(state_dict=tok.state_dict(), meta=dict()), ckpt)
    yield cfg
    mp.undo()


def _test_loader(cfg, batch_size=None):
    from mmengine.runner import Runner
    loader_cfg = copy.deepcopy(cfg.test_dataloader.to_dict())
    if batch_size is not None:
        loader_cfg['batch_size'] = batch_size
    with DefaultScope.overwrite_default_scope('motionkit'):
        return Runner.build_dataloader(loader_cfg, seed=0)


def _paths(sample):
    return sample.metainfo['source_motion_path'], sample.metainfo['motion_path']


@pytest.fixture(scope='module')
def trained(cigtime_cfg):
    """An inferencer whose model memorised the instructions of four test triplets (trained on the
    test pipeline's batches, so the inferencer must rebuild the same normalised inputs to recall
    them)."""
    torch.manual_seed(0)
    inferencer = CorrectiveInstructionInferencer(cigtime_cfg)
    model = inferencer.model
    batch = next(iter(_test_loader(cigtime_cfg, batch_size=4)))
    assert len({s.gt_instruction for s in batch['data_samples']}) == 4
    data = model.data_preprocessor(batch, True)
    opt = torch.optim.AdamW([p for p in model.parameters() if p.requires_grad], lr=3e-3)
    model.train()
    for _ in range(60):
        loss = sum(model(data['inputs'], data['data_samples'], mode='loss').values())
        opt.zero_grad()
        loss.backward()
        opt.step()
    model.eval()
    texts = [s.pred_instruction for s in model.test_step(batch)]
    # memorised (words outside the train-split vocabulary drop out): four different texts, so a
    # pair fed wrongly would be answered wrongly
    # (test instructions are phrased with wording no training instruction uses: many of their words
    # are outside the vocabulary)
    vocab = set(model.llm._vocab)
    gts = [detokenize(' '.join(w for w in split_words(s.gt_instruction) if w in vocab))
           for s in batch['data_samples']]
    assert len(set(texts)) == 4 and sum(t == g for t, g in zip(texts, gts)) >= 3, (texts, gts)
    return inferencer, [_paths(s) for s in batch['data_samples']], texts


def test_recalls_memorised_instructions_from_paths_and_arrays(trained):
    inferencer, pairs, texts = trained
    sources, targets = [p[0] for p in pairs], [p[1] for p in pairs]
    out = inferencer(sources, targets)
    assert [o['instruction'] for o in out] == texts
    assert [(o['source'], o['target']) for o in out] == pairs
    # one pair, as arrays: same text (batch composition does not change greedy decoding here)
    single = inferencer(np.load(sources[1]), np.load(targets[1]))
    assert single == [dict(instruction=texts[1], source='array', target='array')]
    # greedy decoding: a second call gives the same texts
    assert [o['instruction'] for o in inferencer(sources, targets)] == texts


def test_wrong_statistics_change_the_prompt(trained, cigtime_work_dir):
    """The default statistics are the triplet folder's Mean.npy / Std.npy (the test dataset's
    data_root); other statistics give other motion tokens."""
    inferencer, pairs, _ = trained
    root = cigtime_work_dir / 'triplets'
    assert inferencer.stats_source.startswith('test_dataloader.dataset.data_root')
    np.testing.assert_array_equal(inferencer.mean, np.load(root / 'Mean.npy').astype(np.float32))
    seen = []
    model = inferencer.model
    original = model.prompts
    model.prompts = lambda inputs: seen.append(original(inputs)[0]) or original(inputs)
    try:
        inferencer(*pairs[0])
        other = CorrectiveInstructionInferencer(model, mean=np.zeros(263), std=np.ones(263))
        other(*pairs[0])
    finally:
        del model.prompts
    assert len(seen) == 2 and seen[0] != seen[1]


def test_matches_the_test_dataloader_predictions(cigtime_cfg, cigtime_work_dir):
    """Same prompts and instructions as ``model.test_step`` over the test split's batches."""
    torch.manual_seed(1)
    inferencer = INFERENCERS.build(dict(type='CorrectiveInstructionInferencer', model=cigtime_cfg,
                                        batch_size=8))
    model = inferencer.model
    expected, pairs = [], []
    for batch in _test_loader(cigtime_cfg, batch_size=8):
        data = model.data_preprocessor(batch, False)
        expected.extend(model(data['inputs'], data['data_samples'], mode='tensor'))
        pairs.extend(_paths(s) for s in batch['data_samples'])
        assert [s.pred_instruction for s in model.test_step(batch)]  # runs predict end to end
    seen = []
    original = model.prompts
    model.prompts = lambda inputs: seen.extend(original(inputs)[0]) or original(inputs)
    try:
        out = inferencer([p[0] for p in pairs], [p[1] for p in pairs])
    finally:
        del model.prompts
    assert len(pairs) == 20 and seen == expected and len(set(expected)) > 1
    preds = []
    for batch in _test_loader(cigtime_cfg, batch_size=8):
        preds.extend(s.pred_instruction for s in model.test_step(batch))
    assert [o['instruction'] for o in out] == preds
    assert all(isinstance(p, str) and p for p in preds)


def test_loads_weights_from_a_config_path(trained, cigtime_cfg, tmp_path, monkeypatch,
                                          cigtime_work_dir):
    inferencer, pairs, texts = trained
    ckpt = tmp_path / 'cigtime.pth'
    torch.save(dict(state_dict=inferencer.model.state_dict(), meta=dict()), ckpt)
    monkeypatch.setenv('CIGTIME_WORK_DIR', str(cigtime_work_dir))
    loaded = CorrectiveInstructionInferencer(str(CONFIG), str(ckpt))
    assert loaded.max_length == 196
    assert [o['instruction'] for o in loaded(*zip(*pairs))] == texts
    bad = tmp_path / 'bad.pth'
    torch.save(dict(state_dict={'llm.not_a_weight': torch.zeros(1)}), bad)
    with pytest.raises(KeyError, match='llm.not_a_weight'):
        CorrectiveInstructionInferencer(cigtime_cfg, str(bad))


def test_bad_inputs_are_named(trained, tmp_path):
    inferencer, pairs, _ = trained
    source, target = pairs[0]
    wide = tmp_path / 'wide.npy'
    np.save(wide, np.zeros((30, 100), dtype=np.float32))
    with pytest.raises(ValueError, match=r'wide\.npy.*263'):
        inferencer(str(wide), target)
    nan = np.load(target)
    nan[3, 5] = np.nan
    with pytest.raises(ValueError, match=r'target\[0\] array: .*NaN'):
        inferencer(source, nan)
    with pytest.raises(ValueError, match=r'source\[0\] array: .*\(T, 263\).*\(30, 7\)'):
        inferencer(np.zeros((30, 7)), target)
    with pytest.raises(ValueError, match='2 sources but 1 targets'):
        inferencer([source, source], [target])
    with pytest.raises(FileNotFoundError, match='missing.npy'):
        inferencer(source, str(tmp_path / 'missing.npy'))


def test_missing_statistics_are_named(cigtime_cfg, tmp_path):
    model_cfg = copy.deepcopy(cigtime_cfg.model.to_dict())
    with pytest.raises(FileNotFoundError, match='mean= and std='):
        CorrectiveInstructionInferencer(model_cfg)  # a bare model config names no data_root
    cfg = copy.deepcopy(cigtime_cfg)
    cfg.test_dataloader.dataset.data_root = str(tmp_path)
    cfg.val_dataloader = None
    cfg.train_dataloader.dataset.data_root = str(tmp_path / 'nowhere')
    with pytest.raises(FileNotFoundError, match=str(tmp_path / 'Mean.npy')):
        CorrectiveInstructionInferencer(cfg)
    with pytest.raises(ValueError, match=r'mean.*expected \(263,\), got \(10,\)'):
        CorrectiveInstructionInferencer(model_cfg, mean=np.zeros(10), std=np.ones(10))
    with pytest.raises(ValueError, match='both mean and std'):
        CorrectiveInstructionInferencer(model_cfg, mean=np.zeros(263))


def test_max_length_follows_the_test_pipeline(cigtime_cfg, trained):
    """LoadMotionPair(max_length=40) in the config: the inferencer keeps 40 feature frames too,
    i.e. 10 motion tokens (the tiny tokenizer downsamples by 4)."""
    cfg = copy.deepcopy(cigtime_cfg)
    cfg.test_dataloader.dataset.pipeline[0]['max_length'] = 40
    inferencer = CorrectiveInstructionInferencer(cfg)
    assert inferencer.max_length == 40
    _, pairs, _ = trained
    source, target = pairs[0]
    assert len(np.load(source)) > 40
    seen = []
    model = inferencer.model
    original = model.prompts
    model.prompts = lambda inputs: seen.append(inputs['source_lengths'].tolist()) or original(inputs)
    inferencer(source, target)
    del model.prompts
    assert seen == [[40]]
    assert CorrectiveInstructionInferencer(model, max_length=None, mean=inferencer.mean,
                                           std=inferencer.std).max_length is None

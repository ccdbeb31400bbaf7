from types import SimpleNamespace

import numpy as np
import pytest
import torch

from motionkit.engine.hooks import DatasetStatsHook
from motionkit.models.evaluators import T2MEvaluator


def _runner(model, meta):
    logs = []
    dataset = SimpleNamespace(metainfo=meta)
    return SimpleNamespace(model=model, train_dataloader=SimpleNamespace(dataset=dataset),
                           logger=SimpleNamespace(info=logs.append)), logs


def _model(**kw):
    return T2MEvaluator(feature_dim=8, movement_hidden=8, movement_dim=8, motion_hidden=8,
                        text_hidden=8, embed_dim=4, word_dim=4, num_word_buckets=16, **kw)


def test_sets_statistics_from_the_train_dataset(tmp_path):
    np.save(tmp_path / 'Mean.npy', np.arange(8, dtype=np.float32))
    np.save(tmp_path / 'Std.npy', np.full(8, 2.0, dtype=np.float32))
    model = _model()
    assert not model.feature_stats_set
    runner, logs = _runner(model, dict(mean_path=str(tmp_path / 'Mean.npy'),
                                       std_path=str(tmp_path / 'Std.npy')))
    DatasetStatsHook().before_train(runner)
    assert model.feature_stats_set
    assert torch.equal(model.mean, torch.arange(8.0)) and torch.equal(model.std, torch.full((8,), 2.0))
    assert 'Mean.npy' in logs[0]
    # saved with the checkpoint and restored
    restored = _model()
    restored.load_state_dict(model.state_dict())
    assert restored.feature_stats_set and torch.equal(restored.mean, model.mean)


def test_keeps_statistics_already_set(tmp_path):
    model = _model(mean=[1.0] * 8, std=[3.0] * 8)
    runner, _ = _runner(model, dict(mean_path='/nonexistent', std_path='/nonexistent'))
    DatasetStatsHook().before_train(runner)
    assert torch.equal(model.std, torch.full((8,), 3.0))


def test_missing_paths_and_bad_shapes_fail_clearly(tmp_path):
    runner, _ = _runner(_model(), {})
    with pytest.raises(KeyError, match='mean_path/std_path'):
        DatasetStatsHook().before_train(runner)
    with pytest.raises(ValueError, match=r'expected \(8,\)'):
        _model().set_feature_stats(np.zeros(3), np.ones(3))

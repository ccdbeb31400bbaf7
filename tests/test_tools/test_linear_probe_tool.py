"""tools/analysis_tools/linear_probe.py and motionkit.datagen.linear_probe: the raw-coordinate probe on
the real Bandai Namco clips, a frozen recognizer built from a config + checkpoint through the
registry, SynthMotion-layout labels and NTU benchmark folders."""
import importlib.util
import json
import shutil

import numpy as np
import pytest
import torch
from torch import nn

from motionkit.datagen.linear_probe import (bandai_probe_set, load_frozen_recognizer, recognizer_encoder,
                                            run_probe, synthmotion_probe_set)
from motionkit.registry import MODELS
from tests.conftest import REPO_ROOT


def _tool():
    spec = importlib.util.spec_from_file_location('linear_probe_tool',
                                                  REPO_ROOT / 'tools' / 'analysis_tools' / 'linear_probe.py')
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


class LinearProbeTestRecognizer(nn.Module):
    """The MAR's probe interface, ``encode_motion(joints (B, T, 22, 3)) -> {'fused': (B, D), ...}``:
    a random projection of the root-relative joints' temporal mean and standard deviation."""

    def __init__(self, dim: int = 16):
        super().__init__()
        self.proj = nn.Linear(2 * 22 * 3, dim)

    def encode_motion(self, joints):
        x = joints - joints[:, :, :1]
        f = torch.cat([x.mean(1).flatten(1), x.std(1, unbiased=False).flatten(1)], 1)
        e = self.proj(f)
        return dict(fused=e, joints=e[:, :4])


class NoEncoder(nn.Module):
    def forward(self, x):
        return x


@pytest.fixture
def registered():
    names = []
    for cls in (LinearProbeTestRecognizer, NoEncoder):
        MODELS.register_module(module=cls)
        names.append(cls.__name__)
    yield
    for name in names:  # leave the registry as it was for the other tests
        MODELS._module_dict.pop(name, None)


@pytest.fixture(scope='module')
def bandai(shared_data):
    return bandai_probe_set(shared_data / 'bandai_namco_motion_samples')


def test_raw_coordinate_bandai_leave_one_out(shared_data, tmp_path, capsys):
    out = tmp_path / 'probe' / 'raw.json'
    results = _tool().main(['--bandai', str(shared_data / 'bandai_namco_motion_samples'), '--out', str(out)])
    table = capsys.readouterr().out
    assert '| bandai | leave-one-out | raw joints (64 frames, centre=frame) |' in table
    (row,) = results['rows']
    assert json.loads(out.read_text())['rows'][0]['accuracy'] == row['accuracy']
    assert row['num_test'] == 43 and row['num_classes'] == 13 and row['feature_dim'] == 64 * 22 * 3
    # 18 of the 43 clips are walks: the probe must beat always answering "walk"
    assert row['accuracy'] > 18 / 43
    print(f'Bandai raw-coordinate LOO accuracy: {row["accuracy"]:.4f}')


def test_frozen_recognizer_from_config_and_checkpoint(registered, bandai, shared_data, tmp_path):
    torch.manual_seed(7)
    trained = LinearProbeTestRecognizer(dim=16)
    ckpt = tmp_path / 'rec.pth'
    torch.save(dict(state_dict=trained.state_dict(), meta=dict(note='test')), ckpt)
    cfg = tmp_path / 'rec.py'
    cfg.write_text("model = dict(type='LinearProbeTestRecognizer', dim=16)\n")
    model = load_frozen_recognizer(str(cfg), str(ckpt))
    assert not model.training and not any(p.requires_grad for p in model.parameters())
    torch.testing.assert_close(model.proj.weight, trained.proj.weight)
    results = _tool().main(['--config', str(cfg), '--checkpoint', str(ckpt), '--bandai',
                            str(shared_data / 'bandai_namco_motion_samples'), '--no-raw'])
    (row,) = results['rows']
    assert row['features'] == 'LinearProbeTestRecognizer[fused]' and row['feature_dim'] == 16
    direct = run_probe(bandai, recognizer_encoder(trained.eval()))
    assert row['predictions'] == direct['predictions'] and row['accuracy'] == direct['accuracy']
    # another embedding key of the same output dict
    assert run_probe(bandai, recognizer_encoder(model, 'joints'))['feature_dim'] == 4
    with pytest.raises(KeyError, match=r"returned no 'e_f' embedding \(got \['fused', 'joints'\]\)"):
        run_probe(bandai, recognizer_encoder(model, 'e_f'))


def test_recognizer_errors(registered, tmp_path):
    cfg = tmp_path / 'plain.py'
    cfg.write_text("model = dict(type='NoEncoder')\n")
    with pytest.raises(TypeError, match='model NoEncoder has no encode_motion'):
        load_frozen_recognizer(str(cfg), None)
    cfg = tmp_path / 'rec.py'
    cfg.write_text("model = dict(type='LinearProbeTestRecognizer', dim=16)\n")
    bad = tmp_path / 'bad.pth'
    torch.save(dict(state_dict=dict(LinearProbeTestRecognizer(16).state_dict(), extra=torch.zeros(1))), bad)
    with pytest.raises(ValueError,
                       match=r"bad\.pth does not match the model of .*rec\.py: .*unexpected keys \['extra'\]"):
        load_frozen_recognizer(str(cfg), str(bad))
    torch.save(dict(state_dict=LinearProbeTestRecognizer(8).state_dict()), bad)
    with pytest.raises(ValueError, match=r"(?s)bad\.pth does not match the model of .*rec\.py: .*size mismatch"):
        load_frozen_recognizer(str(cfg), str(bad))
    with pytest.raises(SystemExit):
        _tool().parse_args(['--config', str(cfg), '--bandai', 'x'])


def test_synthmotion_labels(tmp_path):
    # a SynthMotion-layout folder written by hand: which motions enter the probe is known exactly
    root = tmp_path / 'sm'
    (root / 'new_joints').mkdir(parents=True)
    (root / 'synthmotion').mkdir()
    rng = np.random.default_rng(0)
    recs = [('S0', 'train', ['walk']), ('S1', 'train', ['walk']), ('S2', 'train', ['jump']),
            ('S3', 'train', ['jump', 'turn']), ('S4', 'test', ['walk']), ('S5', 'test', ['kick']),
            ('S6', 'test', ['jump']), ('S7', 'val', ['walk']), ('S8', 'train', ['kick', 'walk'])]
    lines = []
    for mid, split, labels in recs:
        np.save(root / 'new_joints' / f'{mid}.npy', rng.normal(size=(30 + len(lines), 22, 3)).astype(np.float32))
        lines.append(json.dumps(dict(id=mid, split=split, labels=labels)))
    (root / 'synthmotion' / 'action_labels.jsonl').write_text('\n'.join(lines) + '\n')
    ps = synthmotion_probe_set(data_root=str(root))
    assert ps['classes'] == ['jump', 'walk'] and ps['dropped_test'] == 1  # 'kick' has no single-label train motion
    assert ps['train']['ids'] == ['S0', 'S1', 'S2'] and ps['train']['labels'].tolist() == [1, 1, 0]
    assert ps['test']['ids'] == ['S4', 'S6'] and ps['test']['labels'].tolist() == [1, 0]
    res = run_probe(ps, 'raw', num_frames=8)
    assert res['num_train'] == 3 and res['num_test'] == 2 and res['dropped_test'] == 1
    (root / 'synthmotion' / 'action_labels.jsonl').write_text('{"id": "S0"}\n')
    with pytest.raises(ValueError, match=r"action_labels\.jsonl, line 1: not an action-label record"):
        synthmotion_probe_set(data_root=str(root))


def test_ntu_benchmark_folder(shared_data, tmp_path, capsys):
    # the real samples renamed into two classes so that the x-sub train split (performers 1, 8) and
    # test split (performer 3) share them
    src = shared_data / 'ntu_skeleton_samples'
    ntu = tmp_path / 'ntu'
    ntu.mkdir()
    for old, new in [('S001C001P001R001A011', 'S001C001P001R001A001'),
                     ('S003C001P015R001A034', 'S001C001P003R001A001'),
                     ('S002C001P003R001A003', 'S001C001P001R001A002'),
                     ('S001C003P008R002A058', 'S001C001P008R001A002'),
                     ('S004C002P003R001A017', 'S001C001P003R001A002')]:
        shutil.copy(src / f'{old}.skeleton', ntu / f'{new}.skeleton')
    out = tmp_path / 'ntu.json'
    results = _tool().main(['--ntu', str(ntu), '--ntu-benchmarks', 'ntu60_xsub', '--no-progress',
                            '--out', str(out)])
    (row,) = results['rows']
    assert row['data'] == 'ntu60_xsub' and row['protocol'] == 'train->test'
    assert (row['num_train'], row['num_test'], row['num_classes']) == (3, 2, 2)
    assert row['classes'] == ['A001', 'A002'] and 0.0 <= row['accuracy'] <= 1.0
    assert '| ntu60_xsub | train->test |' in capsys.readouterr().out

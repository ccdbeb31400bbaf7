"""CoAMD's multimodal autoencoder (eq. 2): shapes, padding, the three-stream loss on a hand-computed
case, statistics, bad input, and the joint-statistics hook."""
from types import SimpleNamespace

import numpy as np
import pytest
import torch

from motionkit.engine.hooks import JointStatsHook, joint_coordinate_stats
from motionkit.models.tokenizers import MultimodalAutoencoder

J = 22


def _tiny(**kw) -> MultimodalAutoencoder:
    cfg = dict(width=16, code_dim=8, depth=1)
    cfg.update(kw)
    return MultimodalAutoencoder(**cfg)


def _joints(batch: int, frames: int, seed: int = 0) -> torch.Tensor:
    g = torch.Generator().manual_seed(seed)
    t = torch.linspace(0, 1, frames)[None, :, None, None]
    base = torch.randn(batch, 1, J, 3, generator=g) * 0.3
    return base + 0.2 * torch.sin(6.28 * t + torch.rand(batch, 1, J, 3, generator=g))


def test_shapes_one_latent_per_four_frames(one_thread):
    model = _tiny().eval()
    x = _joints(3, 24)
    z, tok = model.encode(x, torch.tensor([24, 17, 8]))
    assert z.shape == (3, 6, 8) and tok.tolist() == [6, 4, 2]
    assert torch.count_nonzero(z[1, 4:]) == 0 and torch.count_nonzero(z[2, 2:]) == 0
    out = model.decode(z, tok)
    assert out.shape == (3, 24, J, 3)
    assert torch.count_nonzero(out[1, 16:]) == 0  # zero past 4 * (17 // 4) frames
    # the flattened (B, T, 66) absolute-coordinate features are accepted as well
    z2, _ = model.encode(x.reshape(3, 24, 66), torch.tensor([24, 17, 8]))
    assert torch.equal(z, z2)
    # three projections of 66 coordinates, early fusion, shared trunk
    assert sorted(model.encoder.proj) == ['bone', 'joint', 'motion']
    assert model.encoder.proj['bone'].in_channels == 66


def test_padded_batch_gives_each_motion_its_own_latents(one_thread):
    torch.manual_seed(0)
    model = _tiny(depth=2).eval()
    x = _joints(3, 40)
    lengths = torch.tensor([40, 23, 12])
    with torch.no_grad():
        z, tok = model.encode(x, lengths)
        for i, n in enumerate(lengths.tolist()):
            alone, _ = model.encode(x[i:i + 1, :n])
            torch.testing.assert_close(z[i:i + 1, :n // 4], alone, atol=1e-5, rtol=1e-5)
            dec = model.decode(z[i:i + 1, :n // 4])
            torch.testing.assert_close(model.decode(z, tok)[i, :4 * (n // 4)], dec[0], atol=1e-5,
                                       rtol=1e-5)


def test_stream_loss_hand_computed():
    """Eq. 2 on a case small enough to add up by hand (t2m22: the neck (12) is the child of spine3
    (9) and the parent of the head (15); the pelvis (0) is the root and the parent of 1, 2, 3)."""
    model = _tiny()
    target = torch.zeros(2, 3, J, 3)
    pred = torch.zeros(2, 3, J, 3)
    pred[0, 1, 12, 0] = 2.0   # |d| >= 1: Smooth-L1 = |d| - 0.5 = 1.5
    pred[0, 0, 0, 1] = 0.5    # |d| < 1: 0.5 d^2 = 0.125
    pred[1, 2, 5, 2] = 7.0    # frame 2 of a motion with 2 usable frames: ignored everywhere
    usable = torch.tensor([3, 2])
    losses = model.stream_loss(pred, target, usable)
    # joints: 1.5 + 0.125 over (3 + 2) frames x 66 coordinates
    assert losses['loss_joint'].item() == pytest.approx(1.625 / 330)
    # bones: neck +2 and head -2 (1.5 each); pelvis y moves the bones of 1, 2, 3 by -0.5 (3 x 0.125);
    # the root's own bone is zero
    assert losses['loss_bone'].item() == pytest.approx(3.375 / 330)
    # motion (x[t+1] - x[t]) over frames with a next frame: 2 + 1 frames; neck +2 then -2, pelvis
    # -0.5 at frame 0
    assert losses['loss_motion'].item() == pytest.approx(3.125 / 198)
    weighted = _tiny(stream_weights=(1.0, 2.0, 0.0)).stream_loss(pred, target, usable)
    assert weighted['loss_bone'].item() == pytest.approx(2 * 3.375 / 330)
    assert weighted['loss_motion'].item() == 0.0


def test_loss_is_the_stream_loss_of_the_reconstruction_in_normalised_units(one_thread):
    torch.manual_seed(0)
    model = _tiny(mean=np.linspace(-1, 1, 66), std=np.linspace(0.5, 2.0, 66)).eval()
    x = _joints(2, 20)
    lengths = torch.tensor([20, 13])
    losses = model.loss(x, lengths)
    with torch.no_grad():
        recon, usable = model.reconstruct(x, lengths)
    assert usable.tolist() == [20, 12]
    expected = model.stream_loss(model.normalize(recon), model.normalize(x[:, :20]), usable)
    for k in ('loss_joint', 'loss_bone', 'loss_motion'):
        assert losses[k].item() == pytest.approx(expected[k].item(), rel=1e-4)
    # gradients reach every projection (early fusion of the three streams)
    sum(losses.values()).backward()
    for name in ('joint', 'bone', 'motion'):
        assert model.encoder.proj[name].weight.grad.abs().sum() > 0


def test_statistics_normalise_and_travel_with_the_state_dict():
    mean, std = np.arange(66) * 0.1, np.full(66, 2.0)
    model = _tiny(mean=mean, std=std)
    assert model.feature_stats_set
    x = torch.ones(1, 1, J, 3)
    n = model.normalize(x)
    assert torch.allclose(n.reshape(66), (1 - torch.arange(66) * 0.1) / 2.0)
    assert torch.allclose(model.denormalize(n), x)
    fresh = _tiny()
    assert not fresh.feature_stats_set
    fresh.load_state_dict(model.state_dict())
    assert fresh.feature_stats_set and torch.equal(fresh.std, model.std)
    with pytest.raises(ValueError, match=r'\(66,\)'):
        fresh.set_feature_stats(np.zeros(63), np.ones(63))
    with pytest.raises(ValueError, match='std must be > 0'):
        fresh.set_feature_stats(np.zeros(66), np.zeros(66))


def test_bad_inputs_raise_clear_errors():
    model = _tiny()
    with pytest.raises(ValueError, match=r"\(B, T, 22, 3\) of skeleton 't2m22'.*\(2, 8, 21, 3\)"):
        model.encode(torch.zeros(2, 8, 21, 3))
    x = torch.zeros(2, 8, J, 3)
    x[1, 5, 3, 0] = float('nan')
    with pytest.raises(ValueError, match='NaN or inf.*batch item 1, frame 5'):
        model.loss(x, torch.tensor([8, 8]))
    # NaN in padding is ignored
    model.loss(x, torch.tensor([8, 4]))
    with pytest.raises(ValueError, match=r'lengths must lie in \[4, 8\]'):
        model.encode(torch.zeros(2, 8, J, 3), torch.tensor([8, 3]))
    with pytest.raises(ValueError, match='stream_weights'):
        _tiny(stream_weights=(1.0, 1.0))
    with pytest.raises(ValueError, match=r'latents must be \(B, L, 8\)'):
        model.decode(torch.zeros(1, 3, 5))


def test_predict_sets_reconstructed_and_input_joints(one_thread):
    model = _tiny().eval()
    x = _joints(2, 16)
    samples = model(dict(motion=x, lengths=torch.tensor([16, 10])), None, mode='predict')
    assert samples[0].pred_joints.shape == (16, J, 3) and samples[1].pred_joints.shape == (8, J, 3)
    assert torch.equal(samples[1].gt_joints, x[1, :8])
    assert samples[1].metainfo['recon_length'] == 8


# ---------------------------------------------------------------------- JointStatsHook
def _runner(model, paths):
    infos = [dict(joints_path=p) for p in paths]
    dataset = type('D', (), dict(get_data_info=lambda self, i: infos[i],
                                 __len__=lambda self: len(infos)))()
    logs = []
    return SimpleNamespace(model=model, train_dataloader=SimpleNamespace(dataset=dataset),
                           logger=SimpleNamespace(info=logs.append)), logs


def test_joint_stats_hook_computes_the_train_split_statistics(tmp_path):
    rng = np.random.default_rng(0)
    arrays = [rng.normal(size=(n, J, 3)).astype(np.float32) for n in (5, 9)]
    paths = []
    for i, a in enumerate(arrays):
        paths.append(str(tmp_path / f'{i}.npy'))
        np.save(paths[-1], a)
    model = _tiny()
    # a sub-segment sample points at a file seen before: it is read once
    runner, logs = _runner(model, paths + [paths[0]])
    JointStatsHook(progress=False).before_train(runner)
    flat = np.concatenate([a.reshape(len(a), -1) for a in arrays]).astype(np.float64)
    np.testing.assert_allclose(model.mean.numpy(), flat.mean(0), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(model.std.numpy(), flat.std(0), rtol=1e-5, atol=1e-6)
    assert model.feature_stats_set and '2 files' in logs[0]
    # statistics already set are kept
    before = model.mean.clone()
    np.save(paths[0], arrays[0] + 5)
    JointStatsHook(progress=False).before_train(runner)
    assert torch.equal(model.mean, before)


def test_joint_stats_errors_name_the_problem(tmp_path):
    const = np.zeros((4, J, 3), np.float32)
    np.save(tmp_path / 'c.npy', const)
    with pytest.raises(ValueError, match='coordinate 0 \\(joint 0, axis x\\) is constant'):
        joint_coordinate_stats([str(tmp_path / 'c.npy')])
    np.save(tmp_path / 'bad.npy', np.zeros((4, 21, 3), np.float32))
    with pytest.raises(ValueError, match='bad.npy.*22 joints'):
        joint_coordinate_stats([str(tmp_path / 'bad.npy')], num_joints=22)
    runner, _ = _runner(_tiny(), [])
    runner.train_dataloader.dataset = type('D', (), dict(get_data_info=lambda self, i: {},
                                                         __len__=lambda self: 1))()
    with pytest.raises(KeyError, match='with_joints=True'):
        JointStatsHook(progress=False).before_train(runner)

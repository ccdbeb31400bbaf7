import math

import pytest
import torch
from mmengine.optim import OptimWrapper

from motionkit.models.tokenizers import MotionVQVAE, ric_feature_slice
from motionkit.structures import MotionDataSample

D = 263


def _tiny(**kwargs) -> MotionVQVAE:
    cfg = dict(feature_dim=D, width=16, code_dim=8, depth=2,
               quantizer=dict(type='EMAQuantizer', codebook_size=32))
    cfg.update(kwargs)
    return MotionVQVAE(**cfg)


def _smooth_motion(batch: int, frames: int, seed: int = 0) -> torch.Tensor:
    g = torch.Generator().manual_seed(seed)
    t = torch.linspace(0, 1, frames)[None, :, None]
    amp = torch.randn(batch, 1, D, generator=g)
    freq = 1 + 2 * torch.rand(batch, 1, D, generator=g)
    phase = 6.28 * torch.rand(batch, 1, D, generator=g)
    return amp * torch.sin(6.28 * freq * t + phase)


def _trained(model: MotionVQVAE, steps: int = 2) -> MotionVQVAE:
    """A few training calls: initialises the codebook from encoder outputs."""
    model.train()
    for s in range(steps):
        model.loss(_smooth_motion(8, 32, seed=s), torch.full((8, ), 32))
    return model.eval()


def test_ric_slice_of_humanml3d_and_kit():
    assert ric_feature_slice(263) == (4, 67)
    assert ric_feature_slice(251) == (4, 64)
    with pytest.raises(ValueError, match='vel_slice'):
        ric_feature_slice(100)


def test_architecture_follows_t2m_gpt():
    model = _tiny(width=32, depth=3)
    enc = model.encoder
    assert [(c.kernel_size[0], c.stride[0], c.padding[0]) for c in enc.down] == [(4, 2, 1)] * 2
    # dilation growth 3, depth 3, largest dilation first
    assert [b.conv1.dilation[0] for b in enc.res[0].blocks] == [9, 3, 1]
    assert [b.conv1.dilation[0] for b in model.decoder.res[1].blocks] == [9, 3, 1]
    assert model.unit_length == 4
    z = enc(torch.zeros(2, D, 48))
    assert z.shape == (2, 8, 12)
    assert model.decoder(z).shape == (2, D, 48)


def test_padded_batch_tokens_equal_each_motion_alone(one_thread):
    torch.manual_seed(0)
    model = _trained(_tiny())
    lengths = torch.tensor([48, 20, 36, 8, 44])
    batch = torch.randn(5, 48, D)
    # garbage in the padding must not matter
    ids, token_len = model.encode(batch, lengths)
    assert token_len.tolist() == [12, 5, 9, 2, 11]
    recon = model.decode(ids, token_len)
    for i, n in enumerate(lengths.tolist()):
        alone_ids, alone_len = model.encode(batch[i:i + 1, :n].clone())
        assert int(alone_len[0]) == n // 4
        assert torch.equal(ids[i, :n // 4], alone_ids[0]), f'motion {i}'
        assert (ids[i, n // 4:] == -1).all()
        alone_recon = model.decode(alone_ids[0])
        assert torch.allclose(recon[i, :n], alone_recon, atol=1e-5)
        assert (recon[i, n:] == 0).all()


def test_lengths_not_multiple_of_four_use_the_first_whole_units():
    torch.manual_seed(0)
    model = _trained(_tiny())
    x = torch.randn(1, 23, D)
    ids, token_len = model.encode(x, torch.tensor([23]))
    ids20, _ = model.encode(x[:, :20])
    assert int(token_len[0]) == 5 and torch.equal(ids, ids20)


def test_encode_decode_is_deterministic():
    torch.manual_seed(0)
    model = _trained(_tiny())
    x = _smooth_motion(3, 40, seed=7)
    a_ids, a_len = model.encode(x)
    b_ids, b_len = model.encode(x)
    assert torch.equal(a_ids, b_ids) and torch.equal(a_len, b_len)
    assert torch.equal(model.decode(a_ids), model.decode(b_ids))
    # encode does not move the codebook
    before = model.quantizer.codebook.clone()
    model.encode(x)
    assert torch.equal(before, model.quantizer.codebook)


def test_loss_terms_by_hand():
    torch.manual_seed(0)
    model = _trained(_tiny(vel_weight=0.5, commit_weight=0.02))
    x = _smooth_motion(2, 16, seed=3)
    lengths = torch.tensor([16, 12])
    model.eval()  # no EMA update, so the pieces can be recomputed
    with torch.no_grad():
        losses = model.loss(x, lengths)
        recon, _ = model.reconstruct(x, lengths)
    mask = torch.zeros(2, 16, dtype=torch.bool)
    mask[0, :16], mask[1, :12] = True, True
    err = torch.nn.functional.smooth_l1_loss(recon, x, reduction='none')[mask]
    assert float(losses['loss_recon']) == pytest.approx(float(err.mean()), rel=1e-5)
    dv_pred = recon[:, 1:, 4:67] - recon[:, :-1, 4:67]
    dv_gt = x[:, 1:, 4:67] - x[:, :-1, 4:67]
    vel = torch.nn.functional.smooth_l1_loss(dv_pred, dv_gt, reduction='none')[mask[:, 1:]]
    assert float(losses['loss_vel']) == pytest.approx(0.5 * float(vel.mean()), rel=1e-5)
    with torch.no_grad():
        z, valid, _ = model._encode_latent(x, torch.tensor([16, 12]))
    flat = z[valid]
    codes = model.quantizer.codebook[model.quantizer.quantize(flat)]
    commit = (flat - codes).pow(2).mean()
    assert float(losses['loss_commit']) == pytest.approx(0.02 * float(commit), rel=1e-4)
    # position mode (T2M-GPT's forward_vel) compares the ric block itself
    model.vel_mode = 'position'
    pos = torch.nn.functional.smooth_l1_loss(recon[..., 4:67], x[..., 4:67],
                                             reduction='none')[mask]
    with torch.no_grad():
        pos_loss = float(model.loss(x, lengths)['loss_vel'])
    assert pos_loss == pytest.approx(0.5 * float(pos.mean()), rel=1e-5)


def test_train_step_logs_perplexity_without_summing_it():
    torch.manual_seed(0)
    model = _tiny()
    optim = OptimWrapper(torch.optim.AdamW(model.parameters(), lr=1e-3))
    data = dict(inputs=dict(motion=_smooth_motion(4, 32), lengths=torch.tensor([32, 28, 24, 16])),
                data_samples=None)
    before = {k: v.clone() for k, v in model.named_parameters()}
    log = model.train_step(data, optim)
    assert {'loss', 'loss_recon', 'loss_vel', 'loss_commit', 'perplexity',
            'codebook_usage'} <= set(log)
    total = log['loss_recon'] + log['loss_vel'] + log['loss_commit']
    assert float(log['loss'].detach()) == pytest.approx(float(total.detach()), rel=1e-6)
    assert 1.0 <= float(log['perplexity']) <= 32.0
    assert any(not torch.equal(v, before[k]) for k, v in model.named_parameters())
    assert bool(model.quantizer.initialized)


def test_fit_reduces_reconstruction_error(one_thread):
    torch.manual_seed(0)
    model = MotionVQVAE(feature_dim=12, width=32, code_dim=8, depth=2, vel_weight=0.0,
                        quantizer=dict(type='EMAQuantizer', codebook_size=32, decay=0.9))
    optim = torch.optim.AdamW(model.parameters(), lr=3e-3)
    g = torch.Generator().manual_seed(1)
    t = torch.linspace(0, 1, 32)[None, :, None]
    x = torch.sin(6.28 * (1 + torch.rand(16, 1, 12, generator=g)) * t
                  + 6.28 * torch.rand(16, 1, 12, generator=g))
    lengths = torch.full((16, ), 32)
    model.train()
    with torch.no_grad():
        first = float(model.loss(x, lengths)['loss_recon'])
    for _ in range(80):
        losses = model.loss(x, lengths)
        optim.zero_grad()
        sum(v for k, v in losses.items() if 'loss' in k).backward()
        optim.step()
    model.eval()
    recon = model.decode(*model.encode(x, lengths))
    assert float(torch.nn.functional.smooth_l1_loss(recon, x)) < 0.5 * first


def test_residual_quantizer_plugin():
    torch.manual_seed(0)
    model = _trained(_tiny(quantizer=dict(type='ResidualQuantizer', num_quantizers=3,
                                          codebook_size=16, dropout_prob=0.0)))
    x = torch.randn(2, 24, D)
    ids, token_len = model.encode(x, torch.tensor([24, 16]))
    assert ids.shape == (2, 6, 3) and (ids[1, 4:] == -1).all()
    alone, _ = model.encode(x[1:, :16])
    assert torch.equal(alone[0], ids[1, :4])
    assert model.decode(ids, token_len).shape == (2, 24, D)
    assert model.decode(alone[0]).shape == (16, D)
    with pytest.raises(ValueError, match='no text form'):
        model.tokens_to_text(ids[0])


def test_token_text_methods_round_trip():
    torch.manual_seed(0)
    model = _trained(_tiny())
    ids, _ = model.encode(torch.randn(1, 32, D))
    for style in ('decimal', 'motiongpt'):
        text = model.tokens_to_text(ids[0], style)
        assert torch.equal(model.text_to_tokens(text, style), ids[0])
    assert model.tokens_to_text(torch.tensor([3, 0, 31])) == '3 0 31'


def test_predict_fills_data_samples():
    torch.manual_seed(0)
    model = _trained(_tiny(representation='HumanML3DFeatures'))
    x = torch.randn(2, 20, D) * 0.1
    samples = [MotionDataSample(), MotionDataSample()]
    out = model(dict(motion=x, lengths=torch.tensor([20, 13])), samples, mode='predict')
    assert out[0].pred_motion.shape == (20, D) and out[1].pred_motion.shape == (12, D)
    assert out[1].pred_tokens.shape == (3, ) and out[1].metainfo['recon_length'] == 12
    assert out[1].pred_joints.shape == (12, 22, 3) and out[1].gt_joints.shape == (12, 22, 3)
    assert torch.allclose(out[1].gt_motion, x[1, :12])
    assert model(dict(motion=x), mode='tensor').shape == (2, 20, D)


def test_predict_undoes_pipeline_normalisation(tmp_path):
    import numpy as np
    mean = np.linspace(-1, 1, D).astype(np.float32)
    std = np.linspace(0.5, 2, D).astype(np.float32)
    np.save(tmp_path / 'Mean.npy', mean)
    np.save(tmp_path / 'Std.npy', std)
    torch.manual_seed(0)
    model = _trained(_tiny())
    x = torch.randn(1, 8, D)
    sample = MotionDataSample(metainfo=dict(normalized=True, mean_path=str(tmp_path / 'Mean.npy'),
                                            std_path=str(tmp_path / 'Std.npy')))
    out = model(dict(motion=x), [sample], mode='predict')[0]
    expected = x[0] * torch.from_numpy(std) + torch.from_numpy(mean)
    assert torch.allclose(out.gt_motion, expected, atol=1e-6)
    with pytest.raises(KeyError, match='mean_path'):
        model(dict(motion=x), [MotionDataSample(metainfo=dict(normalized=True))], mode='predict')


def test_bad_inputs_raise_clear_errors():
    torch.manual_seed(0)
    model = _trained(_tiny())
    with pytest.raises(ValueError, match=r'\(B, T, 263\)'):
        model.encode(torch.randn(1, 16, 250))
    bad = torch.randn(2, 16, D)
    bad[1, 5, 7] = float('nan')
    with pytest.raises(ValueError, match='batch item 1, frame 5'):
        model.encode(bad)
    # NaN in the padding is ignored
    model.encode(bad, torch.tensor([16, 4]))
    with pytest.raises(ValueError, match='lengths must lie in'):
        model.encode(torch.randn(1, 16, D), torch.tensor([3]))
    with pytest.raises(ValueError, match=r'in \[0, 32\)'):
        model.decode(torch.tensor([1, 2, 32]))
    with pytest.raises(ValueError, match=r'in \[0, 32\)'):
        model.decode(torch.tensor([[1, -1]]))
    # -1 past token_lengths is padding, not an error
    assert model.decode(torch.tensor([[1, -1]]), torch.tensor([1])).shape == (1, 8, D)
    with pytest.raises(TypeError, match='integers'):
        model.decode(torch.tensor([1.0, 2.0]))
    with pytest.raises(ValueError, match='code_dim'):
        _tiny(quantizer=dict(type='EMAQuantizer', codebook_size=8, code_dim=4))
    with pytest.raises(ValueError, match='vel_slice'):
        MotionVQVAE(feature_dim=100, width=8, code_dim=4)
    with pytest.raises(ValueError, match="mode must be"):
        model(dict(motion=torch.randn(1, 8, D)), mode='bogus')


def test_untrained_model_refuses_to_encode():
    with pytest.raises(RuntimeError, match='not initialised'):
        _tiny().eval().encode(torch.randn(1, 8, D))


def test_checkpoint_round_trip_keeps_the_codebook(tmp_path):
    torch.manual_seed(0)
    model = _trained(_tiny())
    torch.save(model.state_dict(), tmp_path / 'vq.pth')
    from motionkit.utils import safe_load
    fresh = _tiny()
    fresh.load_state_dict(safe_load(str(tmp_path / 'vq.pth')))
    fresh.eval()
    x = torch.randn(2, 16, D)
    assert torch.equal(fresh.encode(x)[0], model.encode(x)[0])
    assert math.isclose(float(fresh.quantizer.code_count.sum()),
                        float(model.quantizer.code_count.sum()))


def test_codebook_stats_by_hand():
    model = _tiny()  # codebook of 32
    ids = torch.tensor([[0, 0, 1, 1], [2, 3, -1, -1]])
    stats = model.codebook_stats(ids)
    # counts 2, 2, 1, 1 over 6 tokens
    p = torch.tensor([2, 2, 1, 1]) / 6.0
    assert stats['perplexity'] == pytest.approx(float(torch.exp(-(p * p.log()).sum())), rel=1e-6)
    assert stats['usage'] == pytest.approx(4 / 32)
    # token_lengths cut rows: only [0, 0] and [2] remain
    stats = model.codebook_stats(ids, torch.tensor([2, 1]))
    p = torch.tensor([2, 1]) / 3.0
    assert stats['perplexity'] == pytest.approx(float(torch.exp(-(p * p.log()).sum())), rel=1e-6)

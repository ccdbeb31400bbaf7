"""SourceConditionedMDM: MDM's editing with the source as a condition and a residual x0."""
import pytest
import torch
from mmengine.structures import BaseDataElement

from motionkit.models.editors import body_part_keep_mask
from motionkit.motion import HumanML3DFeatures
from tests.test_models.test_editors.tiny_mdm import build


def _pair_inputs(seed=0, lengths_s=(24, 20), lengths_t=(24, 28)):
    g = torch.Generator().manual_seed(seed)
    B = len(lengths_s)
    Ts, Tt = max(lengths_s), max(lengths_t)
    source = torch.randn(B, Ts, 263, generator=g)
    target = source[:, :min(Ts, Tt)].clone()
    target = torch.cat([target, torch.zeros(B, Tt - target.shape[1], 263)], 1) if Tt > Ts else target[:, :Tt]
    target[..., 100:150] += 1.0  # "the change": a shift of some features
    s_mask = torch.arange(Ts)[None] < torch.tensor(lengths_s)[:, None]
    t_mask = torch.arange(Tt)[None] < torch.tensor(lengths_t)[:, None]
    samples = []
    for text in ('raise your arms higher', 'raise your arms higher'):
        s = BaseDataElement()
        s.gt_instruction = text
        samples.append(s)
    return dict(source=source, source_mask=s_mask, source_lengths=torch.tensor(lengths_s),
                target=target, target_mask=t_mask, target_lengths=torch.tensor(lengths_t)), samples


def test_zero_residual_edits_to_the_source_exactly():
    m = build('SourceConditionedMDM')
    torch.nn.init.zeros_(m.output_process.weight)
    torch.nn.init.zeros_(m.output_process.bias)
    inputs, _ = _pair_inputs()
    src = inputs['source']
    keep = body_part_keep_mask(HumanML3DFeatures(), 'upper_body')
    for strength in (1.0, 0.4):
        out = m.edit(src, keep, ['raise your arms higher'] * 2, strength=strength,
                     generator=torch.Generator().manual_seed(0))
        assert torch.allclose(out, src, atol=1e-5)


def test_training_learns_the_change_and_editing_keeps_features():
    m = build('SourceConditionedMDM', num_inference_steps=10, edit_num_inference_steps=10).train()
    inputs, samples = _pair_inputs()
    opt = torch.optim.Adam(m.parameters(), lr=3e-3)
    first = None
    for _ in range(150):
        loss = m.loss(inputs, samples)['loss_mse']
        first = first if first is not None else loss.item()
        opt.zero_grad()
        loss.backward()
        opt.step()
    assert loss.item() < 0.3 * first
    m.eval()
    src = inputs['source'][:, :24]
    keep = body_part_keep_mask(HumanML3DFeatures(), 'upper_body')
    out = m.edit(src, keep, ['raise your arms higher'] * 2, generator=torch.Generator().manual_seed(0))
    assert torch.equal(out[:, :, keep], src[:, :, keep])
    # the learned change appears on the edited features it touches (target = source + 1 on 100:150)
    edited = ~keep
    cols = torch.zeros(263, dtype=torch.bool)
    cols[100:150] = True
    moved = (out - src)[0, :20][:, cols & edited].mean()
    assert 0.5 < float(moved) < 1.5


def test_needs_a_source_and_x0_prediction():
    m = build('SourceConditionedMDM')
    with pytest.raises(RuntimeError, match='no source is set'):
        m.sample(['walk'], [8])
    with pytest.raises(ValueError, match="prediction_type='x0'"):
        build('SourceConditionedMDM', noise_scheduler=dict(type='DDIMScheduler', prediction_type='v'))
    with pytest.raises(KeyError, match='source_mask'):
        m.loss(dict(source=torch.zeros(1, 4, 263)), [])


def test_source_gate_starts_as_the_plain_residual_and_can_flip_a_feature():
    plain = build('SourceConditionedMDM')
    gated = build('SourceConditionedMDM', source_gate=True)
    missing, unexpected = gated.load_state_dict(plain.state_dict(), strict=False)
    assert sorted(missing) == ['source_gate.bias', 'source_gate.weight'] and not unexpected
    inputs, _ = _pair_inputs()
    src = inputs['source'][:, :20]
    x_t, t = torch.randn_like(src), torch.tensor([500, 20])
    text = plain.encode_text(['walk backward instead'] * 2, 2)
    with plain.conditioned_on(src), gated.conditioned_on(src):
        assert torch.allclose(gated.denoise(x_t, t, text), plain.denoise(x_t, t, text), atol=1e-6)
        # x0 = source + g * source + f: with f = 0 and g = -2 on feature 1, x0 = -source there
        torch.nn.init.zeros_(gated.output_process.weight)
        torch.nn.init.zeros_(gated.output_process.bias)
        with torch.no_grad():
            gated.source_gate.bias[1] = -2.0
        x0 = gated.denoise(x_t, t, text)
    assert torch.allclose(x0[..., 1], -src[..., 1], atol=1e-6)
    assert torch.allclose(x0[..., 2:], src[..., 2:], atol=1e-6)


def test_source_gate_learns_a_sign_flip_that_the_plain_residual_fits_worse():
    """Target = the source with features 0:8 negated: one gate value per feature, while the plain
    residual must output -2 * source through the 32-wide bottleneck."""
    g = torch.Generator().manual_seed(1)
    source = torch.randn(4, 16, 263, generator=g)
    target = source.clone()
    target[..., :8] *= -1
    mask = torch.ones(4, 16, dtype=torch.bool)
    inputs = dict(source=source, source_mask=mask, target=target, target_mask=mask)
    samples = []
    for _ in range(4):
        s = BaseDataElement()
        s.gt_instruction = 'walk backward instead'
        samples.append(s)
    final = {}
    for gate in (False, True):
        m = build('SourceConditionedMDM', source_gate=gate, cond_mask_prob=0.0).train()
        opt = torch.optim.Adam(m.parameters(), lr=3e-3)
        torch.manual_seed(0)
        for _ in range(200):
            loss = m.loss(inputs, samples)['loss_mse']
            opt.zero_grad()
            loss.backward()
            opt.step()
        m.eval()
        with torch.no_grad(), m.conditioned_on(source):
            x0 = m.denoise(torch.randn(4, 16, 263, generator=g), torch.full((4, ), 999),
                           m.encode_text(['walk backward instead'] * 4, 4))
        final[gate] = float((x0[..., :8] - target[..., :8]).pow(2).mean())
    assert final[True] < 0.1 and final[True] < 0.5 * final[False], final


def test_source_mirror_term_reaches_the_mirrored_source_in_normalised_space():
    from motionkit.motion import mirror_features
    g = torch.Generator().manual_seed(2)
    mean, std = torch.randn(263, generator=g), torch.rand(263, generator=g) + 0.5
    pre = dict(type='MotionPairDataPreprocessor', mean=mean.tolist(), std=std.tolist())
    m = build('SourceConditionedMDM', source_mirror=True, data_preprocessor=pre)
    assert m.source_gate is None and m.mirror_gate is not None
    raw = torch.randn(2, 12, 263, generator=g)
    src = (raw - mean) / std
    expected = (mirror_features(raw, HumanML3DFeatures()) - mean) / std
    assert torch.allclose(m.mirror(src), expected, atol=1e-4)
    assert torch.allclose(m.mirror(m.mirror(src)), src, atol=1e-4)
    # m = 1 on the root's angular velocity and f = 0: x0 there is the mirrored (negated) turn
    torch.nn.init.zeros_(m.output_process.weight)
    torch.nn.init.zeros_(m.output_process.bias)
    with torch.no_grad():
        m.mirror_gate.bias[0] = 1.0
    with m.conditioned_on(src):
        x0 = m.denoise(torch.randn_like(src), torch.tensor([999, 10]),
                       m.encode_text(['turn the other way'] * 2, 2))
    assert torch.allclose(x0[..., 0] * std[0] + mean[0], -raw[..., 0], atol=1e-4)
    assert torch.allclose(x0[..., 1:], src[..., 1:], atol=1e-5)
    with pytest.raises(ValueError, match='needs a representation'):
        build('SourceConditionedMDM', source_mirror=True, representation=None)

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

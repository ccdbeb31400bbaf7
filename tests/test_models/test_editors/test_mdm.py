"""MDM: denoiser shapes, loss, CFG, swappable samplers, editing exactness."""
import copy

import numpy as np

import pytest
import torch
from mmengine.config import Config

from motionkit.models.diffusion import DDIMScheduler, DDPMScheduler
from motionkit.models.editors import (MDM, blend_edit, body_part_keep_mask, inbetween_keep_mask,
                                      masked_mse, timestep_embedding)
from motionkit.motion import HumanML3DFeatures, body_part_feature_mask
from motionkit.registry import MODELS
from motionkit.structures import EditRequest, InstructionEditor
from tests.conftest import REPO_ROOT
from tests.test_models.test_editors.tiny_mdm import build, make_batch


def test_timestep_embedding_matches_the_positional_table():
    t = torch.tensor([0, 3, 999])
    emb = timestep_embedding(t, 8)
    # hand-computed row t=3: sin/cos(3 / 10000^(2i/8)) for i = 0..3
    freqs = [1.0, 10000 ** -0.25, 10000 ** -0.5, 10000 ** -0.75]
    expected = []
    for f in freqs:
        expected += [torch.sin(torch.tensor(3 * f)), torch.cos(torch.tensor(3 * f))]
    assert torch.allclose(emb[1], torch.stack(expected), atol=1e-6)
    assert torch.allclose(emb[0], torch.tensor([0.0, 1.0] * 4))


def test_masked_mse_ignores_padding_and_weights_features():
    pred = torch.zeros(2, 3, 2)
    target = torch.ones(2, 3, 2)
    target[0, 2] = 100.0  # padded frame: ignored
    mask = torch.tensor([[True, True, False], [True, True, True]])
    assert masked_mse(pred, target, mask).item() == pytest.approx(1.0)
    target[:, :, 1] = 3.0
    assert masked_mse(pred, target, mask, torch.tensor([1.0, 0.0])).item() == pytest.approx(1.0)
    assert masked_mse(pred, target, mask).item() == pytest.approx(5.0)  # (1 + 9) / 2


def test_denoiser_shapes_and_padding_is_invisible():
    m = build()
    inputs, samples = make_batch()
    t = torch.tensor([10, 500])
    emb = m.encode_text([s.gt_text for s in samples], 2)
    out = m.denoise(inputs['motion'], t, emb, inputs['mask'])
    assert out.shape == (2, 32, 263)
    # changing padded frames of sample 0 does not change its valid outputs
    noisy = inputs['motion'].clone()
    noisy[0, 24:] = 50.0
    out2 = m.denoise(noisy, t, emb, inputs['mask'])
    assert torch.allclose(out[0, :24], out2[0, :24], atol=1e-5)


def test_null_condition_is_the_zero_text_embedding():
    m = build()
    x, t = torch.randn(2, 8, 263), torch.tensor([5, 5])
    emb = m.encode_text(['jump', 'run'], 2)
    a = m.denoise(x, t, emb, None, torch.tensor([True, True]))
    b = m.denoise(x, t, torch.zeros_like(emb), None, None)
    assert torch.allclose(a, b)
    assert not torch.allclose(a, m.denoise(x, t, emb, None, None))


def test_guidance_combines_cond_and_uncond_x0():
    m = build()
    emb = m.encode_text(['kick'], 1)
    x, t = torch.randn(1, 8, 263), torch.tensor([100])
    mask = torch.ones(1, 8, dtype=torch.bool)
    cond = m.denoise(x, t, emb, mask, torch.tensor([False]))
    unc = m.denoise(x, t, emb, mask, torch.tensor([True]))
    guided = m._model_fn(emb, mask, 2.5, unconditional=False)(x, t)
    assert torch.allclose(guided, unc + 2.5 * (cond - unc), atol=1e-5)


def test_loss_predict_tensor_modes():
    m = build()
    m.train()
    inputs, samples = make_batch()
    losses = m(inputs, samples, mode='loss')
    assert set(losses) == {'loss_mse'} and losses['loss_mse'].item() > 0
    m2 = build(lambda_vel=1.0)
    m2.train()
    assert set(m2(inputs, samples, mode='loss')) == {'loss_mse', 'loss_vel'}
    m.eval()
    out = m(inputs, copy.deepcopy(samples), mode='predict')
    assert [tuple(s.pred_motion.shape) for s in out] == [(24, 263), (32, 263)]
    assert out[0].metainfo['pred_motion_normalized'] is False  # raw input data: no statistics
    tensor = m(dict(inputs, timesteps=torch.tensor([3, 4])), samples, mode='tensor')
    assert tensor.shape == (2, 32, 263)
    with pytest.raises(ValueError, match='mode'):
        m(inputs, samples, mode='bogus')


def test_root_loss_weight_scales_the_root_features():
    m = build(root_loss_weight=10.0)
    w = m._loss_weight()
    # HumanML3D: root angular / linear velocity, height (0:4) and the root's local velocity (193:196)
    assert torch.nonzero(w == 10.0).flatten().tolist() == [0, 1, 2, 3, 193, 194, 195]
    assert int((w == 1.0).sum()) == 263 - 7
    assert build()._loss_weight() is None
    # the loss is masked_mse with those weights: an error on a root feature costs 10x another one
    pred, target = torch.zeros(1, 2, 263), torch.zeros(1, 2, 263)
    mask = torch.ones(1, 2, dtype=torch.bool)
    target[..., 1] = 1.0
    root_err = masked_mse(pred, target, mask, w).item()
    target[..., 1], target[..., 10] = 0.0, 1.0
    assert root_err == pytest.approx(10.0 * masked_mse(pred, target, mask, w).item())
    assert root_err == pytest.approx(10.0 / (263 - 7 + 70))  # hand-computed: 10 / sum(w)
    with pytest.raises(ValueError, match='root_loss_weight'):
        build(root_loss_weight=0.0)


def test_predict_flags_normalised_output_and_can_denormalise():
    mean, std = torch.full((263, ), 2.0), torch.full((263, ), 3.0)
    pre = dict(type='MotionDataPreprocessor', mean=mean.tolist(), std=std.tolist())
    a = build(data_preprocessor=pre)
    b = build(data_preprocessor=pre, denormalize_predictions=True)
    inputs, samples = make_batch()
    torch.manual_seed(1)
    pa = a(inputs, copy.deepcopy(samples), mode='predict')
    torch.manual_seed(1)
    pb = b(inputs, copy.deepcopy(samples), mode='predict')
    assert pa[0].metainfo['pred_motion_normalized'] is True
    assert pb[0].metainfo['pred_motion_normalized'] is False
    assert torch.allclose(pb[1].pred_motion, pa[1].pred_motion * 3.0 + 2.0, atol=1e-5)


def test_missing_caption_is_a_clear_error():
    m = build()
    inputs, samples = make_batch()
    del samples[1].gt_text
    with pytest.raises(KeyError, match='gt_text'):
        m(inputs, samples, mode='loss')


def test_foot_contact_loss_counts_contact_frames_only():
    m = build(lambda_fc=1.0)
    rep = HumanML3DFeatures()
    gt = torch.zeros(1, 4, 263)
    pred = torch.zeros(1, 4, 263)
    feet = rep.blocks['feet']
    gt[0, :2, feet.start] = 1.0  # left ankle in contact on frames 0, 1
    vel = rep.blocks['vel']
    ankle = rep.foot_left[0]
    pred[0, :, vel.start + 3 * ankle] = 2.0  # left-ankle x velocity 2 on every frame
    mask = torch.ones(1, 4, dtype=torch.bool)
    assert m.foot_contact_loss(pred, gt, mask).item() == pytest.approx(4.0)


def test_training_reduces_the_loss_on_a_fixed_batch():
    torch.manual_seed(0)
    m = build()
    m.train()
    m.cond_mask_prob = 0.0
    inputs, samples = make_batch()
    opt = torch.optim.Adam(m.parameters(), lr=5e-3)

    def loss_at_fixed_noise():
        torch.manual_seed(123)  # same timesteps and noise before and after training
        return m(inputs, samples, mode='loss')['loss_mse']

    with torch.no_grad():
        m.eval()
        before = loss_at_fixed_noise().item()
    m.train()
    for _ in range(30):
        loss = m(inputs, samples, mode='loss')['loss_mse']
        opt.zero_grad()
        loss.backward()
        opt.step()
    with torch.no_grad():
        m.eval()
        after = loss_at_fixed_noise().item()
    assert after < 0.7 * before, (before, after)


# ---------------------------------------------------------------------- swapping samplers
def test_same_weights_sample_with_ddpm_or_ddim():
    m = build()
    noise = torch.randn(1, 16, 263, generator=torch.Generator().manual_seed(0))
    ddim = m.sample(['walk'], [16], noise=noise, num_inference_steps=10)
    ddim2 = m.sample(['walk'], [16], noise=noise, num_inference_steps=10)
    assert torch.equal(ddim, ddim2)  # eta = 0: deterministic
    m.set_noise_scheduler(dict(type='DDPMScheduler', beta_schedule='cosine', prediction_type='x0'))
    assert isinstance(m.noise_scheduler, DDPMScheduler)
    a = m.sample(['walk'], [16], noise=noise, num_inference_steps=10,
                 generator=torch.Generator().manual_seed(1))
    b = m.sample(['walk'], [16], noise=noise, num_inference_steps=10,
                 generator=torch.Generator().manual_seed(2))
    assert not torch.equal(a, b)  # DDPM is stochastic
    assert not torch.equal(a, ddim)


def test_tiny_config_swaps_the_sampler_by_config():
    cfg = Config.fromfile(str(REPO_ROOT / 'configs/mdm/mdm_tiny_1xb32-2k_synthmotion.py'))
    assert cfg.model.noise_scheduler.type == 'DDIMScheduler'
    model_a = MODELS.build(cfg.model)
    cfg_b = copy.deepcopy(cfg.model)
    cfg_b.noise_scheduler.type = 'DDPMScheduler'
    cfg_b.noise_scheduler.pop('eta')
    model_b = MODELS.build(cfg_b)
    model_b.load_state_dict(model_a.state_dict())  # the sampler holds no weights
    assert isinstance(model_a.noise_scheduler, DDIMScheduler)
    assert isinstance(model_b.noise_scheduler, DDPMScheduler)
    assert torch.equal(model_a.noise_scheduler.alphas_cumprod, model_b.noise_scheduler.alphas_cumprod)


# ---------------------------------------------------------------------- editing
def test_body_part_keep_mask_is_mdm_lower_body():
    rep = HumanML3DFeatures()
    keep = body_part_keep_mask(rep, 'upper_body')
    assert torch.equal(keep, torch.from_numpy(body_part_feature_mask(rep, 'lower_body')))
    assert keep[:4].all() and keep[259:].all()  # root block and foot contacts kept
    assert int(keep.sum()) == 4 + 8 * 3 + 8 * 6 + 9 * 3 + 4


@pytest.mark.parametrize('inpaint', [False, True])
def test_upper_body_edit_keeps_lower_body_and_root_exactly(inpaint):
    m = build()
    inputs, _ = make_batch(lengths=(32, 32))
    src = inputs['motion']
    out = m.edit_body_part(src, ['raise both arms', 'wave'], 'upper_body', inpaint=inpaint,
                           generator=torch.Generator().manual_seed(0))
    keep = body_part_keep_mask(HumanML3DFeatures(), 'upper_body')
    assert torch.equal(out[:, :, keep], src[:, :, keep])
    assert (out[:, :, ~keep] != src[:, :, ~keep]).float().mean() > 0.99


def test_edit_strength_starts_from_the_noised_source():
    m = build()
    inputs, _ = make_batch(lengths=(32, 32))
    src = inputs['motion']
    keep = body_part_keep_mask(HumanML3DFeatures(), 'upper_body')
    gen = lambda: torch.Generator().manual_seed(0)
    full = m.edit(src, keep, ['raise both arms', 'wave'], generator=gen())
    assert torch.equal(full, m.edit(src, keep, ['raise both arms', 'wave'], generator=gen(),
                                    strength=1.0))
    calls = []
    m.denoise = (lambda f: lambda *a, **k: calls.append(1) or f(*a, **k))(m.denoise)
    errs = []
    for strength in (0.8, 0.3, 0.05):
        calls.clear()
        out = m.edit(src, keep, ['raise both arms', 'wave'], generator=gen(), strength=strength,
                     num_inference_steps=10)
        assert torch.equal(out[:, :, keep], src[:, :, keep])
        # one (batched cond + uncond) denoiser call per step; only the last strength * 10 steps
        assert len(calls) == max(1, round(strength * 10))
        errs.append(float((out[:, :, ~keep] - src[:, :, ~keep]).pow(2).mean()))
    # the less noise, the closer the edited features stay to the source
    assert errs[0] > errs[1] > errs[2]
    with pytest.raises(ValueError, match='strength'):
        m.edit(src, keep, ['a', 'b'], strength=0.0)


def test_inbetweening_keeps_prefix_and_suffix_frames_exactly():
    m = build()
    inputs, _ = make_batch(lengths=(24, 32))
    src = inputs['motion']
    out = m.inbetween(src, ['walk', 'jump'], lengths=[24, 32], prefix_frames=5,
                      suffix_frames=0.25, generator=torch.Generator().manual_seed(0))
    assert torch.equal(out[0, :5], src[0, :5]) and torch.equal(out[0, 18:24], src[0, 18:24])
    assert torch.equal(out[1, :5], src[1, :5]) and torch.equal(out[1, 24:32], src[1, 24:32])
    assert not torch.equal(out[0, 5:18], src[0, 5:18])


def test_inbetween_keep_mask_and_cigtime_blend():
    keep = inbetween_keep_mask([8, 4], 8, 2, prefix_frames=2, suffix_frames=0.25)
    assert keep[0, :, 0].tolist() == [1, 1, 0, 0, 0, 0, 1, 1]
    assert keep[1, :, 0].tolist() == [1, 1, 0, 1, 0, 0, 0, 0]
    src, edited = torch.zeros(1, 2, 2), torch.ones(1, 2, 2)
    soft = torch.tensor([0.25, 1.0])
    # CigTime eq. 5: mask * edited + (1 - mask) * source
    assert torch.equal(blend_edit(src, edited, soft), torch.tensor([[[0.25, 1.0]] * 2]))


def test_edit_with_post_blend_and_flow_matching_sampler():
    m = build(noise_scheduler=dict(type='FlowMatchingScheduler', solver='heun'))
    inputs, _ = make_batch(lengths=(16, 16))
    src = inputs['motion'][:, :16]
    keep = body_part_keep_mask(HumanML3DFeatures(), 'lower_body')
    out = m.edit(src, keep, ['kick', 'kick'], post_blend=True, num_inference_steps=5)
    assert torch.equal(out[:, :, keep], src[:, :, keep])


@pytest.mark.parametrize('name,dim', [('humanml3d', 263), ('kit', 251)])
def test_paper_configs_build_at_paper_size_on_meta(name, dim):
    cfg = Config.fromfile(str(REPO_ROOT / f'configs/mdm/mdm_trans-enc-512_1xb64-600k_{name}.py'))
    assert cfg.paper_scale is True
    with torch.device('meta'):
        model = MODELS.build(cfg.model)  # CLIP is loaded lazily: no weights needed to build
    assert isinstance(model, MDM) and model.feature_dim == dim
    layers = model.transformer.layers
    assert len(layers) == 8
    layer = layers[0]
    assert layer.self_attn.embed_dim == 512 and layer.self_attn.num_heads == 4
    assert layer.linear1.out_features == 1024 and layer.dropout.p == 0.1
    assert model.guidance_scale == 2.5 and model.cond_mask_prob == 0.1
    assert model.noise_scheduler.num_train_timesteps == 1000
    assert model.noise_scheduler.beta_schedule == 'cosine'
    assert model.noise_scheduler.prediction_type == 'x0'
    # denoiser size: 8 x (attention 4*512*512 + 4*512, feed-forward 2*512*1024 + 1024 + 512,
    # 2 layer norms) + input/output linears + timestep MLP + text projection (no CLIP weights)
    per_layer = 4 * 512 * 512 + 4 * 512 + 2 * 512 * 1024 + 1024 + 512 + 4 * 512
    others = (dim * 512 + 512) + (512 * dim + dim) + 2 * (512 * 512 + 512) + (512 * 512 + 512)
    assert sum(p.numel() for p in model.parameters()) == 8 * per_layer + others


def test_edit_instructions_texts_masks_and_joints(tmp_path):
    rng = np.random.default_rng(0)
    np.save(tmp_path / 'Mean.npy', np.zeros(263, np.float32))
    np.save(tmp_path / 'Std.npy', np.ones(263, np.float32))
    m = build(edit_text_template='{source_caption}{instruction}')
    seen = {}
    edit = m.edit

    def spy(x, keep, texts, **kw):
        seen.update(texts=texts, keep=keep, kw=kw)
        return edit(x, keep, texts, **kw)

    m.edit = spy
    requests = [EditRequest('raise your hand higher', motion=rng.normal(size=(20, 263)).astype(np.float32),
                            body_part='upper_body', data_root=str(tmp_path), source_captions=['a person waves.']),
                EditRequest('take bigger steps', motion=rng.normal(size=(16, 263)).astype(np.float32),
                            body_part='lower_body', data_root=str(tmp_path), source_captions=['a person walks'])]
    assert isinstance(m, InstructionEditor)
    out = m.edit_instructions(requests)
    assert seen['texts'] == ['a person waves. raise your hand higher',
                             'a person walks. take bigger steps']
    upper_keep = body_part_keep_mask(HumanML3DFeatures(), 'upper_body')
    assert torch.equal(seen['keep'][0, 0], upper_keep)
    assert torch.equal(seen['keep'][1, 0], body_part_keep_mask(HumanML3DFeatures(), 'lower_body'))
    assert seen['kw']['post_blend'] and seen['kw']['num_inference_steps'] <= 50
    assert [o.shape for o in out] == [(20, 22, 3), (16, 22, 3)]
    requests[0].source_captions = ()
    with pytest.raises(KeyError, match='needs source_captions'):
        m.edit_instructions(requests)
    with pytest.raises(ValueError, match="body_part must be one of"):
        EditRequest('x', body_part='left_arm')

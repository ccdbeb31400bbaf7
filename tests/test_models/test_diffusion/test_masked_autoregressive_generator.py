"""CoAMD's masked autoregressive flow-matching generator: the flow-matching target, sampling
(oracle head, shapes, seeds, CFG), recognizer guidance (eq. 6-8), the once-at-end variant, the four
temporal editing tasks, and bad input."""
import math
import zlib

import pytest
import torch
import torch.nn.functional as F
from mmengine.registry import init_default_scope
from torch import nn

import motionkit.models.diffusion.masked_autoregressive_generator as mag
from motionkit.models.diffusion import (MaskedAutoregressiveGenerator, fill_tokens_from_keep_mask,
                                        recognizer_guidance_step, temporal_edit_keep_mask)
from motionkit.motion.skeletons import get_skeleton
from motionkit.registry import MODELS
from motionkit.structures import MotionDataSample

J, C, D = 22, 8, 16
PARENTS = [max(p, 0) for p in get_skeleton('t2m22').parents]


class ToyGuidanceRecognizer(nn.Module):
    """A small differentiable stand-in for CoAMD's MAR: per-stream linear embeddings of the
    time-averaged joints / bones / frame differences, a fused one, hashed text embeddings."""

    embedding_names = ('joint', 'bone', 'motion', 'fused')

    def __init__(self, dim: int = 8, streams=('joint', 'bone', 'motion')) -> None:
        super().__init__()
        self.embedding_names = tuple(streams) + ('fused', )
        self.proj = nn.ModuleDict({k: nn.Linear(3 * J, dim) for k in streams})
        self.text = nn.Embedding(64, dim)
        self.calls = []

    def encode_text(self, texts):
        ids = torch.tensor([zlib.crc32(t.encode()) % 64 for t in texts])
        return self.text(ids.to(self.text.weight.device))

    def _feats(self, joints, lengths):
        t = torch.arange(joints.shape[1], device=joints.device)[None]
        m = (t < lengths[:, None]).to(joints.dtype)[..., None, None]
        n = m.sum(1).clamp(min=1)
        feats = dict(joint=(joints * m).sum(1) / n,
                     bone=((joints - joints[:, :, PARENTS]) * m).sum(1) / n,
                     motion=((joints[:, 1:] - joints[:, :-1]) * m[:, 1:]).sum(1) / n)
        emb = {k: self.proj[k](feats[k].flatten(1)) for k in self.proj}
        emb['fused'] = sum(emb.values())
        return emb

    def score(self, joints, texts_or_text_emb, weights=None, lengths=None):
        self.calls.append(dict(weights=weights))
        if lengths is None:
            lengths = torch.full((joints.shape[0], ), joints.shape[1], device=joints.device)
        c = texts_or_text_emb
        if not isinstance(c, torch.Tensor):
            c = self.encode_text(c)
        emb = self._feats(joints, lengths)
        w = weights or dict(fused=0.7, joint=0.1, bone=0.1, motion=0.1)
        return sum(wk * F.cosine_similarity(emb[k], c, dim=-1) for k, wk in w.items())


if MODELS.get('ToyGuidanceRecognizer') is None:
    MODELS.register_module(module=ToyGuidanceRecognizer)


def _gen(**kw) -> MaskedAutoregressiveGenerator:
    init_default_scope('motionkit')
    cfg = dict(type='MaskedAutoregressiveGenerator',
               tokenizer=dict(type='MultimodalAutoencoder', width=16, code_dim=C, depth=1),
               latent_dim=D, ff_size=32, num_layers=1, num_heads=2, dropout=0.0,
               text_encoder=dict(type='LearnedTextEncoder', embed_dim=D, word_dim=16, num_layers=0,
                                 num_buckets=256),
               head=dict(type='FlowMatchingHead', width=16, depth=1),
               num_inference_steps=3, num_ar_steps=3, guidance_scale=2.0)
    cfg.update(kw)
    torch.manual_seed(0)
    model = MODELS.build(cfg)
    with torch.no_grad():  # an untrained adaLN-Zero head predicts 0: give it some output
        for p in model.head.parameters():
            p.add_(0.1 * torch.randn_like(p))
    return model.eval()


def _joints(batch, frames, seed=0):
    g = torch.Generator().manual_seed(seed)
    t = torch.linspace(0, 1, frames)[None, :, None, None]
    return torch.randn(batch, 1, J, 3, generator=g) * 0.3 + 0.2 * torch.sin(6.28 * t)


TEXTS = ['a person walks forward', 'someone jumps twice']


# ---------------------------------------------------------------------- training target (eq. 4-5)
class _EchoHead(nn.Module):
    """Records its inputs and predicts its input ``x_t`` as the velocity."""

    def __init__(self):
        super().__init__()
        self.seen = []

    def forward(self, x, t, cond):
        self.seen.append((x.detach().clone(), t.detach().clone(), cond.detach().clone()))
        return x.clone()


def test_flow_matching_target_is_data_minus_noise(monkeypatch, one_thread):
    gen = _gen(mask_noise_prob=0.0, mask_token_prob=1.0, head_batch_mul=3)
    monkeypatch.setattr(mag, 'training_token_mask', lambda valid, generator=None: valid.clone())
    gen.head = _EchoHead()
    x, lengths = _joints(2, 20), torch.tensor([20, 12])
    torch.manual_seed(1)
    loss = gen.loss(x, lengths, TEXTS)['loss_flow']
    z, tok = gen.tokenizer.encode(x, lengths)
    valid = torch.arange(z.shape[1])[None] < tok[:, None]
    target = z[valid].repeat(3, 1)           # every token masked, 3 draws each
    x_t, t, _ = gen.head.seen[0]
    assert x_t.shape == target.shape == (3 * (5 + 3), C)
    assert (t >= 0).all() and (t < 1).all()
    # x_t = t z + (1 - t) eps (t = 0 noise, 1 data) -> the noise the loss drew
    eps = (x_t - t[:, None] * target) / (1 - t[:, None])
    assert eps.std().item() == pytest.approx(1.0, abs=0.25)
    # the head's prediction (x_t) against the velocity z - eps
    assert loss.item() == pytest.approx((x_t - (target - eps)).pow(2).mean().item(), rel=1e-4)
    assert loss.item() != pytest.approx((x_t - (eps - target)).pow(2).mean().item(), rel=1e-2)


class _OracleHead(nn.Module):
    """The exact velocity of the linear path towards one token ``z_star``: (z* - x) / (1 - t)."""

    def __init__(self, z_star):
        super().__init__()
        self.z_star = z_star

    def forward(self, x, t, cond):
        return (self.z_star - x) / (1 - t)[:, None]


@pytest.mark.parametrize('solver', ['euler', 'heun'])
def test_ode_sampling_lands_on_the_data_the_velocity_points_to(solver, one_thread):
    gen = _gen(noise_scheduler=dict(type='FlowMatchingScheduler', solver=solver),
               num_inference_steps=4)
    z_star = torch.linspace(-1, 1, C)
    gen.head = _OracleHead(z_star)
    tok = torch.tensor([5, 3])
    valid = torch.arange(5)[None] < tok[:, None]
    out = gen.fill_tokens(torch.zeros(2, 5, C), valid, valid, TEXTS, tok,
                          generator=torch.Generator().manual_seed(0))
    torch.testing.assert_close(out[valid], z_star.expand(8, C), atol=1e-5, rtol=0)
    assert torch.count_nonzero(out[~valid]) == 0


# ---------------------------------------------------------------------- sampling
def test_sampling_shapes_and_determinism_under_a_seed(one_thread):
    gen = _gen()
    a = gen.sample(TEXTS, [24, 18], generator=torch.Generator().manual_seed(3))
    b = gen.sample(TEXTS, [24, 18], generator=torch.Generator().manual_seed(3))
    c = gen.sample(TEXTS, [24, 18], generator=torch.Generator().manual_seed(4))
    assert a.shape == (2, 24, J, 3)
    assert torch.equal(a, b) and not torch.allclose(a, c)
    assert torch.count_nonzero(a[1, 16:]) == 0  # 18 frames -> 4 tokens -> 16 frames
    # a motion does not depend on the others in its batch
    alone = gen.sample(TEXTS[:1], [24], generator=torch.Generator().manual_seed(3))
    assert alone.shape == (1, 24, J, 3)


class _ConstantHead(nn.Module):
    """Velocity = the first C channels of the context; counts the tokens it sees."""

    def __init__(self):
        super().__init__()
        self.rows = []

    def forward(self, x, t, cond):
        self.rows.append(x.shape[0])
        return cond[:, :C]


def test_classifier_free_guidance_on_the_velocity(one_thread):
    gen = _gen(num_ar_steps=2)
    gen.head = _ConstantHead()
    # a context that is the text embedding itself (zeros for the null text)
    gen.context = lambda tokens, text_emb, valid: text_emb[:, None, :].expand(
        tokens.shape[0], tokens.shape[1], D)
    tok = torch.tensor([4, 4])
    valid = torch.ones(2, 4, dtype=torch.bool)
    a = gen.encode_text(TEXTS, 2)[:, :C]

    def run(scale):
        gen.head.rows.clear()
        out = gen.fill_tokens(torch.zeros(2, 4, C), valid, valid, TEXTS, tok, guidance_scale=scale,
                              generator=torch.Generator().manual_seed(0))
        return out, list(gen.head.rows)

    # a constant velocity v moves noise by v over t in [0, 1]; CFG gives v_u + s (v_c - v_u) = s a
    (s1, rows1), (s3, rows3), (s0, _) = run(1.0), run(3.0), run(0.0)
    torch.testing.assert_close(s3 - s1, 2 * a[:, None, :].expand(2, 4, C), atol=1e-5, rtol=0)
    torch.testing.assert_close(s1 - s0, a[:, None, :].expand(2, 4, C), atol=1e-5, rtol=0)
    # scale 1 skips the unconditional pass: half the rows per head call
    assert rows3[0] == 2 * rows1[0]


# ---------------------------------------------------------------------- guidance (eq. 6-8)
def test_guidance_step_hand_computed():
    """S = sum_l w . z_l: the gradient is w at every token."""
    w = torch.tensor([3.0, 4.0])                      # ||w|| = 5
    z = torch.arange(8.0).reshape(1, 4, 2)
    mask = torch.tensor([[False, True, False, True]])
    new, info = recognizer_guidance_step(z, mask, lambda zz: (zz * w).sum((1, 2)), gamma=0.5)
    # norm over all 4 tokens: ||g|| = 5 * sqrt(4) = 10; masked tokens move by 0.5 * w / 10
    assert info['grad_norm'].tolist() == pytest.approx([10.0])
    assert info['score'].tolist() == pytest.approx([(z * w).sum().item()])
    assert torch.equal(new[:, [0, 2]], z[:, [0, 2]])
    torch.testing.assert_close(new[0, 1] - z[0, 1], torch.tensor([0.15, 0.2]))
    step = (new - z).flatten().norm().item()
    assert step == pytest.approx(0.5 * math.sqrt(2) / 2)
    # normalised over the masked tokens only: a step of norm gamma
    new_m, _ = recognizer_guidance_step(z, mask, lambda zz: (zz * w).sum((1, 2)), gamma=0.5,
                                        norm='masked')
    assert (new_m - z).flatten().norm().item() == pytest.approx(0.5)
    assert torch.equal(new_m[:, [0, 2]], z[:, [0, 2]])
    # every token masked: the reference's norm gives a step of norm gamma too
    new_all, _ = recognizer_guidance_step(z, torch.ones(1, 4, dtype=torch.bool),
                                          lambda zz: (zz * w).sum((1, 2)), gamma=0.5)
    assert (new_all - z).flatten().norm().item() == pytest.approx(0.5)


def _guided(**kw):
    cfg = dict(recognizer=dict(type='ToyGuidanceRecognizer', dim=8), guidance_gamma=0.3)
    cfg.update(kw)
    return _gen(**cfg)


def test_one_step_guidance_is_gamma_times_the_normalised_gradient(one_thread):
    """One autoregressive step masks every token: guided = unguided + gamma g / ||g||, the score
    goes up, and every step of the recognizer sees the non-zero weights."""
    gen = _guided(num_ar_steps=1)
    tok = torch.tensor([5, 3])
    valid = torch.arange(5)[None] < tok[:, None]
    z0 = torch.zeros(2, 5, C)
    seed = lambda: torch.Generator().manual_seed(0)  # noqa: E731
    plain = gen.fill_tokens(z0, valid, valid, TEXTS, tok, guided=False, generator=seed())
    guided = gen.fill_tokens(z0, valid, valid, TEXTS, tok, generator=seed())
    score_fn = gen._score_fn(TEXTS, tok, valid)
    zz = plain.clone().requires_grad_(True)
    g, = torch.autograd.grad(score_fn(zz).sum(), zz)
    expected = 0.3 * g / g.flatten(1).norm(dim=1)[:, None, None]
    torch.testing.assert_close(guided - plain, expected, atol=1e-6, rtol=1e-5)
    assert (guided - plain).flatten(1).norm(dim=1).tolist() == pytest.approx([0.3, 0.3], abs=1e-5)
    assert torch.count_nonzero((guided - plain)[~valid]) == 0
    with torch.no_grad():
        assert (score_fn(guided) > score_fn(plain)).all()
    rec = gen.recognizer
    assert rec.calls[-1]['weights'] == dict(fused=0.7, joint=0.1, bone=0.1, motion=0.1)
    assert len(gen.guidance_trace) == 1


def test_guidance_touches_only_the_tokens_masked_at_each_step(monkeypatch, one_thread):
    gen = _guided(num_ar_steps=4, guidance_norm='masked')
    seen = []
    step_fn = mag.recognizer_guidance_step

    def spy(latents, mask, score_fn, gamma, norm, eps):
        new, info = step_fn(latents, mask, score_fn, gamma, norm=norm, eps=eps)
        seen.append((latents.clone(), mask.clone(), new.clone()))
        return new, info

    monkeypatch.setattr(mag, 'recognizer_guidance_step', spy)
    tok = torch.tensor([8, 6])
    valid = torch.arange(8)[None] < tok[:, None]
    gen.fill_tokens(torch.zeros(2, 8, C), valid, valid, TEXTS, tok,
                    generator=torch.Generator().manual_seed(0))
    assert len(seen) == 4 and len(gen.guidance_trace) == 4
    prev = None
    for before, mask, after in seen:
        assert torch.equal(after[~mask], before[~mask])           # unmasked tokens untouched
        assert (after - before).flatten(1).norm(dim=1).tolist() == pytest.approx([0.3, 0.3],
                                                                                abs=1e-5)
        assert not (mask & ~valid).any()
        if prev is not None:
            assert not (mask & ~prev).any()  # the masked set shrinks along the schedule
        prev = mask
    assert seen[0][1].sum(1).tolist() == [8, 6] and seen[-1][1].sum(1).tolist() == [1, 1]


def test_guidance_once_at_end(one_thread):
    gen = _guided(num_ar_steps=3, guidance_mode='once_at_end')
    tok = torch.tensor([6, 4])
    valid = torch.arange(6)[None] < tok[:, None]
    seed = lambda: torch.Generator().manual_seed(0)  # noqa: E731
    plain = gen.fill_tokens(torch.zeros(2, 6, C), valid, valid, TEXTS, tok, guided=False,
                            generator=seed())
    once = gen.fill_tokens(torch.zeros(2, 6, C), valid, valid, TEXTS, tok, generator=seed())
    assert [e['step'] for e in gen.guidance_trace] == [3]
    # the autoregressive steps are the unguided ones; one step on every token at the end
    score_fn = gen._score_fn(TEXTS, tok, valid)
    zz = plain.clone().requires_grad_(True)
    g, = torch.autograd.grad(score_fn(zz).sum(), zz)
    torch.testing.assert_close(once - plain, 0.3 * g / g.flatten(1).norm(dim=1)[:, None, None],
                               atol=1e-6, rtol=1e-5)
    # every step: one guidance step per autoregressive step, and a different result
    every = _guided(num_ar_steps=3)
    out = every.fill_tokens(torch.zeros(2, 6, C), valid, valid, TEXTS, tok, generator=seed())
    assert [e['step'] for e in every.guidance_trace] == [0, 1, 2]
    assert not torch.allclose(out, once)


def test_joint_only_weights_reach_the_recognizer(one_thread):
    gen = _guided(guidance_weights=dict(joint=1.0), num_ar_steps=2)
    gen.sample(TEXTS, [16, 12], generator=torch.Generator().manual_seed(0))
    assert gen.recognizer.calls[-1]['weights'] == dict(joint=1.0)
    # a vector in the documented order (fused, joint, bone, motion)
    gen = _guided(guidance_weights=(0.0, 1.0, 0.0, 0.0), num_ar_steps=1)
    gen.sample(TEXTS, [16, 12], generator=torch.Generator().manual_seed(0))
    assert gen.recognizer.calls[-1]['weights'] == dict(joint=1.0)


def test_recognizer_built_from_config_and_checkpoint_frozen_and_not_saved(tmp_path, one_thread):
    torch.manual_seed(5)
    trained = ToyGuidanceRecognizer(dim=8)
    ckpt = tmp_path / 'mar.pth'
    torch.save(dict(state_dict=trained.state_dict(), meta=dict()), ckpt)
    gen = _guided(recognizer_checkpoint=str(ckpt))
    assert not gen._recognizer  # nothing built before guided sampling
    gen.sample(TEXTS, [12, 8], generator=torch.Generator().manual_seed(0))
    rec = gen.recognizer
    assert isinstance(rec, ToyGuidanceRecognizer) and not rec.training
    assert torch.equal(rec.proj['joint'].weight, trained.proj['joint'].weight)
    assert not any(p.requires_grad for p in rec.parameters())
    assert not any('recognizer' in k or k.startswith('proj') for k in gen.state_dict())
    # an object given directly is not a submodule either (not trained, not saved)
    direct = _guided(recognizer=ToyGuidanceRecognizer(dim=8))
    n = sum(p.numel() for p in direct.parameters())
    assert n == sum(p.numel() for p in _gen().parameters())
    assert direct.recognizer is direct._recognizer[0]
    # unguided: gamma 0 never builds the recognizer (even a missing config file is not read)
    off = _gen(recognizer='does/not/exist.py', guidance_gamma=0.0)
    assert not off.guided
    off.sample(TEXTS, [8, 8], generator=torch.Generator().manual_seed(0))


def test_guidance_weight_errors():
    with pytest.raises(ValueError, match=r"guidance_weights needs one weight per recognizer "
                                         r"embedding \('fused', 'joint', 'bone', 'motion'\)"):
        _gen(guidance_weights=(0.7, 0.1, 0.1))
    with pytest.raises(KeyError, match='unknown embedding'):
        _gen(guidance_weights=dict(speed=1.0))
    with pytest.raises(ValueError, match='finite'):
        _gen(guidance_weights=(float('nan'), 0, 0, 0))
    # a joints-only recognizer has no bone / motion embedding to weigh
    gen = _guided(recognizer=dict(type='ToyGuidanceRecognizer', streams=('joint', )))
    with pytest.raises(KeyError, match=r"weigh \['bone', 'motion'\].*only the embeddings "
                                       r"\['joint', 'fused'\]"):
        gen.sample(TEXTS, [8, 8])
    with pytest.raises(ValueError, match='guidance_mode'):
        _gen(guidance_mode='sometimes')
    with pytest.raises(ValueError, match='guidance_gamma'):
        _gen(guidance_gamma=-1.0)


# ---------------------------------------------------------------------- editing (table 6)
def test_temporal_keep_masks_follow_the_reference_regions():
    # 32 frames: 8 tokens, q = 2, h = 4 (token k = frames 4k .. 4k+3); 30 frames: 7 tokens, q = 1
    def frames(task, length=32):
        return temporal_edit_keep_mask(task, [length], 32)[0].nonzero().flatten().tolist()

    assert frames('inpainting') == list(range(0, 8)) + list(range(24, 32))
    assert frames('outpainting') == list(range(8, 24))
    assert frames('prefix') == list(range(0, 16))
    assert frames('suffix') == list(range(16, 32))
    assert frames('inpainting', 30) == list(range(0, 4)) + list(range(24, 28))
    assert frames('suffix', 30) == list(range(12, 28))
    with pytest.raises(KeyError, match='unknown temporal editing task'):
        temporal_edit_keep_mask('middle', [32], 32)
    keep = torch.zeros(1, 12, dtype=torch.bool)
    keep[0, :6] = True  # token 1 is half kept: it is regenerated (and its kept frames copied back)
    assert fill_tokens_from_keep_mask(keep, torch.tensor([3])).tolist() == [[False, True, True]]


@pytest.mark.parametrize('task', ['inpainting', 'outpainting', 'prefix', 'suffix'])
def test_editing_keeps_the_kept_frames_exactly(task, one_thread):
    gen = _gen()
    x = _joints(2, 32, seed=2)
    lengths = torch.tensor([32, 26])
    out = gen.edit_temporal(x, TEXTS, task, lengths, generator=torch.Generator().manual_seed(0))
    keep = temporal_edit_keep_mask(task, lengths, 32)
    assert out.shape == (2, 32, J, 3)
    for i, n in enumerate([32, 24]):
        k = keep[i, :n]
        assert torch.equal(out[i, :n][k], x[i, :n][k])              # exactly the input's
        assert not torch.allclose(out[i, :n][~k], x[i, :n][~k])     # the rest is generated
        assert torch.count_nonzero(out[i, n:]) == 0


def test_edit_keeps_the_latents_of_kept_tokens_and_copies_partial_tokens(one_thread):
    gen = _gen()
    x = _joints(1, 16, seed=3)
    keep = torch.zeros(1, 16, dtype=torch.bool)
    keep[0, :6] = True
    out = gen.edit(x, keep, TEXTS[:1], generator=torch.Generator().manual_seed(0))
    assert torch.equal(out[0, :6], x[0, :6])
    z, tok = gen.tokenizer.encode(x)
    fill = fill_tokens_from_keep_mask(keep, tok)
    latents = gen.fill_tokens(z, fill, torch.ones_like(fill), TEXTS[:1], tok,
                              generator=torch.Generator().manual_seed(0))
    assert torch.equal(latents[~fill], z[~fill])
    with pytest.raises(ValueError, match=r'keep_mask must be a bool \(B, T\) = \(1, 16\)'):
        gen.edit(x, keep[:, :8], TEXTS[:1])


# ---------------------------------------------------------------------- BaseModel API, bad input
def _samples(texts, lengths):
    out = []
    for t, n in zip(texts, lengths):
        s = MotionDataSample()
        s.gt_text = t
        s.set_metainfo(dict(length=n))
        out.append(s)
    return out


def test_predict_dumps_joints_and_absolute_coordinate_features(one_thread):
    gen = _gen()
    x = _joints(2, 20)
    samples = gen(dict(motion=x, lengths=torch.tensor([20, 14])), _samples(TEXTS, [20, 14]),
                  mode='predict')
    assert samples[0].pred_joints.shape == (20, J, 3) and samples[1].pred_joints.shape == (12, J, 3)
    assert torch.equal(samples[1].pred_motion, samples[1].pred_joints.reshape(12, 66))
    assert samples[1].metainfo['pred_motion_normalized'] is False
    assert samples[1].metainfo['pred_length'] == 12
    assert samples[1].metainfo['pred_motion_representation'] == 'AbsoluteCoordinates'
    assert torch.equal(samples[1].gt_joints, x[1, :12])
    gen.predict_task = 'prefix'
    edited = gen(dict(motion=x, lengths=torch.tensor([20, 14])), _samples(TEXTS, [20, 14]),
                 mode='predict')
    assert torch.equal(edited[0].pred_joints[:8], x[0, :8])
    losses = gen.train()(dict(motion=x, lengths=torch.tensor([20, 14])), _samples(TEXTS, [20, 14]),
                         mode='loss')
    assert set(losses) == {'loss_flow'} and torch.isfinite(losses['loss_flow'])
    assert not gen.tokenizer.training  # the autoencoder stays frozen in eval mode


def test_bad_inputs_raise_clear_errors():
    gen = _gen()
    with pytest.raises(ValueError, match=r"\(B, T, 22, 3\) of skeleton 't2m22'"):
        gen.loss(torch.zeros(2, 16, 21, 3), torch.tensor([16, 16]), TEXTS)
    x = _joints(2, 16)
    x[0, 3, 1, 2] = float('nan')
    with pytest.raises(ValueError, match='NaN or inf.*batch item 0, frame 3'):
        gen.loss(x, torch.tensor([16, 16]), TEXTS)
    with pytest.raises(ValueError, match='>= 4 frames'):
        gen.sample(TEXTS, [16, 3])
    with pytest.raises(ValueError, match='1 texts for a batch of 2'):
        gen.sample(TEXTS[:1], [16, 16])
    with pytest.raises(KeyError, match='unknown temporal editing task'):
        _gen(predict_task='middle')
    with pytest.raises(KeyError, match='no gt_text'):
        gen(dict(motion=_joints(1, 8)), [MotionDataSample()], mode='loss')


def test_predict_replications_are_independent_generations(one_thread):
    gen = _gen(num_replications=3)
    x = _joints(2, 20)
    torch.manual_seed(0)
    samples = gen(dict(motion=x, lengths=torch.tensor([20, 14])), _samples(TEXTS, [20, 14]),
                  mode='predict')
    reps = samples[1].pred_motion_replications
    assert reps.shape == (3, 12, 66) and samples[0].pred_motion_replications.shape == (3, 20, 66)
    # the first replication is pred_motion; the others are different draws for the same caption
    assert torch.equal(reps[0], samples[1].pred_motion)
    assert not torch.allclose(reps[0], reps[1]) and not torch.allclose(reps[1], reps[2])
    assert torch.isfinite(reps).all()
    # one generation per sample without replications: no extra field
    gen.num_replications = 1
    single = gen(dict(motion=x, lengths=torch.tensor([20, 14])), _samples(TEXTS, [20, 14]),
                 mode='predict')
    assert 'pred_motion_replications' not in single[0]
    with pytest.raises(ValueError, match='num_replications must be >= 1'):
        _gen(num_replications=0)
    # editing with replications keeps the kept frames exactly in every replication
    gen.num_replications, gen.predict_task = 2, 'prefix'
    edited = gen(dict(motion=x, lengths=torch.tensor([20, 14])), _samples(TEXTS, [20, 14]),
                 mode='predict')
    kept = edited[0].pred_motion_replications[:, :8].reshape(2, 8, J, 3)
    assert torch.equal(kept, x[0, :8].expand(2, -1, -1, -1))


def test_predict_reports_the_guidance_trace_of_each_sample(one_thread):
    gen = _guided(num_ar_steps=3, num_replications=2)
    x = _joints(2, 20)
    samples = gen(dict(motion=x, lengths=torch.tensor([20, 16])), _samples(TEXTS, [20, 16]),
                  mode='predict')
    trace = gen.guidance_trace
    assert len(trace) == 3 and trace[0]['score'].shape == (4, )  # 2 samples x 2 replications
    for i, s in enumerate(samples):
        assert s.guidance_score.shape == (3, ) and s.guidance_grad_norm.shape == (3, )
        # row i of the R x B batch is sample i's first generation
        assert torch.equal(s.guidance_score, torch.stack([t['score'][i] for t in trace]))
        assert (s.guidance_grad_norm > 0).all()
    plain = _gen()(dict(motion=x, lengths=torch.tensor([20, 16])), _samples(TEXTS, [20, 16]),
                   mode='predict')
    assert 'guidance_score' not in plain[0]

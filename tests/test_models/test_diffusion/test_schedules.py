"""Noise schedules and samplers: closed forms, exact conversions, oracle denoisers."""
import math

import pytest
import torch

from motionkit.models.diffusion import (DDIMScheduler, DDPMScheduler, FlowMatchingScheduler,
                                        classifier_free_guidance, sample_loop)
from motionkit.registry import NOISE_SCHEDULES


# ---------------------------------------------------------------------- beta schedules
def test_linear_alphas_cumprod_closed_form():
    s = DDPMScheduler(beta_schedule='linear')
    # Ho et al.: beta_i = 1e-4 + i * (0.02 - 1e-4) / 999, alpha_bar_t = prod_{i<=t} (1 - beta_i)
    for t in (0, 1, 10, 500, 999):
        expected = math.prod(1 - (1e-4 + i * (0.02 - 1e-4) / 999) for i in range(t + 1))
        assert s.alphas_cumprod[t].item() == pytest.approx(expected, rel=1e-10)
    assert s.alphas_cumprod[0].item() == pytest.approx(0.9999, abs=1e-12)


def test_linear_schedule_rescaled_for_fewer_steps():
    s = DDPMScheduler(beta_schedule='linear', num_train_timesteps=100)
    # both ends scaled by 1000 / 100 (guided-diffusion's rule)
    assert s.betas[0].item() == pytest.approx(1e-3)
    assert s.betas[-1].item() == pytest.approx(0.2)


def test_cosine_alphas_cumprod_closed_form():
    s = DDPMScheduler(beta_schedule='cosine')
    f = lambda u: math.cos((u + 0.008) / 1.008 * math.pi / 2) ** 2  # noqa: E731
    # Nichol & Dhariwal eq. 17: alpha_bar after step t is f((t + 1) / T) / f(0)
    for t in (0, 1, 249, 499, 998):
        assert s.alphas_cumprod[t].item() == pytest.approx(f((t + 1) / 1000) / f(0), rel=1e-9)
    # hand-computed: f(0.5) / f(0) = cos(0.508/1.008 * pi/2)^2 / cos(0.008/1.008 * pi/2)^2
    assert s.alphas_cumprod[499].item() == pytest.approx(0.4938, abs=1e-4)
    # the last beta is clipped to 0.999
    assert s.betas[-1].item() == pytest.approx(0.999)
    assert s.alphas_cumprod[999].item() == pytest.approx(s.alphas_cumprod[998].item() * 0.001)


def test_unknown_schedule_and_prediction_type_raise():
    with pytest.raises(ValueError, match='beta_schedule'):
        DDPMScheduler(beta_schedule='sigmoid')
    with pytest.raises(ValueError, match='prediction_type'):
        DDPMScheduler(prediction_type='score')


# ---------------------------------------------------------------------- conversions
@pytest.mark.parametrize('schedule', ['cosine', 'linear'])
def test_add_noise_and_conversions_are_exact_inverses(schedule):
    g = torch.Generator().manual_seed(0)
    s = DDPMScheduler(beta_schedule=schedule)
    x0 = torch.randn(6, 5, 7, generator=g, dtype=torch.float64)
    eps = torch.randn(6, 5, 7, generator=g, dtype=torch.float64)
    t = torch.tensor([0, 1, 100, 500, 900, 998])
    x_t = s.add_noise(x0, eps, t)
    ab = s.alphas_cumprod[t].reshape(-1, 1, 1)
    assert torch.allclose(x_t, ab.sqrt() * x0 + (1 - ab).sqrt() * eps)
    v = s.get_velocity(x0, eps, t)
    assert torch.allclose(v, ab.sqrt() * eps - (1 - ab).sqrt() * x0)
    preds = {'x0': x0, 'epsilon': eps, 'v': v}
    for src, value in preds.items():
        for dst, expected in preds.items():
            got = s.convert(value, x_t, t, to=dst, from_type=src)
            assert torch.allclose(got, expected, atol=1e-8), (src, dst)


def test_training_target_per_prediction_type():
    x0, eps, t = torch.randn(2, 3, 4), torch.randn(2, 3, 4), torch.tensor([3, 700])
    assert torch.equal(DDPMScheduler(prediction_type='x0').training_target(x0, eps, t), x0)
    assert torch.equal(DDPMScheduler(prediction_type='epsilon').training_target(x0, eps, t), eps)
    s = DDPMScheduler(prediction_type='v')
    assert torch.allclose(s.training_target(x0, eps, t), s.get_velocity(x0, eps, t))


# ---------------------------------------------------------------------- timesteps
def test_set_timesteps_spacing():
    s = DDIMScheduler()
    s.set_timesteps(50)
    ts = s.timesteps.tolist()
    assert len(ts) == 50 and ts[0] == 999 and ts[-1] == 0 and ts == sorted(ts, reverse=True)
    s.set_timesteps(1000)
    assert s.timesteps.tolist() == list(range(999, -1, -1))
    lead = DDIMScheduler(timestep_spacing='leading')
    lead.set_timesteps(50)
    assert lead.timesteps.tolist() == list(range(980, -1, -20))
    assert lead.previous_timestep(980) == 960 and lead.previous_timestep(0) == -1
    with pytest.raises(ValueError, match='num_inference_steps'):
        s.set_timesteps(1001)


# ---------------------------------------------------------------------- posterior / DDIM
def test_ddpm_posterior_matches_ho_et_al_on_consecutive_steps():
    s = DDPMScheduler(beta_schedule='linear')
    x0, x_t = torch.randn(2, 3, dtype=torch.float64), torch.randn(2, 3, dtype=torch.float64)
    t = 10
    beta, ab, ab_prev = s.betas[t], s.alphas_cumprod[t], s.alphas_cumprod[t - 1]
    # Ho et al. eq. 7
    mean = (ab_prev.sqrt() * beta / (1 - ab)) * x0 + ((1 - beta).sqrt() * (1 - ab_prev) / (1 - ab)) * x_t
    var = beta * (1 - ab_prev) / (1 - ab)
    got_mean, got_var = s.posterior_mean_variance(x0, x_t, t, t - 1)
    assert torch.allclose(got_mean, mean) and got_var.item() == pytest.approx(var.item())
    large = DDPMScheduler(beta_schedule='linear', variance_type='fixed_large')
    assert large.posterior_mean_variance(x0, x_t, t, t - 1)[1].item() == pytest.approx(beta.item())


def test_ddim_eta1_equals_ddpm_fixed_small():
    x0 = torch.randn(4, 3, dtype=torch.float64)
    x_t = torch.randn(4, 3, dtype=torch.float64)
    ddpm, ddim = DDPMScheduler(), DDIMScheduler(eta=1.0)
    for s in (ddpm, ddim):
        s.set_timesteps(20)
    t = int(ddpm.timesteps[5])
    a = ddpm.step(x0, t, x_t, generator=torch.Generator().manual_seed(1)).prev_sample
    b = ddim.step(x0, t, x_t, generator=torch.Generator().manual_seed(1)).prev_sample
    assert torch.allclose(a, b, atol=1e-10)


def _x0_oracle(s, data, pred):
    """Perfect denoiser of a single data point, in the scheduler's prediction type."""
    def fn(x_t, t):
        return s.x0_to_model_output(data.expand_as(x_t), x_t, t)
    return fn


def test_ddim_eta0_is_deterministic_and_keeps_the_noise_direction():
    data = torch.randn(1, 4, 3, dtype=torch.float64)
    noise = torch.randn(2, 4, 3, dtype=torch.float64)
    s = DDIMScheduler(eta=0.0, prediction_type='x0')
    outs = []
    for seed in (0, 1):
        outs.append(sample_loop(_x0_oracle(s, data, 'x0'), s, noise, 10,
                                generator=torch.Generator().manual_seed(seed)))
    assert torch.equal(outs[0], outs[1])
    # with an exact x0, each DDIM step stays on x_t = a x0 + s eps with the eps of x_T
    s.set_timesteps(10)
    ab_T = s.alpha_bar(999)
    eps = (noise - ab_T.sqrt() * data) / (1 - ab_T).sqrt()
    x = noise
    for t in s.timesteps[:-1]:
        x = s.step(data.expand_as(x), t, x).prev_sample
        prev = s.previous_timestep(t)
        ab = s.alpha_bar(prev)
        assert torch.allclose(x, ab.sqrt() * data + (1 - ab).sqrt() * eps, atol=1e-10)


@pytest.mark.parametrize('cls,steps', [(DDPMScheduler, 1000), (DDPMScheduler, 50),
                                       (DDIMScheduler, 10)])
@pytest.mark.parametrize('pred', ['x0', 'epsilon', 'v'])
def test_oracle_denoiser_recovers_the_data(cls, steps, pred):
    data = torch.randn(1, 8, 5, dtype=torch.float64)
    s = cls(prediction_type=pred)
    noise = torch.randn(3, 8, 5, dtype=torch.float64, generator=torch.Generator().manual_seed(2))
    out = sample_loop(_x0_oracle(s, data, pred), s, noise, steps,
                      generator=torch.Generator().manual_seed(3))
    assert torch.allclose(out, data.expand_as(out), atol=1e-4)


def _gaussian_posterior_x0(s, mu, c):
    """E[x0 | x_t] for data ~ N(mu, c^2) under variance-preserving noising (exact denoiser)."""
    def fn(x_t, t):
        ab = s.alpha_bar(t[0])
        a, sd2 = ab.sqrt(), 1 - ab
        return mu + a * c ** 2 / (ab * c ** 2 + sd2) * (x_t - a * mu)
    return fn


@pytest.mark.parametrize('cls,steps,tol', [(DDPMScheduler, 200, 0.03), (DDIMScheduler, 50, 0.03)])
def test_samplers_reach_the_data_distribution_with_the_exact_denoiser(cls, steps, tol):
    """With the Bayes-optimal denoiser of Gaussian data, samples are N(mu, c^2)."""
    mu, c = 1.5, 0.5
    s = cls(prediction_type='x0')
    noise = torch.randn(20000, 1, 1, dtype=torch.float64, generator=torch.Generator().manual_seed(0))
    out = sample_loop(_gaussian_posterior_x0(s, mu, c), s, noise, steps,
                      generator=torch.Generator().manual_seed(1))
    assert out.mean().item() == pytest.approx(mu, abs=tol)
    assert out.std().item() == pytest.approx(c, rel=tol)


def test_denoised_fn_overwrite_is_exact_at_the_end():
    s = DDPMScheduler()
    keep = torch.zeros(2, 6, 4, dtype=torch.bool)
    keep[:, :, 0] = True
    source = torch.randn(2, 6, 4)
    out = sample_loop(lambda x, t: 0.3 * x, s, torch.randn(2, 6, 4), 25,
                      denoised_fn=lambda x0: torch.where(keep, source, x0))
    assert torch.equal(out[keep], source[keep])
    assert not torch.equal(out[~keep], source[~keep])


# ---------------------------------------------------------------------- flow matching
def test_flow_matching_path_and_conversions():
    s = FlowMatchingScheduler()
    x0, noise = torch.randn(3, 4, 2, dtype=torch.float64), torch.randn(3, 4, 2, dtype=torch.float64)
    t = torch.tensor([0.0, 250.0, 1000.0], dtype=torch.float64)
    x_t = s.add_noise(x0, noise, t)
    assert torch.allclose(x_t[1], 0.75 * x0[1] + 0.25 * noise[1])
    assert torch.equal(x_t[0], x0[0]) and torch.equal(x_t[2], noise[2])
    v = s.training_target(x0, noise, t)
    assert torch.allclose(s.predict_x0(v, x_t, t), x0)
    assert torch.allclose(s.predict_noise(v, x_t, t), noise)


@pytest.mark.parametrize('solver', ['euler', 'heun'])
def test_flow_matching_exact_velocity_recovers_the_target_on_a_straight_path(solver):
    target = torch.randn(1, 5, 3, dtype=torch.float64)
    noise = torch.randn(2, 5, 3, dtype=torch.float64)
    s = FlowMatchingScheduler(solver=solver)
    sigma_of = lambda t: (t / 1000).reshape(-1, 1, 1)  # noqa: E731
    velocity = lambda x, t: (x - target) / sigma_of(t)  # noqa: E731
    s.set_timesteps(8)
    x = noise
    for t in s.timesteps:
        out = s.step(velocity(x, t.expand(2)), t, x)
        x = out.prev_sample
    assert torch.allclose(x, target.expand_as(x), atol=1e-10)
    expected_evals = 8 if solver == 'euler' else 15
    assert len(s.timesteps) == expected_evals
    # intermediate points lie on the straight line between noise and target
    s.set_timesteps(4)
    x = noise
    x = s.step(velocity(x, s.timesteps[0].expand(2)), s.timesteps[0], x).prev_sample
    assert torch.allclose(x, 0.25 * target + 0.75 * noise, atol=1e-12)


def test_flow_matching_heun_is_more_accurate_than_euler_on_gaussian_data():
    """Data N(mu, c^2), noise N(0, 1): the exact marginal velocity field is affine and its flow
    maps a noise value z to mu + c * z, so every sample has a known endpoint."""
    mu, c = 1.0, 0.3
    noise = torch.randn(200, 1, 1, dtype=torch.float64, generator=torch.Generator().manual_seed(0))

    def velocity(x, t):
        sg = (t[0] / 1000).to(torch.float64)
        var = (1 - sg) ** 2 * c ** 2 + sg ** 2
        centred = x - (1 - sg) * mu
        e_x0 = mu + (1 - sg) * c ** 2 / var * centred
        e_eps = sg / var * centred
        return e_eps - e_x0

    exact = mu + c * noise
    errs = {}
    for solver in ('euler', 'heun'):
        for steps in (12, 48):
            out = sample_loop(velocity, FlowMatchingScheduler(solver=solver), noise, steps)
            errs[solver, steps] = (out - exact).abs().max().item()
    assert errs['heun', 12] < errs['euler', 12] / 3
    assert errs['heun', 48] < errs['heun', 12] / 4  # second order (plus one Euler step at the end)
    assert errs['heun', 48] < 0.01 and errs['euler', 48] < 0.05


def test_flow_step_order_is_checked():
    s = FlowMatchingScheduler()
    s.set_timesteps(4)
    with pytest.raises(ValueError, match='expected timestep'):
        s.step(torch.zeros(1, 2), 123.0, torch.zeros(1, 2))


# ---------------------------------------------------------------------- guidance, registry
def test_classifier_free_guidance():
    cond, uncond = torch.tensor([[2.0, 0.0]]), torch.tensor([[1.0, 1.0]])
    assert torch.allclose(classifier_free_guidance(cond, uncond, 2.5), torch.tensor([[3.5, -1.5]]))
    assert torch.equal(classifier_free_guidance(cond, uncond, 1.0), cond)
    per = classifier_free_guidance(torch.ones(2, 3), torch.zeros(2, 3), torch.tensor([0.0, 2.0]))
    assert torch.equal(per, torch.tensor([[0.0] * 3, [2.0] * 3]))


@pytest.mark.parametrize('name', ['DDPMScheduler', 'DDIMScheduler', 'FlowMatchingScheduler'])
def test_registry_builds_every_schedule(name):
    obj = NOISE_SCHEDULES.build(dict(type=name))
    assert type(obj).__name__ == name

"""A PriorMDM left-wrist control model (tiny, random, built from priorMDM's public model and
InpaintingGaussianDiffusion: tests/data fixture) converts into motionkit's PriorMDM with
strict=True; the control mask, the noise-free control input, the denoiser output and the
overwritten x0 all match the official ones."""
import importlib.util

import pytest
import torch

from motionkit.hub.converters import ConversionError
from tests.conftest import REPO_ROOT

DATA = REPO_ROOT / 'tests' / 'data' / 'model_converters' / 'priormdm'


def _converter():
    spec = importlib.util.spec_from_file_location(
        '_priormdm_conv', REPO_ROOT / 'tools' / 'model_converters' / 'priormdm_official.py')
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _build(name, sizes=None, meta=False):
    from mmengine.config import Config
    from mmengine.registry import DefaultScope

    from motionkit.registry import MODELS
    from motionkit.utils import register_all_modules
    register_all_modules(init_default_scope=False)
    path = REPO_ROOT / 'configs' / 'priormdm' / f'priormdm-{name}_trans-enc-512_humanml3d.py'
    cfg = Config.fromfile(str(path)).model.to_dict()
    if sizes:
        cfg.update(latent_dim=sizes['latent_dim'], ff_size=sizes['ff_size'],
                   num_layers=sizes['num_layers'], num_heads=sizes['num_heads'])
        cfg['noise_scheduler'].update(num_train_timesteps=sizes['steps'])
    with DefaultScope.overwrite_default_scope('motionkit'):
        if meta:
            with torch.device('meta'):
                return MODELS.build(cfg)
        return MODELS.build(cfg)


def test_converted_control_model_matches_the_official_procedure(tmp_path):
    from motionkit.models.editors.editing import expand_keep_mask, overwrite_x0
    from motionkit.utils import safe_load
    io = torch.load(DATA / 'io.pt', weights_only=True)
    out = tmp_path / 'lw.pth'
    _converter().convert(str(DATA / 'model000000280.pt'), str(out), 'left_wrist')
    model = _build('left-wrist', io['sizes'])
    model.load_state_dict(safe_load(str(out))['state_dict'], strict=True)
    model.eval()
    # PriorMDM controls the wrist's 3 position features only (get_inpainting_mask('left_wrist'))
    assert torch.equal(model.control_mask, io['control_mask'])
    ours = lambda v: v[:, :, 0].transpose(1, 2)  # noqa: E731  official (B, D, 1, T) -> (B, T, D)
    x0, noise, t = ours(io['x0']), ours(io['noise']), io['timesteps']
    x_t = model.noise_scheduler.add_noise(x0, noise, t)
    x_in = model.prepare_denoiser_input(x_t, x0, t)
    # the official training/sampling input: q_sample with the noise zeroed on the control
    assert (x_in - ours(io['x_t'])).abs().max() < 1e-5
    with torch.no_grad():
        pred = model.denoise(x_in, t, io['text_embed'], None, torch.zeros(2, dtype=torch.bool))
    assert (pred - ours(io['out'])).abs().max() < 1e-5
    keep = expand_keep_mask(model.control_mask, x0.shape)
    assert (overwrite_x0(pred, x0, keep) - ours(io['pred_xstart'])).abs().max() < 1e-5


@pytest.mark.parametrize('name,joints,idx', [('root-horizontal', 'root_horizontal', [0, 1, 2]),
                                             ('left-wrist', 'left_wrist', [61, 62, 63]),
                                             ('right-foot', 'right_foot', [34, 35, 36])])
def test_configs_control_the_published_features(name, joints, idx):
    model = _build(name, meta=True)
    assert model.control_joints == joints and model.control_input == 'noise_free'
    assert torch.nonzero(model.control_mask).flatten().tolist() == idx
    assert model.latent_dim == 512 and model.mask_frames is False


def test_bad_inputs_are_named(tmp_path):
    conv = _converter()
    with pytest.raises(ConversionError, match='--control must be one of'):
        conv.convert(str(DATA / 'model000000280.pt'), str(tmp_path / 'o.pth'), 'head')
    state = torch.load(DATA / 'model000000280.pt', weights_only=True)
    state['embed_action.action_embedding'] = torch.zeros(2, 32)
    torch.save(state, tmp_path / 'action.pt')
    with pytest.raises(ConversionError, match='action-conditioned'):
        conv.convert(str(tmp_path / 'action.pt'), str(tmp_path / 'o.pth'), 'left_wrist')
    (tmp_path / 'cut.pt').write_bytes((DATA / 'model000000280.pt').read_bytes()[:1000])
    with pytest.raises(ConversionError, match='truncated'):
        conv.convert(str(tmp_path / 'cut.pt'), str(tmp_path / 'o.pth'), 'left_wrist')

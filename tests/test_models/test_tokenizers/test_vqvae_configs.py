"""The paper-size tokenizer configs build (on the meta device) with T2M-GPT's layer shapes."""
import pytest
import torch
from mmengine.config import Config
from mmengine.registry import DefaultScope

from tests.conftest import REPO_ROOT

CONFIGS = REPO_ROOT / 'configs' / 'vqvae'


def _t2m_gpt_param_count(feature_dim: int, width: int = 512, code: int = 512) -> int:
    """Parameters of T2M-GPT's encoder + decoder (down_t 2, depth 3), counted layer by layer."""
    def conv(cin, cout, k):
        return cin * cout * k + cout

    res_stack = 3 * (conv(width, width, 3) + conv(width, width, 1))
    encoder = (conv(feature_dim, width, 3) + 2 * (conv(width, width, 4) + res_stack)
               + conv(width, code, 3))
    decoder = (conv(code, width, 3) + 2 * (res_stack + conv(width, width, 3))
               + conv(width, width, 3) + conv(width, feature_dim, 3))
    return encoder + decoder


@pytest.mark.parametrize('name,feature_dim,rep', [
    ('vqvae_tcn-512_1xb256-300k_humanml3d.py', 263, 'HumanML3DFeatures'),
    ('vqvae_tcn-512_1xb256-300k_kit.py', 251, 'KITFeatures'),
])
def test_paper_configs_build_with_t2m_gpt_sizes(name, feature_dim, rep):
    from motionkit.registry import MODELS
    from motionkit.utils import register_all_modules
    register_all_modules(init_default_scope=False)
    cfg = Config.fromfile(str(CONFIGS / name))
    assert cfg.paper_scale is True
    assert cfg.train_dataloader.batch_size == 256 and cfg.train_cfg.max_iters == 300000
    with DefaultScope.overwrite_default_scope('motionkit'), torch.device('meta'):
        model = MODELS.build(cfg.model)
    assert model.feature_dim == feature_dim and model.representation == rep
    assert tuple(model.quantizer.codebook.shape) == (512, 512)
    assert model.commit_weight == 0.02 and model.vel_weight == 0.5
    assert model.vel_slice == (4, 4 + 3 * ((feature_dim + 1) // 12 - 1))
    assert sum(p.numel() for p in model.parameters()) == _t2m_gpt_param_count(feature_dim)


def test_tiny_config_is_the_cigtime_sized_codebook():
    cfg = Config.fromfile(str(CONFIGS / 'vqvae_tiny_1xb32-2k_synthmotion.py'))
    assert not cfg.get('paper_scale', False)
    assert cfg.model.width == 64 and cfg.model.code_dim == 16
    assert cfg.model.quantizer.codebook_size == 64
    assert cfg.val_dataloader.dataset.split == 'val'
    assert cfg.test_dataloader.dataset.split == 'test'

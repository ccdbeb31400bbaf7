"""MotionEditorInferencer and tools/edit.py on a tiny untrained MDM and the real HumanML3D sample."""
import numpy as np
import pytest
import torch

from motionkit.apis import MotionEditorInferencer
from motionkit.models.editors import body_part_keep_mask
from motionkit.motion import HumanML3DFeatures
from motionkit.registry import INFERENCERS
from tests.test_models.test_editors.tiny_mdm import TINY


@pytest.fixture
def sample_files(shared_data):
    root = shared_data / 'humanml3d_reference'
    return root / 'new_joint_vecs' / '012314.npy', root / 'Mean.npy', root / 'Std.npy'


def _model_cfg():
    return dict(TINY, type='MDM')


def test_inferencer_keeps_the_lower_body_of_a_real_motion(sample_files):
    feats_path, mean, std = sample_files
    torch.manual_seed(0)
    editor = INFERENCERS.build(dict(type='MotionEditorInferencer', model=dict(model=_model_cfg()),
                                    mean=str(mean), std=str(std)))
    feats = np.load(feats_path)[:40]
    out = editor(feats, 'wave the right hand', part='upper_body', num_inference_steps=5)
    keep = body_part_keep_mask(HumanML3DFeatures(), 'upper_body').numpy()
    # normalise -> edit -> denormalise: kept features equal up to float rounding
    np.testing.assert_allclose(out['edited'][:, keep], feats[:, keep], rtol=1e-5, atol=1e-5)
    assert np.abs(out['edited'][:, ~keep] - feats[:, ~keep]).mean() > 1e-3
    assert out['edited_joints'].shape == (40, 22, 3)


def test_edit_cli_writes_video_and_features(tmp_path, sample_files):
    from mmengine.config import Config
    feats_path, mean, std = sample_files
    short = tmp_path / 'short.npy'
    np.save(short, np.load(feats_path)[:20])
    cfg_path = tmp_path / 'tiny_mdm.py'
    Config(dict(model=_model_cfg())).dump(str(cfg_path))
    torch.manual_seed(0)
    model = MotionEditorInferencer(str(cfg_path)).model
    ckpt = tmp_path / 'tiny.pth'
    torch.save({'state_dict': model.state_dict()}, ckpt)
    import importlib.util
    from tests.conftest import REPO_ROOT
    spec = importlib.util.spec_from_file_location('edit_tool', REPO_ROOT / 'tools' / 'edit.py')
    tool = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(tool)
    out_png, out_npy = tmp_path / 'edit.png', tmp_path / 'edited.npy'
    rc = tool.main([str(cfg_path), str(ckpt), '--motion', str(short), '--instruction', 'jump',
                    '--part', 'inbetween', '--prefix', '5', '--suffix', '5', '--steps', '4',
                    '--mean', str(mean), '--std', str(std), '--out', str(out_png),
                    '--save-npy', str(out_npy)])
    assert rc == 0 and out_png.stat().st_size > 1000
    edited, src = np.load(out_npy), np.load(short)
    np.testing.assert_allclose(edited[:5], src[:5], rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(edited[15:], src[15:], rtol=1e-5, atol=1e-5)
    assert np.abs(edited[5:15] - src[5:15]).mean() > 1e-3


def test_inferencer_rejects_a_wrong_motion_file(tmp_path):
    bad = tmp_path / 'bad.npy'
    np.save(bad, np.zeros((10, 100), dtype=np.float32))
    editor = MotionEditorInferencer(dict(model=_model_cfg()))
    with pytest.raises(ValueError, match='263'):
        editor(str(bad), 'walk')
    with pytest.raises(FileNotFoundError, match='missing.npy'):
        editor(str(tmp_path / 'missing.npy'), 'walk')

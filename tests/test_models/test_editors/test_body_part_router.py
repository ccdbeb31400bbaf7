"""BodyPartEditorRouter: each source goes to its body part's editor; results keep the input order."""
import numpy as np
import pytest
import torch

from motionkit.models.editors import BodyPartEditorRouter
from motionkit.motion import HumanML3DFeatures
from motionkit.registry import MODELS
from motionkit.structures import EditRequest
from tests.test_models.test_editors.tiny_mdm import TINY


def _constant_editor(value, tmp_path, name):
    """A tiny SourceConditionedMDM whose residual is the constant ``value`` (zero weights, bias =
    value): its edit is exactly source + value on the edited features, whatever the noise."""
    torch.manual_seed(0)
    m = MODELS.build(dict(TINY, type='SourceConditionedMDM', edit_num_inference_steps=4))
    torch.nn.init.zeros_(m.output_process.weight)
    torch.nn.init.constant_(m.output_process.bias, value)
    ckpt = tmp_path / f'{name}.pth'
    torch.save(dict(state_dict=m.state_dict(), meta={}), ckpt)
    return m, str(ckpt)


def _sources(n, seed=0):
    g = np.random.default_rng(seed)
    parts = ['upper_body', 'lower_body', 'upper_body', 'lower_body', 'lower_body'][:n]
    # raw features whose statistics are those of a zero mean / unit std
    return [EditRequest(f'instruction {i}', motion=g.standard_normal((12 + i, 263)).astype(np.float32) * 0.1,
                        body_part=p, source_id=f's{i}') for i, p in enumerate(parts)]


def test_routes_by_body_part_and_keeps_order(tmp_path):
    up, up_ckpt = _constant_editor(0.0, tmp_path, 'up')
    low, low_ckpt = _constant_editor(0.5, tmp_path, 'low')
    cfg = dict(TINY, type='SourceConditionedMDM', edit_num_inference_steps=4)
    router = MODELS.build(dict(type='BodyPartEditorRouter', editors=dict(
        upper_body=dict(config=cfg, checkpoint=up_ckpt), lower_body=dict(config=cfg, checkpoint=low_ckpt))))
    assert isinstance(router, BodyPartEditorRouter)
    srcs = _sources(5)
    stats = (torch.zeros(263), torch.ones(263))
    for m in (up, low, *router.editors.values()):
        m.feature_stats = lambda samples=None: stats
    out = router.edit_instructions(srcs)
    assert len(out) == 5
    for src, o in zip(srcs, out):
        want = (up if src.body_part == 'upper_body' else low).edit_instructions([src])[0]
        assert o.shape == (len(src.motion), 22, 3)
        np.testing.assert_allclose(o, want, atol=1e-5)
    # the upper-body editor returns the source; the lower-body one moves it
    rep = HumanML3DFeatures()
    src0 = rep.decode(torch.from_numpy(srcs[0].motion)).numpy()
    np.testing.assert_allclose(out[0], src0, atol=1e-4)
    assert np.abs(out[1] - rep.decode(torch.from_numpy(srcs[1].motion)).numpy()).max() > 1e-2


def test_errors(tmp_path):
    with pytest.raises(ValueError, match='non-empty dict'):
        BodyPartEditorRouter({})
    _, ckpt = _constant_editor(0.0, tmp_path, 'up')
    cfg = dict(TINY, type='SourceConditionedMDM')
    with pytest.raises(KeyError, match='unknown keys'):
        BodyPartEditorRouter(dict(upper_body=dict(config=cfg, checkpoint=ckpt, strength=1)))
    with pytest.raises(FileNotFoundError, match='does not exist'):
        BodyPartEditorRouter(dict(upper_body=dict(config=cfg, checkpoint=str(tmp_path / 'none.pth'))))
    router = BodyPartEditorRouter(dict(upper_body=dict(config=cfg, checkpoint=ckpt)))
    with pytest.raises(KeyError, match="no editor for body part 'lower_body'"):
        router.edit_instructions(_sources(2))


def test_unrouted_part_leaves_the_source(tmp_path):
    _, ckpt = _constant_editor(0.5, tmp_path, 'up')
    cfg = dict(TINY, type='SourceConditionedMDM', edit_num_inference_steps=4)
    with pytest.raises(ValueError, match="unrouted must be 'error' or 'source'"):
        BodyPartEditorRouter(dict(upper_body=dict(config=cfg, checkpoint=ckpt)), unrouted='skip')
    router = BodyPartEditorRouter(dict(upper_body=dict(config=cfg, checkpoint=ckpt)), unrouted='source')
    joints = np.random.default_rng(1).normal(size=(13, 22, 3)).astype(np.float32)
    # an instruction naming no body part reaches the router as whole_body: no editor, no edit
    req = EditRequest('walk faster', source_id='s9', joints=joints, body_part='whole_body')
    out = router.edit_instructions([req])
    np.testing.assert_array_equal(out[0], joints)
    assert router.match_stats() == dict(matched=0, unmatched=1, total=1)
    with pytest.raises(ValueError, match='carries no source joints'):
        router.edit_instructions([EditRequest('walk faster', source_id='s8', body_part='lower_body')])

import numpy as np
import pytest
import torch

from motionkit.motion import AbsoluteCoordinates, EssentialFeatures, HumanML3DFeatures, KITFeatures
from motionkit.registry import REPRESENTATIONS


@pytest.fixture(scope='module')
def reference(shared_data):
    root = shared_data / 'humanml3d_reference'
    return np.load(root / 'new_joint_vecs' / '012314.npy'), np.load(root / 'new_joints' / '012314.npy')


def test_essential_is_root_and_ric_of_humanml3d(reference):
    feats, joints = reference
    rep = REPRESENTATIONS.build(dict(type='EssentialFeatures'))
    assert rep.dim == 67 and EssentialFeatures('kit21').dim == 64
    ess = EssentialFeatures.from_humanml3d(feats)
    assert ess.shape == (170, 67)
    np.testing.assert_array_equal(ess, feats[:, :67])
    assert np.abs(rep.decode(ess) - joints).max() < 1e-5
    j64 = joints.astype(np.float64)
    np.testing.assert_allclose(rep.encode(j64), HumanML3DFeatures().encode(j64)[:, :67], atol=1e-12)
    np.testing.assert_allclose(EssentialFeatures('kit21').encode(joints[:5, :21]),
                               KITFeatures().encode(joints[:5, :21])[:, :64], atol=1e-6)
    out_t = rep.decode(torch.from_numpy(ess)[None].repeat(2, 1, 1))
    assert out_t.shape == (2, 170, 22, 3) and np.abs(out_t[1].numpy() - joints).max() < 1e-5


def test_essential_mask_and_errors(reference):
    feats, _ = reference
    rep = EssentialFeatures()
    np.testing.assert_array_equal(np.flatnonzero(rep.feature_mask('pelvis')), [0, 1, 2, 3])
    np.testing.assert_array_equal(np.flatnonzero(rep.feature_mask(['left_hip'])), [4, 5, 6])
    with pytest.raises(ValueError, match=r'\(T, 67\).*\(170, 263\)'):
        rep.decode(feats)
    with pytest.raises(ValueError, match=r'\(\.\.\., 263\).*\(170, 67\)'):
        EssentialFeatures.from_humanml3d(feats[:, :67])
    with pytest.raises(ValueError, match='smpl24'):
        EssentialFeatures('smpl24')


def test_absolute_coordinates_layout_and_round_trip(reference):
    _, joints = reference
    rep = REPRESENTATIONS.build(dict(type='AbsoluteCoordinates'))
    assert rep.dim == 66
    flat = rep.encode(joints)
    assert flat.shape == (170, 66)
    assert flat[7, 3 * 15 + 1] == joints[7, 15, 1]  # feature 3j+k is coordinate k of joint j
    np.testing.assert_array_equal(rep.decode(flat), joints)
    batch = torch.from_numpy(np.stack([joints, joints[::-1].copy()]))
    np.testing.assert_array_equal(rep.decode(rep.encode(batch)).numpy(), batch.numpy())
    np.testing.assert_array_equal(np.flatnonzero(rep.feature_mask(['head'])), [45, 46, 47])
    coco = AbsoluteCoordinates('coco17')
    assert coco.dim == 51
    with pytest.raises(ValueError, match=r'\(T, 17, 3\).*\(170, 22, 3\)'):
        coco.encode(joints)
    with pytest.raises(ValueError, match=r'\(T, 66\).*\(170, 65\)'):
        rep.decode(flat[:, :65])

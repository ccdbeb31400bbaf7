import numpy as np
import pytest


@pytest.fixture
def motion_file(tmp_path):
    """A (50, 263) feature file (frame t, feature d holds t + d / 1000) and (50, 22, 3) joints."""
    t = np.arange(50, dtype=np.float32)[:, None]
    d = np.arange(263, dtype=np.float32)[None, :]
    feats = t + d / 1000.0
    joints = np.broadcast_to(t[:, :, None], (50, 22, 3)).astype(np.float32).copy()
    fpath, jpath = tmp_path / 'feats.npy', tmp_path / 'joints.npy'
    np.save(fpath, feats)
    np.save(jpath, joints)
    return dict(motion_path=str(fpath), joints_path=str(jpath), feats=feats, joints=joints)

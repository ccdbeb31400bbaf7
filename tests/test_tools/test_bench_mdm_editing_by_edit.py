"""benchmarks/bench_mdm_editing.py --by-edit: per edit operator, mean all-joint MPJPE (mm) of the
source and of the edit against the target, by hand."""
import importlib.util

import numpy as np

from motionkit.structures import EditRequest
from tests.conftest import REPO_ROOT


def _bench():
    spec = importlib.util.spec_from_file_location('bench_mdm_editing',
                                                  REPO_ROOT / 'benchmarks' / 'bench_mdm_editing.py')
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def test_by_edit_groups_by_part_and_operator(tmp_path):
    bench = _bench()
    target = np.zeros((4, 22, 3))
    np.save(tmp_path / 't.npy', target)
    rows = [dict(body_part='lower_body', edit='kick_higher', target_joints='t.npy'),
            dict(body_part='lower_body', edit='kick_higher', target_joints='t.npy'),
            dict(body_part='upper_body', edit='wave_lower', target_joints='t.npy')]
    # every joint off by 1 mm / 3 mm / 5 mm along x (joints are in metres)
    src = [EditRequest('x', joints=target + [dx, 0, 0]) for dx in (0.001, 0.003, 0.005)]
    edited = [target + [0.002, 0, 0], target[:2] + [0.004, 0, 0], target]  # a shorter edit: common frames
    out = bench.by_edit(edited, rows, tmp_path, src)
    n, s, e = out[('lower_body', 'kick_higher')]
    assert n == 2 and np.isclose(s, 2.0) and np.isclose(e, 3.0)
    assert np.allclose(out[('upper_body', 'wave_lower')], (1, 5.0, 0.0))

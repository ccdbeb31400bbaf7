"""Fixtures shared by the dataset tests."""
import warnings

import pytest

#: Sources of the small CMU+Bandai build used by the fast tests: one file of every rig, a clip long
#: enough to be cut into windows (01_01: 2,751 frames at 120 fps), a short one that is left out
#: (09_01, 1.1 s) and the 30-vs-120 fps amc2bvh file.
CMU_BANDAI_TEST_FILES = (
    'cmu_mocap/bvh/02_01.bvh',
    'cmu_mocap/bvh/01_01.bvh',
    'cmu_mocap/bvh/09_01.bvh',
    'cmu_mocap/bvh_other/02_01.bvh',
    'cmu_mocap/bvh_other/16_01.bvh',
    'dataset-1/dataset-1_kick_normal_001.bvh',
    'dataset-1/dataset-1_walk_happy_001.bvh',
    'dataset-2/dataset-2_wave-left-hand_normal_001.bvh',
)


@pytest.fixture(scope='session')
def cmu_bandai_dataset(shared_data, tmp_path_factory):
    """A CMU+Bandai HumanML3D-format folder built once per session from a handful of BVH files.

    Returns ``(out_dir, summary, caught_warnings)``.
    """
    from motionkit.datasets.importers import build_cmu_bandai
    out = tmp_path_factory.mktemp('cmu_bandai')
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter('always')
        summary = build_cmu_bandai(out, shared_data, include=CMU_BANDAI_TEST_FILES, progress=False)
    return out, summary, caught

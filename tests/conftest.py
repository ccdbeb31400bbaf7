import os
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[1]


def shared_data_root() -> Path:
    """The real test data beside the clone (``../shared/data``); override with MOTIONKIT_SHARED_DATA."""
    env = os.environ.get('MOTIONKIT_SHARED_DATA')
    return Path(env) if env else REPO_ROOT.parent / 'shared' / 'data'


@pytest.fixture(scope='session')
def shared_data() -> Path:
    root = shared_data_root()
    if not root.is_dir():
        pytest.fail(f'shared test data not found at {root} (set MOTIONKIT_SHARED_DATA)')
    return root


@pytest.fixture(scope='session')
def cigtime_work_dir(tmp_path_factory) -> Path:
    """A small CigTime work dir as projects/cigtime/run_pipeline.py lays it out: ``triplets/``
    (60 SynthMotion sources x 2 edits, exact editor). Configs under projects/cigtime read it through
    ``CIGTIME_WORK_DIR``; stages that need checkpoints create them in the tests that use them."""
    from motionkit.datagen import build_cigtime_triplets
    work = tmp_path_factory.mktemp('cigtime_work')
    build_cigtime_triplets(work / 'triplets', 60, seed=0, per_source=2, progress=False,
                           synthmotion_cache_dir=str(work / 'synthmotion'))
    return work

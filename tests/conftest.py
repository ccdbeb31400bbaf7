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

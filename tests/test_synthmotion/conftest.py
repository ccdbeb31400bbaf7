import pytest

from motionkit.synthmotion import ClassDistribution, sample_motion

NUM_MOTIONS = 240


@pytest.fixture(scope='package')
def synth_items():
    """A few hundred generated motions (seed 7), shared by the tests of this package."""
    dist = ClassDistribution()
    return [sample_motion(7, i, dist) for i in range(NUM_MOTIONS)]

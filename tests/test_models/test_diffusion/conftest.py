import pytest
import torch


@pytest.fixture
def one_thread():
    """Small tensors: one thread avoids OpenMP spinning on busy 2-core machines (restored after)."""
    old = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(old)

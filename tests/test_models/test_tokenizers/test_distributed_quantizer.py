"""EMA codebook updates under data parallelism: two gloo ranks with different data keep one
codebook, equal to the update of a single process on the concatenated batch."""
import os

import pytest
import torch
import torch.distributed as torch_dist
import torch.multiprocessing as mp

from motionkit.models.tokenizers import EMAQuantizer


def _codes():
    return torch.tensor([[0.0, 0.0], [5.0, 5.0], [-5.0, 5.0]])


def _set(q):
    q.codebook.copy_(_codes())
    q.code_sum.copy_(_codes())
    q.code_count.fill_(1.0)
    q.initialized.fill_(True)


def _data(rank):
    g = torch.Generator().manual_seed(rank)
    return torch.randn(6, 2, generator=g) * 3


def _worker(rank, world, init_file, out_dir):
    torch_dist.init_process_group('gloo', init_method=f'file://{init_file}', rank=rank,
                                  world_size=world)
    try:
        torch.manual_seed(100 + rank)  # different local randomness: reset rows must still agree
        for reset in (None, 1.0):
            q = EMAQuantizer(codebook_size=3, code_dim=2, decay=0.9, reset_threshold=reset)
            q.train()
            _set(q)
            for _ in range(3):
                q(_data(rank))
            torch.save({k: v.clone() for k, v in q.state_dict().items()},
                       os.path.join(out_dir, f'rank{rank}_reset{reset}.pt'))
    finally:
        torch_dist.destroy_process_group()


@pytest.mark.slow
@pytest.mark.timeout(300)
def test_ranks_share_one_codebook(tmp_path):
    mp.spawn(_worker, args=(2, str(tmp_path / 'init'), str(tmp_path)), nprocs=2, join=True)
    states = {}
    for reset in (None, 1.0):
        r0 = torch.load(tmp_path / f'rank0_reset{reset}.pt', weights_only=True)
        r1 = torch.load(tmp_path / f'rank1_reset{reset}.pt', weights_only=True)
        for key in ('codebook', 'code_sum', 'code_count'):
            assert torch.equal(r0[key], r1[key]), (reset, key)
        states[reset] = r0
    # with the reset, some code died and was re-initialised identically on both ranks
    assert not torch.equal(states[None]['codebook'], states[1.0]['codebook'])
    # without it: the same EMA as one process on both ranks' data in one batch
    q = EMAQuantizer(codebook_size=3, code_dim=2, decay=0.9, reset_threshold=None).train()
    _set(q)
    for _ in range(3):
        q(torch.cat([_data(0), _data(1)]))
    assert torch.allclose(q.code_count, states[None]['code_count'], atol=1e-5)
    assert torch.allclose(q.codebook, states[None]['codebook'], atol=1e-5)

"""Distributed set-up that also works on CPU-only machines (gloo).

mmengine 0.10.7's ``launcher='pytorch'`` always calls ``torch.cuda.set_device``, which fails without
CUDA. On such machines the process group is initialised here, with gloo, before the Runner is built;
the Runner then sees an initialised group and skips its own initialisation.
"""
import os
from typing import Optional

import torch
import torch.distributed as dist


def _slurm_env_to_torch_env(port: Optional[int] = None) -> None:
    """Fill RANK/WORLD_SIZE/LOCAL_RANK/MASTER_ADDR/MASTER_PORT from SLURM variables."""
    import subprocess

    proc_id = int(os.environ['SLURM_PROCID'])
    ntasks = int(os.environ['SLURM_NTASKS'])
    node_list = os.environ['SLURM_NODELIST']
    num_devices = max(torch.cuda.device_count(), 1)
    os.environ.setdefault('RANK', str(proc_id))
    os.environ.setdefault('WORLD_SIZE', str(ntasks))
    os.environ.setdefault('LOCAL_RANK', str(proc_id % num_devices))
    if 'MASTER_ADDR' not in os.environ:
        addr = subprocess.getoutput(f'scontrol show hostname {node_list} | head -n1')
        os.environ['MASTER_ADDR'] = addr
    if 'MASTER_PORT' not in os.environ:
        os.environ['MASTER_PORT'] = str(port or 29500)


def init_distributed_if_needed(launcher: str, backend: Optional[str] = None) -> bool:
    """Initialise the default process group for ``launcher`` when CUDA is absent.

    Returns True if this function initialised the group (the caller then destroys it at exit with
    :func:`destroy_distributed`); False when there is nothing to do (``launcher='none'``, already
    initialised, or CUDA present — then mmengine's own ``init_dist`` runs with NCCL).
    """
    if launcher == 'none' or dist.is_initialized():
        return False
    if torch.cuda.is_available() and backend in (None, 'nccl'):
        return False
    if launcher == 'slurm':
        _slurm_env_to_torch_env()
    elif launcher == 'mpi':
        os.environ.setdefault('RANK', os.environ.get('OMPI_COMM_WORLD_RANK', '0'))
        os.environ.setdefault('WORLD_SIZE', os.environ.get('OMPI_COMM_WORLD_SIZE', '1'))
        os.environ.setdefault('LOCAL_RANK', os.environ.get('OMPI_COMM_WORLD_LOCAL_RANK', '0'))
        os.environ.setdefault('MASTER_ADDR', '127.0.0.1')
        os.environ.setdefault('MASTER_PORT', '29500')
    missing = [k for k in ('RANK', 'WORLD_SIZE', 'MASTER_ADDR', 'MASTER_PORT') if k not in os.environ]
    if missing:
        raise RuntimeError(f'launcher={launcher!r} needs the environment variables {missing}; '
                           'start the job with torchrun (tools/dist_train.sh) or srun.')
    dist.init_process_group(
        backend=backend or 'gloo',
        rank=int(os.environ['RANK']),
        world_size=int(os.environ['WORLD_SIZE']))
    return True


def destroy_distributed() -> None:
    """Tear the process group down; without this ~1 in 10 gloo runs aborts at interpreter exit."""
    if dist.is_available() and dist.is_initialized():
        dist.barrier()
        dist.destroy_process_group()

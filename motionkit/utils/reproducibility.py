"""What a run's floating-point results depend on, and whether two checkpoints are bit-identical.

A training run is a function of its config, seed and data only for a fixed *numeric environment*:
the torch build, the CPU's vector instructions ATen dispatches to, the number of threads and the
device. Change one of them and kernels sum in another order, so weights differ in the last bits
after the first step. Most models carry such differences along unnoticed; a vector-quantised
tokenizer does not: its nearest-code ``argmin`` flips on a near-tie, the EMA codebook and the
dead-code resets then follow another path, and the tokens every later stage reads change (measured
on the CigTime tiny tokenizer: the first flip after 18 iterations, one thread against two, and with
ATen's vector kernels switched off; docs/reproducibility.md). :func:`numeric_environment` records
these inputs (``NumericEnvironmentHook`` writes them into the log and every checkpoint's meta) and
:func:`compare_state_dicts` tells whether two runs agree to the bit.
"""
from __future__ import annotations

from typing import Any, Dict, List, Mapping, Optional, Tuple

import torch

__all__ = ['numeric_environment', 'compare_state_dicts']


def _cpu_model() -> Optional[str]:
    try:
        with open('/proc/cpuinfo', encoding='utf-8', errors='replace') as f:
            for line in f:
                if line.startswith('model name'):
                    return line.split(':', 1)[1].strip()
    except OSError:
        pass
    return None


def numeric_environment(device: Optional[torch.device] = None) -> Dict[str, Any]:
    """The inputs of a run's numbers that are not in its config: plain Python values only (they go
    into checkpoint meta, which must load with ``weights_only=True``).

    Args:
        device: The device the model runs on (default: CPU).

    Returns:
        ``dict(torch, cpu_model, cpu_capability, num_threads, deterministic_algorithms, device)``,
        plus ``gpu``, ``cuda``, ``cudnn``, ``cudnn_deterministic`` and ``cudnn_benchmark`` on a
        CUDA device.
    """
    device = torch.device(device if device is not None else 'cpu')
    env: Dict[str, Any] = dict(
        torch=str(torch.__version__),
        cpu_model=_cpu_model(),
        # ATen's vector kernels (DEFAULT / AVX2 / AVX512 / ...): each sums in its own order
        cpu_capability=str(torch.backends.cpu.get_cpu_capability()),
        # intra-op threads split reductions (convolution weight gradients among them)
        num_threads=int(torch.get_num_threads()),
        deterministic_algorithms=bool(torch.are_deterministic_algorithms_enabled()),
        device=device.type,
    )
    if device.type == 'cuda':
        index = device.index if device.index is not None else torch.cuda.current_device()
        env.update(gpu=str(torch.cuda.get_device_name(index)), cuda=str(torch.version.cuda),
                   cudnn=int(torch.backends.cudnn.version() or 0),
                   cudnn_deterministic=bool(torch.backends.cudnn.deterministic),
                   cudnn_benchmark=bool(torch.backends.cudnn.benchmark))
    return env


def compare_state_dicts(a: Mapping[str, Any], b: Mapping[str, Any]) -> Dict[str, Any]:
    """Compare two state dicts entry by entry, bit for bit.

    Tensors are equal when dtype, shape and the bytes of every element match (so ``0.0`` and
    ``-0.0`` differ, and NaNs with the same bits are equal); other values are compared by ``==``.

    Returns:
        ``dict(identical=bool, num_entries=int, differing=[(key, max_abs_diff or None)],
        only_in_a=[keys], only_in_b=[keys])``; ``max_abs_diff`` is None where dtype or shape
        differ or the values are not tensors.
    """
    only_a = sorted(set(a) - set(b))
    only_b = sorted(set(b) - set(a))
    differing: List[Tuple[str, Optional[float]]] = []
    for key in sorted(set(a) & set(b)):
        x, y = a[key], b[key]
        if isinstance(x, torch.Tensor) and isinstance(y, torch.Tensor):
            if x.dtype != y.dtype or x.shape != y.shape:
                differing.append((key, None))
            elif not _equal_bits(x, y):
                diff = (x.detach().double() - y.detach().double()).abs()
                differing.append((key, float(diff.nan_to_num(nan=float('inf')).max())
                                  if diff.numel() else 0.0))
        elif isinstance(x, torch.Tensor) or isinstance(y, torch.Tensor) or x != y:
            differing.append((key, None))
    return dict(identical=not (differing or only_a or only_b), num_entries=len(set(a) | set(b)),
                differing=differing, only_in_a=only_a, only_in_b=only_b)


def _equal_bits(x: torch.Tensor, y: torch.Tensor) -> bool:
    def raw(t: torch.Tensor) -> torch.Tensor:
        return t.detach().cpu().reshape(-1).contiguous().view(torch.uint8)
    return torch.equal(raw(x), raw(y))

"""Reading fields out of the data-sample dicts that mmengine's Evaluator hands to ``process``.

Values are converted to numpy / plain Python so that ``self.results`` pickles for the cross-rank
gather (``collect_results``) and does not hold GPU tensors.
"""
from typing import Any, Mapping, Optional, Sequence, Union

import numpy as np


def to_numpy(value: Any, name: str) -> np.ndarray:
    """Tensor / array / list -> float64 ndarray on the CPU."""
    if hasattr(value, 'detach'):
        value = value.detach().float().cpu().numpy()
    try:
        return np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError) as e:
        raise TypeError(f'{name} must be numeric (tensor / ndarray / list), '
                        f'got {type(value).__name__}') from e


def get_field(sample: Mapping, keys: Union[str, Sequence[str]], metric: str,
              required: bool = True) -> Optional[Any]:
    """Return the first of ``keys`` present in ``sample`` (a dict, or a data element)."""
    if hasattr(sample, 'to_dict') and not isinstance(sample, Mapping):
        sample = sample.to_dict()
    keys = [keys] if isinstance(keys, str) else list(keys)
    for key in keys:
        if key in sample and sample[key] is not None:
            return sample[key]
    if required:
        sid = sample.get('sample_id', sample.get('motion_id', '?'))
        raise KeyError(f'{metric}: data sample {sid!r} has none of the fields {keys}; it has '
                       f'{sorted(sample.keys())}')
    return None


def sample_id(sample: Mapping, keys: Sequence[str], index: int) -> str:
    """An identifier of the sample for protocols that select or order by id."""
    value = get_field(sample, keys, 'id', required=False)
    return str(index) if value is None else str(value)

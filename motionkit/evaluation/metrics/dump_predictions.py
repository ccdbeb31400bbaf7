"""Write every prediction of a test run to a .pkl or .json file (``tools/test.py --out``)."""
import json
import pickle
from typing import Any, Sequence

import numpy as np
import torch
from mmengine.evaluator import BaseMetric

from motionkit.registry import METRICS
from motionkit.utils.io import atomic_write_bytes


def _to_plain(value: Any, for_json: bool) -> Any:
    """Tensors -> numpy (pickle) or nested lists (json); data elements -> dicts."""
    if isinstance(value, torch.Tensor):
        value = value.detach().cpu().numpy()
    if isinstance(value, np.ndarray):
        return value.tolist() if for_json else value
    if isinstance(value, np.generic):
        return value.item()
    if hasattr(value, 'to_dict'):
        value = value.to_dict()
    if isinstance(value, dict):
        return {str(k): _to_plain(v, for_json) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_to_plain(v, for_json) for v in value]
    return value


@METRICS.register_module()
class DumpPredictions(BaseMetric):
    """Collect predictions from all ranks and write them once, atomically.

    Args:
        out_file_path: ``.pkl``/``.pickle`` (numpy arrays kept) or ``.json`` (nested lists).
        exclude_keys: fields not written (e.g. a generator's ``pred_motion_replications``, which
            the metrics read but which would multiply the file's size).
    """

    default_prefix = 'dump'

    def __init__(self, out_file_path: str, exclude_keys: Sequence[str] = (),
                 collect_device: str = 'cpu', prefix=None):
        super().__init__(collect_device=collect_device, prefix=prefix)
        self.exclude_keys = frozenset(exclude_keys)
        if not out_file_path.endswith(('.pkl', '.pickle', '.json')):
            raise ValueError(f'out_file_path must end with .pkl, .pickle or .json: {out_file_path}')
        self.out_file_path = out_file_path
        self._json = out_file_path.endswith('.json')

    def process(self, data_batch: Any, data_samples: Sequence[Any]) -> None:
        for sample in data_samples:
            plain = _to_plain(sample, self._json)
            if self.exclude_keys and isinstance(plain, dict):
                plain = {k: v for k, v in plain.items() if k not in self.exclude_keys}
            self.results.append(plain)

    def compute_metrics(self, results: list) -> dict:
        data = json.dumps(results).encode('utf-8') if self._json else pickle.dumps(results)
        atomic_write_bytes(self.out_file_path, data)
        return {}

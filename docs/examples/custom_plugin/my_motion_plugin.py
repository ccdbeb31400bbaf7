"""A user's own plugins, registered into motionkit's registries (docs/custom_plugins.md).

A config loads this module with ``custom_imports=dict(imports=['my_motion_plugin'], ...)``; the
classes below are then available as ``type='RootDirectionDataset'`` etc. This file is also what the
test suite trains to check the runner (resume, load_from, torchrun).

The task is small but real: from the first 16 frames of a root trajectory (x, z on the floor),
predict which of 4 directions the person walks (+Z, -Z, +X, -X).
"""
import math

import torch
import torch.nn.functional as F
from mmengine.evaluator import BaseMetric
from mmengine.model import BaseModel
from mmengine.structures import BaseDataElement
from torch.utils.data import Dataset

from motionkit.registry import DATASETS, METRICS, MODELS


@DATASETS.register_module()
class RootDirectionDataset(Dataset):
    """Noisy root trajectories walking in one of 4 directions; deterministic by ``seed``."""

    def __init__(self, num_samples: int = 256, num_frames: int = 16, seed: int = 0):
        gen = torch.Generator().manual_seed(seed)
        self.labels = torch.randint(0, 4, (num_samples,), generator=gen)
        angles = self.labels.float() * (math.pi / 2)
        heading = torch.stack([torch.sin(angles), torch.cos(angles)], dim=-1)  # (N, 2)
        speed = 0.5 + torch.rand(num_samples, 1, generator=gen)               # m/s
        t = torch.arange(num_frames).float() / 20.0                           # 20 fps
        path = heading[:, None, :] * speed[:, :, None] * t[None, :, None]      # (N, T, 2)
        self.motions = path + 0.05 * torch.randn(path.shape, generator=gen)

    def __len__(self) -> int:
        return len(self.labels)

    def __getitem__(self, idx: int) -> dict:
        sample = BaseDataElement(metainfo=dict(index=idx), gt_label=int(self.labels[idx]))
        return dict(inputs=self.motions[idx], data_samples=sample)


@MODELS.register_module()
class RootDirectionClassifier(BaseModel):
    """A two-layer MLP over the flattened trajectory."""

    def __init__(self, num_frames: int = 16, hidden: int = 32, num_classes: int = 4,
                 data_preprocessor=None, init_cfg=None):
        super().__init__(data_preprocessor=data_preprocessor, init_cfg=init_cfg)
        self.mlp = torch.nn.Sequential(
            torch.nn.Linear(num_frames * 2, hidden), torch.nn.ReLU(),
            torch.nn.Linear(hidden, num_classes))

    def forward(self, inputs, data_samples=None, mode: str = 'tensor'):
        x = torch.stack(inputs) if isinstance(inputs, (list, tuple)) else inputs
        logits = self.mlp(x.flatten(1))
        if mode == 'tensor':
            return logits
        labels = torch.tensor([s.gt_label for s in data_samples], device=logits.device)
        if mode == 'loss':
            return dict(loss_cls=F.cross_entropy(logits, labels))
        if mode == 'predict':
            preds = logits.argmax(-1)
            return [dict(pred_label=int(p), gt_label=int(g), index=s.index)
                    for p, g, s in zip(preds, labels, data_samples)]
        raise ValueError(f"mode must be 'loss', 'predict' or 'tensor', got {mode!r}")


@METRICS.register_module()
class DirectionAccuracy(BaseMetric):
    """Top-1 accuracy; also reports how many distinct samples were seen, gathered from all ranks."""

    default_prefix = 'direction'

    def process(self, data_batch, data_samples) -> None:
        for s in data_samples:
            self.results.append((s['index'], s['pred_label'] == s['gt_label']))

    def compute_metrics(self, results: list) -> dict:
        seen = {}
        for index, correct in results:
            seen[index] = correct  # the distributed sampler pads by repeating samples
        return dict(accuracy=100.0 * sum(seen.values()) / len(seen), num_samples=len(seen))

"""Helpers shared by the editor tests: a tiny MDM config and a toy batch."""
import torch

from motionkit.registry import MODELS
from motionkit.structures import MotionDataSample

TINY = dict(feature_dim=263, latent_dim=32, ff_size=64, num_layers=1, num_heads=4, dropout=0.0,
            text_encoder=dict(type='LearnedTextEncoder', embed_dim=32, word_dim=16, num_layers=0,
                              num_buckets=512),
            noise_scheduler=dict(type='DDIMScheduler', beta_schedule='cosine',
                                 prediction_type='x0'),
            num_inference_steps=10, edit_num_inference_steps=10)


def build(type_='MDM', **overrides):
    torch.manual_seed(0)
    return MODELS.build(dict(TINY, type=type_, **overrides)).eval()


def make_batch(lengths=(24, 32), texts=('a person walks forward', 'a person waves'), seed=0):
    g = torch.Generator().manual_seed(seed)
    T = max(lengths)
    motion = torch.randn(len(lengths), T, 263, generator=g)
    mask = torch.arange(T)[None] < torch.tensor(lengths)[:, None]
    motion = motion * mask[..., None]
    samples = []
    for n, text in zip(lengths, texts):
        s = MotionDataSample(metainfo=dict(length=n))
        s.gt_text = text
        samples.append(s)
    return dict(motion=motion, mask=mask, lengths=torch.tensor(lengths)), samples

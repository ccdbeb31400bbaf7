"""``ToyFeedbackPairs``: a seeded, in-memory stand-in for ExpertAF's learner/expert pairs.

It produces items in :class:`~motionkit.models.llm_heads.ExpertFeedbackModel`'s input contract so
that the tiny configs train, test and run in the config tests without any data on disk. It is not
a benchmark: use the ExpertAF pair dataset (``motionkit.datagen.expertaf``) for results.

Each item belongs to one of the given commentaries (its "mistake"): its learner video features are
that mistake's prototype plus noise, its expert pose codes share the mistake's code pattern with a
few item-specific codes (so every retrieval candidate differs), and its commentary is the
mistake's sentence.
"""
from typing import Sequence

import torch
from mmengine.dataset import BaseDataset
from mmengine.structures import BaseDataElement

from motionkit.registry import DATASETS


@DATASETS.register_module()
class ToyFeedbackPairs(BaseDataset):
    """Args:
        commentaries: one sentence per mistake class.
        num_items: items in this split.
        video_len, video_dim: ``(T_v, D_v)`` of the video features.
        num_frames, num_tokens, codebook_size: ``(F, M)`` PCT codes in ``[0, K)``.
        split: ``'train'`` | ``'val'`` | ``'test'`` (different seeds, same prototypes).
        seed: base seed.
    """

    def __init__(self, commentaries: Sequence[str], num_items: int = 32, video_len: int = 4,
                 video_dim: int = 32, num_frames: int = 2, num_tokens: int = 16, codebook_size: int = 256,
                 split: str = 'train', seed: int = 0, **kwargs) -> None:
        if not commentaries:
            raise ValueError('ToyFeedbackPairs: give at least one commentary')
        if split not in ('train', 'val', 'test'):
            raise ValueError(f"ToyFeedbackPairs: split must be 'train', 'val' or 'test', got {split!r}")
        self.commentaries = list(commentaries)
        self.sizes = dict(n=int(num_items), t=int(video_len), d=int(video_dim), f=int(num_frames),
                          m=int(num_tokens), k=int(codebook_size))
        self.split, self.seed = split, int(seed)
        super().__init__(serialize_data=False, lazy_init=False, **kwargs)

    def load_data_list(self) -> list:
        s, c = self.sizes, len(self.commentaries)
        proto = torch.Generator().manual_seed(self.seed)
        video_proto = torch.randn(c, s['d'], generator=proto)
        code_proto = torch.randint(0, s['k'], (c, s['f'], s['m']), generator=proto)
        g = torch.Generator().manual_seed(self.seed + 1 + ('train', 'val', 'test').index(self.split))
        items = []
        for i in range(s['n']):
            label = i % c
            learner_video = video_proto[label] + 0.3 * torch.randn(s['t'], s['d'], generator=g)
            expert_video = video_proto[label] + 0.3 * torch.randn(s['t'], s['d'], generator=g)
            expert_pose = code_proto[label].clone()
            expert_pose[:, :2] = torch.randint(0, s['k'], (s['f'], 2), generator=g)  # item-specific
            learner_pose = torch.randint(0, s['k'], (s['f'], s['m']), generator=g)
            items.append(dict(learner_video=learner_video, expert_video=expert_video, learner_pose=learner_pose,
                              expert_pose=expert_pose, gt_text=self.commentaries[label],
                              sample_id=f'{self.split}_{i:04d}'))
        return items

    def prepare_data(self, idx: int) -> dict:
        item = self.get_data_info(idx)
        inputs = {k: item[k] for k in ('learner_video', 'learner_pose', 'expert_video', 'expert_pose')}
        return dict(inputs=inputs, data_samples=BaseDataElement(gt_text=item['gt_text'],
                                                                sample_id=item['sample_id']))

# ExpertAF table 1 / ablations: the no-video ablation (pose only).
_base_ = ['./expertaf_tiny_1xb8-300_toy.py']

model = dict(use_video=False)

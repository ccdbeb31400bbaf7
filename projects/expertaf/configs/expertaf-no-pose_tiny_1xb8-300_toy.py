# ExpertAF table 1 / ablations: the no-pose ablation (video only).
_base_ = ['./expertaf_tiny_1xb8-300_toy.py']

model = dict(pose_input=None)

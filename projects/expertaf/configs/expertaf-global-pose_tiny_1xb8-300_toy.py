# ExpertAF table 1 / ablations: the global-pose ablation (one pose token per clip: the mean PCT code vector).
_base_ = ['./expertaf_tiny_1xb8-300_toy.py']

model = dict(pose_input='global')

# ExpertAF table 1 / ablations: LLaVA-FT w/ pose (the pose written as <pose_k> tokens of the LM vocabulary, no pose projector).
_base_ = ['./expertaf_tiny_1xb8-300_toy.py']

model = dict(pose_input='text')

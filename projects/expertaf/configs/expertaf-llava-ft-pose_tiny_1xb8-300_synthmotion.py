# ExpertAF table 1 / ablations on SynthMotion: LLaVA-FT w/ pose (the pose written as <pose_k> tokens of the LM vocabulary, no pose projector).
_base_ = ['./expertaf_tiny_1xb8-300_synthmotion.py']

model = dict(pose_input='text')

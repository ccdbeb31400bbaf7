# ExpertAF table 1 / ablations on SynthMotion: the global-pose ablation (one pose token per clip: the mean PCT code vector).
_base_ = ['./expertaf_tiny_1xb8-300_synthmotion.py']

model = dict(pose_input='global')

# ExpertAF table 1 / ablations on SynthMotion: the no-video ablation (pose only).
_base_ = ['./expertaf_tiny_1xb8-300_synthmotion.py']

model = dict(use_video=False)

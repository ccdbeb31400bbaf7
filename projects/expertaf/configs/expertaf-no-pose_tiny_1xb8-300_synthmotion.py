# ExpertAF table 1 / ablations on SynthMotion: the no-pose ablation (video only).
_base_ = ['./expertaf_tiny_1xb8-300_synthmotion.py']

model = dict(pose_input=None)

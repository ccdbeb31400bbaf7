# CigTime variant: continuous motion features -- the tokenizer's pre-quantisation latents (16-D)
# projected into the LM embedding space -- instead of discrete tokens.
_base_ = ['./cigtime_tiny_1xb32-1k_synthmotion.py']

model = dict(llm=dict(motion_token_strategy='continuous', continuous_dim=16))

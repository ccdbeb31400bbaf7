# CigTime variant: motion tokens as added vocabulary (<motion_id_k>, new learnable embeddings, the
# MotionGPT way) instead of decimal ids in the ordinary vocabulary.
_base_ = ['./cigtime_tiny_1xb32-1k_synthmotion.py']

model = dict(llm=dict(motion_token_strategy='extended'))

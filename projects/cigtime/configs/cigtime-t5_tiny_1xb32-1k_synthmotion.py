# CigTime variant: an encoder-decoder backbone (tiny T5) instead of a decoder-only Llama.
_base_ = ['./cigtime_tiny_1xb32-1k_synthmotion.py']

model = dict(llm=dict(backbone=dict(_delete_=True, preset='tiny-t5')))

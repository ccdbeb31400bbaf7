# CigTime variant: Qwen2-7B fully fine-tuned (same recipe as the Llama-3-8B config).
_base_ = ['./cigtime_llama3-8b-full_4xb128-8e_humanml3d.py']

model = dict(llm=dict(backbone=dict(preset='qwen2-7b'),
                      tokenizer=dict(type='pretrained', path='data/models/Qwen2-7B')))

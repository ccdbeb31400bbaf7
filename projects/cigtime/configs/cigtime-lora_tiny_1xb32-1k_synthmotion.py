# CigTime variant: LoRA (r=8 on the attention q/v projections) instead of full fine-tuning.
# (A randomly initialised tiny LM learns little through LoRA alone: this preset exists to exercise the
# recipe of the Mistral-7B-LoRA config on the CPU; with a pretrained backbone, e.g. SmolLM2, it is the
# real variant.)
_base_ = ['./cigtime_tiny_1xb32-1k_synthmotion.py']

model = dict(llm=dict(finetune='lora', anchor_weight=0.0, lora=dict(r=8, alpha=16, dropout=0.05)))

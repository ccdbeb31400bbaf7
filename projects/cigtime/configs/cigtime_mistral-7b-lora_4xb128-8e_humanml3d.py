# CigTime variant (Table 1 / Table 5): Mistral-7B with LoRA (r=8, alpha=16 on q/v projections) instead
# of full fine-tuning; same data, batch and schedule as the Llama-3-8B config (lr 1e-4 for LoRA).
_base_ = ['./cigtime_llama3-8b-full_4xb128-8e_humanml3d.py']

model = dict(llm=dict(backbone=dict(preset='mistral-7b'),
                      tokenizer=dict(type='pretrained', path='data/models/Mistral-7B-v0.1'),
                      finetune='lora', anchor_weight=0.0,
                      lora=dict(r=8, alpha=16, dropout=0.05, target_modules=['q_proj', 'v_proj'])))
optim_wrapper = dict(optimizer=dict(lr=1e-4))

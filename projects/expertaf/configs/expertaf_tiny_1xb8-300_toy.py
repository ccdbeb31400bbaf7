# ExpertAF's multimodal LLM head, tiny CPU preset: commentary + pose generation mixed in every
# batch; the pose-generation parameters (the added <pose_k> / frame-end / sequence-end rows:
# pose_token_embed, pose_token_head) train with their own, 10x lower learning rate.
#   python tools/train.py projects/expertaf/configs/expertaf_tiny_1xb8-300_toy.py
custom_imports = dict(imports=['expertaf'], allow_failed_imports=False)
_base_ = [
    './_base_/expertaf_tiny_model.py',
    '../../../configs/_base_/schedules/adamw_iter.py',
    '../../../configs/_base_/default_runtime.py',
]

optim_wrapper = dict(
    optimizer=dict(type='AdamW', lr=1e-3, weight_decay=0.0),
    # bypass_duplicate: a tied LM embedding / head is one parameter seen from two modules
    paramwise_cfg=dict(bypass_duplicate=True,
                       custom_keys={'pose_token_embed': dict(lr_mult=0.1),
                                    'pose_token_head': dict(lr_mult=0.1)}))
param_scheduler = [dict(type='ConstantLR', factor=1.0, by_epoch=False, begin=0, end=300)]
train_cfg = dict(type='IterBasedTrainLoop', max_iters=300, val_interval=300)
default_hooks = dict(checkpoint=dict(type='CheckpointHook', by_epoch=False, interval=300))
log_processor = dict(by_epoch=False)

# ExpertAF's multimodal LLM head, tiny CPU preset, on SynthMotion's learner/expert pairs:
# commentary + pose generation mixed in every batch; the pose-generation parameters (the added
# <pose_k> / frame-end / sequence-end rows: pose_token_embed, pose_token_head) train with their
# own, 10x lower learning rate. Run through projects/expertaf/pipeline_synthmotion.py, which sets
# the data folders, feature cache and PoseTokenizer checkpoint (see the base's header).
_base_ = [
    './_base_/expertaf_tiny_synthmotion.py',
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
train_cfg = dict(type='IterBasedTrainLoop', max_iters=300, val_interval=100000)
val_cfg = None
default_hooks = dict(logger=dict(type='LoggerHook', interval=50),
                     checkpoint=dict(type='CheckpointHook', by_epoch=False, interval=100000, max_keep_ckpts=1,
                                     save_last=True))
log_processor = dict(by_epoch=False)

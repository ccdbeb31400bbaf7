# CoAMD's multimodal autoencoder (eq. 2) at paper size on HumanML3D's absolute joints (new_joints/,
# 22 joints, metres): per-stream Conv1d(66 -> 512) projections, mean fusion, a shared encoder of
# width 512 with 2 x 2 temporal downsampling and 3 dilated residual blocks per stage, 512-d latents
# every 4 frames, T2M-GPT's decoder. Recipe of the reference (jidongkuang/CoAMD
# configs/humanml3d/train_ae.yaml): 64-frame windows, batch 256, 50 epochs, AdamW lr 2e-4 with
# betas (0.9, 0.99) and no weight decay, linear warm-up over 1000 iterations, x0.05 at iterations
# 150k and 250k, Smooth-L1 on each stream. The reference samples several windows per motion per
# epoch; here one random window per motion (a sample of the T2M loader) per epoch.
_base_ = [
    '../../../configs/_base_/datasets/humanml3d.py',
    '../../../configs/_base_/default_runtime.py',
]

# built on the meta device by the project tests instead of stepped on a CPU
paper_scale = True

model = dict(
    type='MultimodalAutoencoder',
    skeleton='t2m22',
    width=512,
    code_dim=512,
    down_t=2,
    stride_t=2,
    depth=3,
    dilation_growth_rate=3,
    activation='relu',
    stream_weights=(1.0, 1.0, 1.0),
    smooth_l1_beta=1.0,
    data_preprocessor=dict(type='MotionDataPreprocessor'))

train_pipeline = [
    dict(type='LoadMotion', with_motion=False, with_joints=True),
    dict(type='CropMotion', max_length=64, unit_length=4),
    dict(type='PackMotionInputs', input_key='joints'),
]
test_pipeline = [
    dict(type='LoadMotion', with_motion=False, with_joints=True),
    dict(type='CropMotion', max_length=196, unit_length=4, test_mode=True),
    dict(type='PackMotionInputs', input_key='joints'),
]
train_dataloader = dict(
    batch_size=256,
    dataset=dict(with_joints=True, with_texts=False, pipeline=train_pipeline))
val_dataloader = dict(dataset=dict(with_joints=True, with_texts=False, pipeline=test_pipeline))
test_dataloader = dict(dataset=dict(with_joints=True, with_texts=False, pipeline=test_pipeline))
val_evaluator = [
    dict(type='JointErrorMetric', metrics=('mpjpe', 'pa_mpjpe'), length_key='recon_length'),
]
test_evaluator = val_evaluator

custom_hooks = [dict(type='JointStatsHook')]
optim_wrapper = dict(
    type='OptimWrapper',
    optimizer=dict(type='AdamW', lr=2e-4, betas=(0.9, 0.99), weight_decay=0.0))
param_scheduler = [
    dict(type='LinearLR', start_factor=1e-3, by_epoch=False, begin=0, end=1000),
    dict(type='MultiStepLR', by_epoch=False, milestones=[150000, 250000], gamma=0.05),
]
train_cfg = dict(type='EpochBasedTrainLoop', max_epochs=50, val_interval=5)
val_cfg = dict(type='ValLoop')
test_cfg = dict(type='TestLoop')
default_hooks = dict(
    logger=dict(type='LoggerHook', interval=100),
    checkpoint=dict(type='CheckpointHook', interval=5, max_keep_ckpts=3, save_best='joint/mpjpe',
                    rule='less'))

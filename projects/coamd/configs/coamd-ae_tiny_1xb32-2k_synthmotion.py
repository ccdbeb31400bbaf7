# CoAMD's multimodal autoencoder (eq. 2), tiny CPU preset on SynthMotion (generated on first use):
# absolute joints (t2m22, metres) -> joint / bone / motion streams -> per-stream projections, early
# fusion, a shared convolutional encoder to 16-d latents every 4 frames -> decoder to joints; the
# loss sums Smooth-L1 over the three streams re-derived from the decoded joints. Trained on
# 64-frame windows (the reference's window_size). JointStatsHook computes the joint statistics of
# the train split first; they are saved with the checkpoint, which the generator loads:
#   python tools/train.py projects/coamd/configs/coamd-ae_tiny_1xb32-2k_synthmotion.py
_base_ = [
    '../../../configs/_base_/datasets/synthmotion.py',
    '../../../configs/_base_/schedules/adamw_iter.py',
    '../../../configs/_base_/default_runtime.py',
]

model = dict(
    type='MultimodalAutoencoder',
    skeleton='t2m22',
    width=64,
    code_dim=16,
    down_t=2,
    stride_t=2,
    depth=2,
    dilation_growth_rate=3,
    activation='relu',
    stream_weights=(1.0, 1.0, 1.0),
    smooth_l1_beta=1.0,
    data_preprocessor=dict(type='MotionDataPreprocessor'))  # joints in metres: the model normalises

# joints instead of the 263-d features
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
    sampler=dict(type='InfiniteSampler', shuffle=True),
    batch_size=32,
    dataset=dict(split='train', with_joints=True, with_texts=False, pipeline=train_pipeline))
val_dataloader = dict(
    batch_size=32,
    dataset=dict(split='val', with_joints=True, with_texts=False, pipeline=test_pipeline))
test_dataloader = dict(
    batch_size=32,
    dataset=dict(split='test', with_joints=True, with_texts=False, pipeline=test_pipeline))
# reconstruction error of the absolute joints, in millimetres
val_evaluator = [
    dict(type='JointErrorMetric', metrics=('mpjpe', 'pa_mpjpe'), length_key='recon_length'),
]
test_evaluator = val_evaluator

custom_hooks = [dict(type='JointStatsHook')]
optim_wrapper = dict(optimizer=dict(lr=1e-3, betas=(0.9, 0.99), weight_decay=0.0))
param_scheduler = [
    dict(type='LinearLR', start_factor=0.01, by_epoch=False, begin=0, end=100),
    dict(type='CosineAnnealingLR', by_epoch=False, begin=100, end=2000, eta_min=1e-5),
]
train_cfg = dict(type='IterBasedTrainLoop', max_iters=2000, val_interval=500)
default_hooks = dict(
    logger=dict(type='LoggerHook', interval=50),
    checkpoint=dict(type='CheckpointHook', by_epoch=False, interval=500, max_keep_ckpts=2,
                    save_best=None))
log_processor = dict(by_epoch=False)

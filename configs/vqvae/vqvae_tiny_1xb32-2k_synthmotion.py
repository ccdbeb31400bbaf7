# Tiny CPU preset of the T2M-GPT motion tokenizer on SynthMotion (generated on first use):
# width 64, 64 codes of 16 dims (the codebook size of CigTime's tokenizer), 2000 iterations of
# batch 32 x 64-frame windows. Runs in a few minutes on a laptop CPU (set OMP_NUM_THREADS=1 on
# a busy machine with few cores).
_base_ = [
    '../_base_/datasets/synthmotion.py',
    '../_base_/schedules/adamw_iter.py',
    '../_base_/default_runtime.py',
]

model = dict(
    type='MotionVQVAE',
    feature_dim=263,
    width=64,
    code_dim=16,
    down_t=2,
    stride_t=2,
    depth=3,
    dilation_growth_rate=3,
    activation='relu',
    quantizer=dict(type='EMAQuantizer', codebook_size=64, code_dim=16, decay=0.99,
                   reset_threshold=1.0),
    recon_loss='smooth_l1',
    vel_weight=0.5,
    vel_mode='frame_diff',
    commit_weight=0.02,
    representation='HumanML3DFeatures',
    data_preprocessor=dict(type='MotionDataPreprocessor'))

train_pipeline = [
    dict(type='LoadMotion'),
    dict(type='CropMotion', max_length=64, unit_length=4),
    dict(type='NormalizeMotion'),
    dict(type='PackMotionInputs'),
]
test_pipeline = [
    dict(type='LoadMotion'),
    dict(type='CropMotion', max_length=196, unit_length=4, test_mode=True),
    dict(type='NormalizeMotion'),
    dict(type='PackMotionInputs'),
]
train_dataloader = dict(
    sampler=dict(type='InfiniteSampler', shuffle=True),
    batch_size=32,
    dataset=dict(split='train', with_texts=False, pipeline=train_pipeline))
# splits named here: motion-only reconstruction is validated on 'val' and tested on 'test'
val_dataloader = dict(
    batch_size=32,
    dataset=dict(split='val', with_texts=False, pipeline=test_pipeline))
test_dataloader = dict(
    batch_size=32,
    dataset=dict(split='test', with_texts=False, pipeline=test_pipeline))
# (a list: a dict with a 'metrics' key would be read as an Evaluator config by mmengine)
# Reconstruction error of the joints decoded from the features: global positions (the root
# trajectory integrated from the decoded root velocities) and root-relative (pelvis at 0).
val_evaluator = [
    dict(type='JointErrorMetric', metrics=('mpjpe', 'pa_mpjpe'), length_key='recon_length'),
    dict(type='JointErrorMetric', metrics=('mpjpe', ), root_index=0, length_key='recon_length',
         prefix='joint_root_relative'),
]
test_evaluator = val_evaluator

optim_wrapper = dict(optimizer=dict(lr=1e-3))
param_scheduler = [
    dict(type='LinearLR', start_factor=0.01, by_epoch=False, begin=0, end=100),
    dict(type='CosineAnnealingLR', by_epoch=False, begin=100, end=2000, eta_min=1e-5),
]
train_cfg = dict(type='IterBasedTrainLoop', max_iters=2000, val_interval=500)
default_hooks = dict(
    logger=dict(type='LoggerHook', interval=50),
    checkpoint=dict(type='CheckpointHook', by_epoch=False, interval=500, max_keep_ckpts=2,
                    save_best='joint/mpjpe', rule='less'))
log_processor = dict(by_epoch=False)

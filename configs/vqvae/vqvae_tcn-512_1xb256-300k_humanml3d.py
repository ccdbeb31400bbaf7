# T2M-GPT's VQ-VAE on HumanML3D (Zhang et al., CVPR 2023; the motion tokenizer CigTime and
# MotionGPT build on): TCN encoder/decoder of width 512, 4 frames per token, 512 EMA codes of
# 512 dims with dead-code reset, smooth-L1 reconstruction + 0.5 x velocity + 0.02 x commitment,
# batch 256 of 64-frame windows, AdamW lr 2e-4 (betas 0.9/0.99), 1000 warm-up iterations, lr x 0.05
# at 200k, 300k iterations (T2M-GPT README "VQ training" command and options/option_vq.py).
_base_ = [
    '../_base_/datasets/humanml3d.py',
    '../_base_/schedules/adamw_iter.py',
    '../_base_/default_runtime.py',
]

# built on the meta device by the config tests instead of stepped on a CPU
paper_scale = True

model = dict(
    type='MotionVQVAE',
    feature_dim=263,
    width=512,
    code_dim=512,
    down_t=2,
    stride_t=2,
    depth=3,
    dilation_growth_rate=3,
    activation='relu',
    quantizer=dict(type='EMAQuantizer', codebook_size=512, code_dim=512, decay=0.99,
                   reset_threshold=1.0),
    recon_loss='smooth_l1',
    vel_weight=0.5,
    # T2M-GPT's "velocity" loss compares the local joint positions block itself
    # (ReConsLoss.forward_vel); 'frame_diff' would compare its frame differences.
    vel_mode='position',
    commit_weight=0.02,
    representation='HumanML3DFeatures',
    data_preprocessor=dict(type='MotionDataPreprocessor'))

# Motion-only training windows: T2M-GPT trains on random 64-frame crops of motions with at
# least 64 frames (dataset_VQ.py), one sample per motion (no captions).
train_pipeline = [
    dict(type='LoadMotion'),
    dict(type='CropMotion', max_length=64, unit_length=4),
    dict(type='NormalizeMotion'),
    dict(type='PackMotionInputs'),
]
# Validation: whole motions (<= 196 frames, multiples of 4), reconstructed and decoded to joints.
test_pipeline = [
    dict(type='LoadMotion'),
    dict(type='CropMotion', max_length=196, unit_length=4, test_mode=True),
    dict(type='NormalizeMotion'),
    dict(type='PackMotionInputs'),
]
train_dataloader = dict(
    sampler=dict(type='InfiniteSampler', shuffle=True),
    batch_size=256,
    num_workers=8,
    dataset=dict(with_texts=False, min_motion_length=64, pipeline=train_pipeline))
val_dataloader = dict(
    batch_size=32,
    dataset=dict(with_texts=False, pipeline=test_pipeline))
test_dataloader = dict(
    batch_size=32,
    dataset=dict(with_texts=False, pipeline=test_pipeline))
# (a list: a dict with a 'metrics' key would be read as an Evaluator config by mmengine)
# Reconstruction error of the joints decoded from the features: global positions (the root
# trajectory integrated from the decoded root velocities) and root-relative (pelvis at 0).
val_evaluator = [
    dict(type='JointErrorMetric', metrics=('mpjpe', 'pa_mpjpe'), length_key='recon_length'),
    dict(type='JointErrorMetric', metrics=('mpjpe', ), root_index=0, length_key='recon_length',
         prefix='joint_root_relative'),
]
test_evaluator = val_evaluator

param_scheduler = [
    dict(type='LinearLR', start_factor=1e-3, by_epoch=False, begin=0, end=1000),
    dict(type='MultiStepLR', milestones=[200000], gamma=0.05, by_epoch=False, begin=0,
         end=300000),
]
train_cfg = dict(type='IterBasedTrainLoop', max_iters=300000, val_interval=10000)
default_hooks = dict(
    logger=dict(type='LoggerHook', interval=200),
    checkpoint=dict(type='CheckpointHook', by_epoch=False, interval=10000, max_keep_ckpts=3,
                    save_best='joint/mpjpe', rule='less'))
log_processor = dict(by_epoch=False)

# Tiny CPU preset of the PCT pose tokenizer (Geng et al., CVPR 2023; ExpertAF's body-pose tokens)
# on single COCO-17 3D poses sampled every 5th frame of SynthMotion's joint files (generated on
# first use). PCT itself uses 34 tokens of a 1024-code codebook and a wider Mixer; this preset
# (16 tokens, 256 codes, width 64) trains in about 7 minutes on one CPU core.
# With the real CMU+Bandai set (motionkit.datasets.importers.build_cmu_bandai(DIR, ...)):
#   train on both:  --cfg-options train_dataloader.dataset.cmu_bandai_root=DIR
#   test on real:   --cfg-options test_dataloader.dataset.synthmotion=None \
#                                 test_dataloader.dataset.cmu_bandai_root=DIR
_base_ = [
    '../_base_/schedules/adamw_iter.py',
    '../_base_/default_runtime.py',
]

model = dict(
    type='PoseTokenizer',
    num_joints=17,
    root_joints=(11, 12),  # COCO-17 hips: the pelvis is their mid-point
    num_tokens=16,
    codebook_size=256,
    code_dim=32,
    hidden_dim=64,
    num_blocks=2,
    token_hidden=64,
    channel_hidden=128,
    quantizer=dict(decay=0.99, reset_threshold=1.0),
    commit_weight=0.25)

dataset_type = 'COCO17PoseDataset'
synthmotion = dict(num_motions=1000, seed=0)
# Items are dict(inputs=(17, 3) pose, data_samples): mmengine's default_collate stacks the poses
# into the (B, 17, 3) tensor PoseTokenizer.forward takes and keeps the data samples as a list.
train_dataloader = dict(
    batch_size=256,
    num_workers=0,
    sampler=dict(type='InfiniteSampler', shuffle=True),
    collate_fn=dict(type='default_collate'),
    dataset=dict(type=dataset_type, data_roots=[], synthmotion=synthmotion, split='train',
                 frame_step=5))
val_dataloader = dict(
    batch_size=256,
    num_workers=0,
    sampler=dict(type='DefaultSampler', shuffle=False),
    collate_fn=dict(type='default_collate'),
    dataset=dict(type=dataset_type, data_roots=[], synthmotion=synthmotion, split='val',
                 frame_step=5, test_mode=True))
test_dataloader = dict(
    batch_size=256,
    num_workers=0,
    sampler=dict(type='DefaultSampler', shuffle=False),
    collate_fn=dict(type='default_collate'),
    dataset=dict(type=dataset_type, data_roots=[], synthmotion=synthmotion, split='test',
                 frame_step=5, test_mode=True))
# Poses and reconstructions are root-relative (pelvis at 0), so MPJPE here is root-relative;
# PA-MPJPE aligns each pose by a similarity transform first (PCT's and ExpertAF's metric).
val_evaluator = [dict(type='JointErrorMetric', metrics=('mpjpe', 'pa_mpjpe'))]
test_evaluator = val_evaluator

optim_wrapper = dict(optimizer=dict(lr=2e-3))
param_scheduler = [
    dict(type='LinearLR', start_factor=0.01, by_epoch=False, begin=0, end=100),
    dict(type='CosineAnnealingLR', by_epoch=False, begin=100, end=2000, eta_min=1e-5),
]
train_cfg = dict(type='IterBasedTrainLoop', max_iters=2000, val_interval=500)
default_hooks = dict(
    logger=dict(type='LoggerHook', interval=100),
    checkpoint=dict(type='CheckpointHook', by_epoch=False, interval=500, max_keep_ckpts=2,
                    save_best='joint/pa_mpjpe', rule='less'))
log_processor = dict(by_epoch=False)

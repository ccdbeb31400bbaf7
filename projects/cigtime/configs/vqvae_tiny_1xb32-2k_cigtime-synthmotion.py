# CigTime stage 2: the motion tokenizer (T2M-GPT's TCN VQ-VAE, tiny CPU preset: width 64, 64 codes
# of 16 dims) trained on the target motions of the SynthMotion triplets, normalised with the
# triplet folder's Mean/Std (the statistics every later CigTime stage uses).
_base_ = [
    '../../../configs/vqvae/vqvae_tiny_1xb32-2k_synthmotion.py',
]

train_pipeline = [
    dict(type='LoadMotion'),
    dict(type='CropMotion', max_length=64, unit_length=4),
    dict(type='NormalizeMotion'),
    dict(type='PackMotionInputs'),
]
train_dataloader = dict(
    dataset=dict(_delete_=True, type='CigTimeTripletDataset',
                 data_root='{{$CIGTIME_WORK_DIR:work_dirs/cigtime_tiny}}/triplets', split='train',
                 pipeline=train_pipeline))
val_dataloader = None
val_cfg = None
val_evaluator = None
test_dataloader = None
test_cfg = None
test_evaluator = None

param_scheduler = [
    dict(type='LinearLR', start_factor=0.01, by_epoch=False, begin=0, end=100),
    dict(type='CosineAnnealingLR', by_epoch=False, begin=100, end=2000, eta_min=1e-5),
]
train_cfg = dict(type='IterBasedTrainLoop', max_iters=2000, val_interval=100000)
default_hooks = dict(
    checkpoint=dict(type='CheckpointHook', by_epoch=False, interval=2000, max_keep_ckpts=1,
                    save_best=None))

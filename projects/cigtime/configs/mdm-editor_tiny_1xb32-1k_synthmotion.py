# CigTime's motion editor (stage 2, beside the tokenizer): the tiny MDM conditioned on corrective
# instructions, trained on the (target motion, instruction) pairs of the SynthMotion triplets.
# At evaluation it edits a source with an instruction by MDM's body-part editing (the x0 prediction
# is overwritten with the source on the kept features at every step, <= 50 DDIM steps, CigTime eq. 5
# post-blend): MDM.edit_instructions. The data is normalised by the data preprocessor with the
# triplet folder's statistics, so the checkpoint edits without a dataloader.
_base_ = [
    '../../../configs/_base_/schedules/adamw_iter.py',
    '../../../configs/_base_/default_runtime.py',
]

model = dict(
    type='MDM',
    feature_dim=263,
    latent_dim=64,
    ff_size=128,
    num_layers=2,
    num_heads=4,
    dropout=0.1,
    activation='gelu',
    text_encoder=dict(type='LearnedTextEncoder', embed_dim=64, word_dim=64, num_layers=1,
                      num_heads=4, num_buckets=4096),
    cond_mask_prob=0.1,
    guidance_scale=2.5,
    noise_scheduler=dict(type='DDIMScheduler', num_train_timesteps=1000, beta_schedule='cosine',
                         prediction_type='x0', eta=0.0),
    num_inference_steps=50,
    edit_num_inference_steps=50,
    representation='HumanML3DFeatures',
    data_preprocessor=dict(
        type='MotionDataPreprocessor',
        mean_path='{{$CIGTIME_WORK_DIR:work_dirs/cigtime_tiny}}/triplets/Mean.npy',
        std_path='{{$CIGTIME_WORK_DIR:work_dirs/cigtime_tiny}}/triplets/Std.npy'))

train_pipeline = [
    dict(type='LoadMotion'),
    dict(type='SampleCaption'),
    dict(type='CropMotion', max_length=196, unit_length=4),
    dict(type='PackMotionInputs'),
]
train_dataloader = dict(
    batch_size=32,
    num_workers=0,
    sampler=dict(type='InfiniteSampler', shuffle=True),
    collate_fn=dict(type='motionkit.motion_collate'),
    dataset=dict(type='CigTimeTripletDataset',
                 data_root='{{$CIGTIME_WORK_DIR:work_dirs/cigtime_tiny}}/triplets', split='train',
                 pipeline=train_pipeline))
val_dataloader = None
val_cfg = None
val_evaluator = None
test_dataloader = None
test_cfg = None
test_evaluator = None

optim_wrapper = dict(optimizer=dict(lr=1e-3))
param_scheduler = [
    dict(type='LinearLR', start_factor=0.1, by_epoch=False, begin=0, end=100),
    dict(type='CosineAnnealingLR', by_epoch=False, begin=100, end=1000, eta_min=1e-5),
]
train_cfg = dict(type='IterBasedTrainLoop', max_iters=1000, val_interval=100000)
default_hooks = dict(
    logger=dict(type='LoggerHook', interval=50),
    checkpoint=dict(type='CheckpointHook', by_epoch=False, interval=1000, max_keep_ckpts=1,
                    save_best=None))
log_processor = dict(by_epoch=False)

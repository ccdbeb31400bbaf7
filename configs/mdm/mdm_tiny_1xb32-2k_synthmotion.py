# Tiny CPU preset of MDM on SynthMotion (generated on first use): 2 transformer layers, d=64,
# offline LearnedTextEncoder, 64-frame crops, 2000 iterations of batch 32. Sampling uses DDIM with
# 50 steps; the same weights sample with DDPM by swapping noise_scheduler (same training schedule):
#   --cfg-options model.noise_scheduler.type=DDPMScheduler model.num_inference_steps=1000
_base_ = [
    '../_base_/datasets/synthmotion.py',
    '../_base_/schedules/adamw_iter.py',
    '../_base_/default_runtime.py',
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
    data_preprocessor=dict(type='MotionDataPreprocessor'))  # normalised by NormalizeMotion

train_pipeline = [
    dict(type='LoadMotion'),
    dict(type='SampleCaption'),
    dict(type='CropMotion', max_length=64, unit_length=4),
    dict(type='NormalizeMotion'),
    dict(type='PackMotionInputs'),
]
test_pipeline = [
    dict(type='LoadMotion'),
    dict(type='SampleCaption', test_mode=True),
    dict(type='CropMotion', max_length=64, unit_length=4, test_mode=True),
    dict(type='NormalizeMotion'),
    dict(type='PackMotionInputs'),
]
train_dataloader = dict(batch_size=32, dataset=dict(pipeline=train_pipeline))
test_dataloader = dict(batch_size=32, dataset=dict(pipeline=test_pipeline))
val_dataloader = None
val_cfg = None
val_evaluator = None
# Generation quality (Guo et al.'s protocol) through the tiny T2M evaluator trained on the same
# SynthMotion build: train it first (configs/t2m_evaluator/t2m-evaluator_tiny_1xb32-2k_synthmotion.py)
# and point t2m_evaluator_checkpoint at its weights, e.g.
#   --cfg-options test_evaluator.0.evaluator_checkpoint=work_dirs/t2m-evaluator_tiny/iter_2000.pth
# SynthMotion's test split has 141 motions: 4 batches of 32 per replication, 100 diversity pairs.
t2m_evaluator_checkpoint = 'work_dirs/t2m-evaluator_tiny_1xb32-2k_synthmotion/iter_2000.pth'
t2m_generation_metric = dict(
    type='T2MGenerationMetric',
    evaluator='{{ fileDirname }}/../t2m_evaluator/t2m-evaluator_tiny_1xb32-2k_synthmotion.py',
    evaluator_checkpoint=t2m_evaluator_checkpoint, preset='guo2022', diversity_times=100,
    mm_num_texts=0)
test_evaluator = [
    t2m_generation_metric,
    dict(type='DumpPredictions', out_file_path='work_dirs/mdm_tiny_synthmotion/predictions.pkl'),
]

optim_wrapper = dict(optimizer=dict(lr=1e-3))
param_scheduler = [
    dict(type='LinearLR', start_factor=0.1, by_epoch=False, begin=0, end=100),
    dict(type='CosineAnnealingLR', by_epoch=False, begin=100, end=2000, eta_min=1e-5),
]
train_cfg = dict(type='IterBasedTrainLoop', max_iters=2000, val_interval=2001)
default_hooks = dict(
    logger=dict(type='LoggerHook', interval=50),
    checkpoint=dict(type='CheckpointHook', by_epoch=False, interval=500, max_keep_ckpts=2,
                    save_best=None))
log_processor = dict(by_epoch=False)

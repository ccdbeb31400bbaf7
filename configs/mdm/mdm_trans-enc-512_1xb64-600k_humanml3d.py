# MDM (Tevet et al., ICLR 2023) on HumanML3D at paper size: transformer encoder of 8 layers,
# d=512, 4 heads, feed-forward 1024, GELU, dropout 0.1; CLIP ViT-B/32 text condition (frozen,
# 512-d), 10% null condition, guidance 2.5; Gaussian diffusion with the cosine schedule and 1000
# steps, x0 prediction, DDPM sampling over all 1000 steps (MDM's default; swap noise_scheduler
# for DDIM: see mdm_tiny_*). AdamW lr 1e-4, weight decay 0, batch 64, 600k iterations
# (MDM train_mdm.py defaults). EMA weights: uncomment custom_hooks below.
_base_ = [
    '../_base_/datasets/humanml3d.py',
    '../_base_/schedules/adamw_iter.py',
    '../_base_/default_runtime.py',
]

# built on the meta device by the config tests instead of stepped on a CPU
paper_scale = True

model = dict(
    type='MDM',
    feature_dim=263,
    latent_dim=512,
    ff_size=1024,
    num_layers=8,
    num_heads=4,
    dropout=0.1,
    activation='gelu',
    # CLIP ViT-B/32 text tower in a local Hugging Face folder (e.g. openai/clip-vit-base-patch32);
    # nothing is downloaded. Without it, use dict(type='LearnedTextEncoder', embed_dim=512).
    text_encoder=dict(type='HFTextEncoder', model_path='checkpoints/clip-vit-base-patch32',
                      embed_dim=512, pooling='clip', max_length=77, freeze=True),
    cond_mask_prob=0.1,
    guidance_scale=2.5,
    noise_scheduler=dict(type='DDPMScheduler', num_train_timesteps=1000, beta_schedule='cosine',
                         prediction_type='x0', variance_type='fixed_small'),
    num_inference_steps=1000,
    edit_num_inference_steps=50,
    lambda_vel=0.0,
    lambda_fc=0.0,
    representation='HumanML3DFeatures',
    data_preprocessor=dict(type='MotionDataPreprocessor'))  # normalised by NormalizeMotion

train_dataloader = dict(batch_size=64)
# Text-to-motion scores (FID, R-precision, ...) need the T2M evaluator's embeddings of generated
# motions; this config trains and dumps generated motions (normalised, flag
# pred_motion_normalized) for tools/test.py.
val_dataloader = None
val_cfg = None
val_evaluator = None
test_evaluator = [dict(type='DumpPredictions',
                       out_file_path='work_dirs/mdm_humanml3d/predictions.pkl')]

optim_wrapper = dict(optimizer=dict(type='AdamW', lr=1e-4, betas=(0.9, 0.999), weight_decay=0.0))
param_scheduler = [dict(type='ConstantLR', factor=1.0, by_epoch=False, begin=0, end=600000)]
train_cfg = dict(type='IterBasedTrainLoop', max_iters=600000, val_interval=600001)
default_hooks = dict(
    logger=dict(type='LoggerHook', interval=200),
    checkpoint=dict(type='CheckpointHook', by_epoch=False, interval=50000, max_keep_ckpts=3,
                    save_best=None))
log_processor = dict(by_epoch=False)
# custom_hooks = [dict(type='EMAHook', momentum=1e-4, update_buffers=True)]

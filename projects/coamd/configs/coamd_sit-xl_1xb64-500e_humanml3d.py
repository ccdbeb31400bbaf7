# CoAMD's generator at paper size on HumanML3D (reference: jidongkuang/CoAMD "CoAMD-SiT-XL",
# configs/humanml3d/train_coamd.yaml and eval_coamd_guided.yaml): 8 adaLN transformer blocks of
# width 1024 (16 heads, MLP 4096, dropout 0.2) over the 512-d latents of the frozen autoencoder
# (coamd-ae_conv-512_1xb256-50e_humanml3d.py), CLIP ViT-B/32 text condition (frozen, 10% null),
# a flow-matching MLP head of width 1792 and depth 16 trained on 4 draws per masked token; batch
# 64, 500 epochs, AdamW lr 2e-4 with betas (0.9, 0.99) and weight decay 1e-5, linear warm-up over
# 2000 iterations, x0.1 at iteration 50k, EMA of the weights (decay 0.9999). Sampling: 12
# autoregressive steps, CFG 4.5; the head's ODE with Heun's method on 25 steps (49 evaluations; the
# reference integrates with dopri5). Recognizer guidance: set recognizer / recognizer_checkpoint
# to the trained MAR and guidance_gamma > 0 (the reference's released evaluation config has
# guidance switched off, guidance_lambda = 0). The reference evaluates a 6-layer model built over
# the 8-layer checkpoint with strict=False (two trained blocks dropped); here the trained 8 are
# used.
_base_ = [
    '../../../configs/_base_/datasets/humanml3d.py',
    '../../../configs/_base_/default_runtime.py',
]

# built on the meta device by the project tests instead of stepped on a CPU
paper_scale = True

autoencoder = dict(
    type='MultimodalAutoencoder', skeleton='t2m22', width=512, code_dim=512, down_t=2, stride_t=2,
    depth=3, dilation_growth_rate=3, activation='relu')
model = dict(
    type='MaskedAutoregressiveGenerator',
    tokenizer=autoencoder,
    tokenizer_checkpoint='work_dirs/coamd-ae_conv-512_1xb256-50e_humanml3d/epoch_50.pth',
    latent_dim=1024,
    ff_size=4096,
    num_layers=8,
    num_heads=16,
    dropout=0.2,
    # CLIP ViT-B/32 text tower in a local Hugging Face folder (openai/clip-vit-base-patch32);
    # nothing is downloaded.
    text_encoder=dict(type='HFTextEncoder', model_path='checkpoints/clip-vit-base-patch32',
                      embed_dim=512, pooling='clip', max_length=77, freeze=True),
    cond_drop_prob=0.1,
    head=dict(type='FlowMatchingHead', width=1792, depth=16),
    head_batch_mul=4,
    mask_noise_prob=0.1,
    mask_token_prob=0.88,
    noise_scheduler=dict(type='FlowMatchingScheduler', num_train_timesteps=1000, solver='heun'),
    num_inference_steps=25,
    num_ar_steps=12,
    guidance_scale=4.5,
    recognizer=None,
    guidance_gamma=0.0,
    guidance_weights=dict(fused=0.7, joint=0.1, bone=0.1, motion=0.1),
    data_preprocessor=dict(type='MotionDataPreprocessor'))

train_pipeline = [
    dict(type='LoadMotion', with_motion=False, with_joints=True),
    dict(type='SampleCaption'),
    dict(type='CropMotion', max_length=196, unit_length=4),
    dict(type='PackMotionInputs', input_key='joints'),
]
test_pipeline = [
    dict(type='LoadMotion', with_motion=False, with_joints=True),
    dict(type='SampleCaption', test_mode=True),
    dict(type='CropMotion', max_length=196, unit_length=4, test_mode=True),
    dict(type='PackMotionInputs', input_key='joints'),
]
train_dataloader = dict(
    batch_size=64,
    dataset=dict(with_joints=True, pipeline=train_pipeline))
test_dataloader = dict(dataset=dict(with_joints=True, pipeline=test_pipeline))
val_dataloader = None
val_cfg = None
val_evaluator = None
test_evaluator = [
    dict(type='DumpPredictions',
         out_file_path='work_dirs/coamd_sit-xl_1xb64-500e_humanml3d/predictions.pkl'),
]

optim_wrapper = dict(
    type='OptimWrapper',
    optimizer=dict(type='AdamW', lr=2e-4, betas=(0.9, 0.99), weight_decay=1e-5))
param_scheduler = [
    dict(type='LinearLR', start_factor=1e-3, by_epoch=False, begin=0, end=2000),
    dict(type='MultiStepLR', by_epoch=False, milestones=[50000], gamma=0.1),
]
train_cfg = dict(type='EpochBasedTrainLoop', max_epochs=500, val_interval=501)
test_cfg = dict(type='TestLoop')
custom_hooks = [dict(type='EMAHook', momentum=1e-4, update_buffers=True)]
default_hooks = dict(
    logger=dict(type='LoggerHook', interval=50),
    checkpoint=dict(type='CheckpointHook', interval=10, max_keep_ckpts=3, save_best=None))

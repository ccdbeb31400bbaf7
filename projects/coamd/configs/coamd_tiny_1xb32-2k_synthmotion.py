# CoAMD's masked autoregressive flow-matching generator (sec. 3.3, eq. 3-5), tiny CPU preset on
# SynthMotion, without recognizer guidance (the "w/o MAR" baseline; the guided variants are
# coamd-guided*_tiny_*). The autoencoder of coamd-ae_tiny_1xb32-2k_synthmotion.py must be trained
# first; its checkpoint (with its joint statistics) is loaded and frozen:
#   python tools/train.py projects/coamd/configs/coamd-ae_tiny_1xb32-2k_synthmotion.py
#   python tools/train.py projects/coamd/configs/coamd_tiny_1xb32-2k_synthmotion.py
#   python tools/test.py projects/coamd/configs/coamd_tiny_1xb32-2k_synthmotion.py \
#       work_dirs/coamd_tiny_1xb32-2k_synthmotion/iter_2000.pth
# Text prompts are SynthMotion's captions (offline LearnedTextEncoder). Sampling: 12 autoregressive
# steps (the paper's evaluation), 16 Euler steps of the head's ODE each, CFG 4.5. Temporal editing
# (table 6) with the same weights: --cfg-options model.predict_task=inpainting (outpainting,
# prefix, suffix).
_base_ = [
    '../../../configs/_base_/datasets/synthmotion.py',
    '../../../configs/_base_/schedules/adamw_iter.py',
    '../../../configs/_base_/default_runtime.py',
]

autoencoder = dict(
    type='MultimodalAutoencoder', skeleton='t2m22', width=64, code_dim=16, down_t=2, stride_t=2,
    depth=2, dilation_growth_rate=3, activation='relu')
model = dict(
    type='MaskedAutoregressiveGenerator',
    tokenizer=autoencoder,
    tokenizer_checkpoint='work_dirs/coamd-ae_tiny_1xb32-2k_synthmotion/iter_2000.pth',
    latent_dim=64,
    ff_size=128,
    num_layers=2,
    num_heads=4,
    dropout=0.1,
    text_encoder=dict(type='LearnedTextEncoder', embed_dim=64, word_dim=64, num_layers=1,
                      num_heads=4, num_buckets=4096),
    cond_drop_prob=0.1,
    head=dict(type='FlowMatchingHead', width=128, depth=3),
    head_batch_mul=4,
    mask_noise_prob=0.1,
    mask_token_prob=0.88,
    noise_scheduler=dict(type='FlowMatchingScheduler', num_train_timesteps=1000, solver='euler'),
    num_inference_steps=16,
    num_ar_steps=12,
    guidance_scale=4.5,
    recognizer=None,  # unguided
    guidance_gamma=0.0,
    data_preprocessor=dict(type='MotionDataPreprocessor'))  # joints in metres

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
    batch_size=32,
    dataset=dict(split='train', with_joints=True, pipeline=train_pipeline))
test_dataloader = dict(
    batch_size=32,
    dataset=dict(split='test', with_joints=True, pipeline=test_pipeline))
val_dataloader = None
val_cfg = None
val_evaluator = None
# The T2M metrics on absolute coordinates (tables 1 / 8) through the in-house evaluator trained on
# the same SynthMotion build (t2m-evaluator-abs_tiny_1xb32-2k_synthmotion.py; train it first),
# with MARDM's protocol preset (R-precision, FID, MM-Dist, Diversity, MultiModality from the
# replications) and the CLIP-score of the contrastive evaluator
# (t2m-evaluator-abs-clip_tiny_1xb32-2k_synthmotion.py; train it too). num_replications independent generations of the test split: the
# protocol's 20; the one-command pipeline uses fewer to fit its budget (the README says how many).
# SynthMotion's test split has 141 motions: 4 batches of 32 per replication, 100 diversity pairs.
model.update(num_replications=20)
t2m_generation_metric = dict(
    type='T2MGenerationMetric',
    evaluator='{{ fileDirname }}/t2m-evaluator-abs_tiny_1xb32-2k_synthmotion.py',
    evaluator_checkpoint='work_dirs/t2m-evaluator-abs_tiny_1xb32-2k_synthmotion/iter_2000.pth',
    clip_evaluator='{{ fileDirname }}/t2m-evaluator-abs-clip_tiny_1xb32-2k_synthmotion.py',
    clip_evaluator_checkpoint=(
        'work_dirs/t2m-evaluator-abs-clip_tiny_1xb32-2k_synthmotion/iter_2000.pth'),
    preset='mardm')
# Generated motions are also dumped: pred_joints (n, 22, 3) metres and pred_motion (n, 66)
# absolute-coordinate features (raw: pred_motion_normalized=False), as the other generators dump.
test_evaluator = [
    dict(type='DumpPredictions',
         out_file_path='work_dirs/coamd_tiny_1xb32-2k_synthmotion/predictions.pkl',
         exclude_keys=('pred_motion_replications', )),
    t2m_generation_metric,
]

optim_wrapper = dict(optimizer=dict(lr=1e-3, betas=(0.9, 0.99), weight_decay=1e-5))
param_scheduler = [
    dict(type='LinearLR', start_factor=0.01, by_epoch=False, begin=0, end=100),
    dict(type='CosineAnnealingLR', by_epoch=False, begin=100, end=2000, eta_min=1e-5),
]
train_cfg = dict(type='IterBasedTrainLoop', max_iters=2000, val_interval=2001)
default_hooks = dict(
    logger=dict(type='LoggerHook', interval=50),
    checkpoint=dict(type='CheckpointHook', by_epoch=False, interval=500, max_keep_ckpts=2,
                    save_best=None))
log_processor = dict(by_epoch=False)

# CigTime at paper scale (Fang et al., NeurIPS 2024, sec. 5 implementation details): Llama-3-8B fully
# fine-tuned on HumanML3D triplets with motion tokens written as text (decimal ids of the 512-code
# T2M-GPT VQ-VAE), anchor loss on the embeddings (eq. 10), 4 GPUs x 128 = batch 512, lr 1e-5,
# 8 epochs, bf16, FSDP (or DeepSpeed ZeRO: swap the strategy base for deepspeed_zero2.py).
# Needs the Llama-3-8B weights in a local directory (motionkit never downloads):
#   tools/dist_train.sh projects/cigtime/configs/cigtime_llama3-8b-full_4xb128-8e_humanml3d.py 4 \
#       --cfg-options model.llm.backbone.pretrained=/path/to/Meta-Llama-3-8B
_base_ = [
    './_base_/cigtime_triplets_humanml3d.py',
    '../../../configs/_base_/schedules/adamw_epoch.py',
    '../../../configs/_base_/default_runtime.py',
    '../../../configs/_base_/strategies/fsdp.py',
]
paper_scale = True  # built on the meta device by the project tests, never stepped on a CPU

model = dict(
    type='CorrectiveInstructionGenerator',
    tokenizer=dict(
        type='MotionVQVAE', feature_dim=263, width=512, code_dim=512, down_t=2, stride_t=2, depth=3,
        dilation_growth_rate=3, activation='relu',
        quantizer=dict(type='EMAQuantizer', codebook_size=512, code_dim=512, decay=0.99, reset_threshold=1.0),
        representation='HumanML3DFeatures', data_preprocessor=dict(type='MotionDataPreprocessor')),
    tokenizer_checkpoint='work_dirs/vqvae_tcn-512_1xb256-300k_humanml3d/vqvae.pth',
    llm=dict(
        type='MotionLanguageModel',
        backbone=dict(preset='llama3-8b'),  # add pretrained='/path/to/Meta-Llama-3-8B' to load the weights
        tokenizer=dict(type='pretrained', path='data/models/Meta-Llama-3-8B'),
        motion_token_strategy='text',
        codebook_size=512,
        finetune='full',
        anchor_weight=1e-2,
        template='cigtime',
        max_length=512,
        generation_cfg=dict(max_new_tokens=64, num_beams=1, do_sample=False)),
    data_preprocessor=dict(type='MotionPairDataPreprocessor'))

optim_wrapper = dict(
    type='AmpOptimWrapper', dtype='bfloat16',
    optimizer=dict(type='AdamW', lr=1e-5, betas=(0.9, 0.999), weight_decay=0.0),
    clip_grad=dict(max_norm=1.0))
param_scheduler = [
    dict(type='LinearLR', start_factor=0.01, by_epoch=False, begin=0, end=100),
    dict(type='CosineAnnealingLR', by_epoch=True, begin=0, end=8, eta_min=0.0),
]
train_cfg = dict(type='EpochBasedTrainLoop', max_epochs=8, val_interval=100)
val_dataloader = None
val_cfg = None
val_evaluator = None
auto_scale_lr = dict(enable=False, base_batch_size=512)

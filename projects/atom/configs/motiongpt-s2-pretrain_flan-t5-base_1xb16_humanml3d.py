# MotionGPT stage 2 at paper scale (Jiang et al., NeurIPS 2023, sec. 3.3; configs/config_h3d_stage2.yaml
# of OpenMotionLab/MotionGPT): flan-t5-base with MotionGPT's 515 motion tokens (512 codes + start, end,
# pad markers) pre-trained on HumanML3D text-motion pairs in both directions, batch 16, AdamW lr 2e-4,
# betas (0.9, 0.99), no weight decay; the motion tokenizer is MotionGPT's 512-code VQ-VAE, frozen.
# Needs local weights (motionkit never downloads): the flan-t5-base folder (MotionGPT's
# prepare/prepare_t5.sh) and the VQ-VAE converted from MotionGPT-base
# (tools/model_converters/motiongpt_official.py), e.g.
#   python tools/train.py projects/atom/configs/motiongpt-s2-pretrain_flan-t5-base_1xb16_humanml3d.py \
#       --cfg-options model.llm.backbone.pretrained=deps/flan-t5-base
# MotionGPT's own config trains until stopped (END_EPOCH 999999); the epochs below are a budget, not
# the paper's number.
_base_ = [
    '../../../configs/_base_/datasets/humanml3d.py',
    '../../../configs/_base_/schedules/adamw_epoch.py',
    '../../../configs/_base_/default_runtime.py',
]
paper_scale = True  # built on the meta device by the project tests, never stepped on a CPU

codebook_size = 512
model = dict(
    type='MotionTextLM',
    # MotionGPT's VQ-VAE has T2M-GPT's sizes (configs/vqvae/vqvae_tcn-512_1xb256-300k_humanml3d.py)
    tokenizer=dict(
        type='MotionVQVAE', feature_dim=263, width=512, code_dim=512, down_t=2, stride_t=2, depth=3,
        dilation_growth_rate=3, activation='relu',
        quantizer=dict(type='EMAQuantizer', codebook_size=codebook_size, code_dim=512, decay=0.99,
                       reset_threshold=1.0),
        representation='HumanML3DFeatures'),
    tokenizer_checkpoint='checkpoints/motiongpt-base_official_humanml3d/vqvae.pth',
    llm=dict(
        type='MotionLanguageModel',
        backbone=dict(preset='flan-t5-base'),  # add pretrained='deps/flan-t5-base' to load the weights
        tokenizer=dict(type='pretrained', path='deps/flan-t5-base'),
        motion_token_strategy='extended',
        codebook_size=codebook_size,
        finetune='full',
        max_length=256,  # MotionGPT's lm max_length
        generation_cfg=dict(max_new_tokens=64, num_beams=1, do_sample=False)),
    task_templates='motiongpt_pretrain',
    t2m_ratio=0.5,
    predict_task='t2m',
    num_samples=1,
    sampling=dict(do_sample=True),  # MotionGPT samples motions at test time (HF defaults otherwise)
    max_motion_tokens=49)

train_dataloader = dict(batch_size=16)
val_dataloader = None
val_cfg = None
val_evaluator = None
test_evaluator = [
    dict(type='T2MGenerationMetric',
         evaluator='{{ fileDirname }}/../../../configs/t2m_evaluator/t2m-evaluator_official_humanml3d.py',
         evaluator_checkpoint='checkpoints/t2m-evaluator_official_humanml3d/t2m_evaluator.pth',
         preset='guo2022'),
]
optim_wrapper = dict(optimizer=dict(type='AdamW', lr=2e-4, betas=(0.9, 0.99), weight_decay=0.0))
param_scheduler = []
train_cfg = dict(type='EpochBasedTrainLoop', max_epochs=300, val_interval=1000)

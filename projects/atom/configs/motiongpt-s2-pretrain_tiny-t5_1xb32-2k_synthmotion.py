# MotionGPT stage 2 (motion-language pre-training, Jiang et al. NeurIPS 2023 sec. 3.3) for the AToM
# tiny CPU preset: a tiny T5 (MotionGPT's backbone family) with a word-level vocabulary built from
# the training captions plus the 64 motion codes as <motion_id_k> tokens and MotionGPT's start / end /
# pad markers (<motion_id_64> .. <motion_id_66>); one model trained on a 50/50 mix of text-to-motion
# and motion-to-text pairs written with the raw-pair templates. The frozen stage-1 VQ-VAE encodes
# each training motion (64-frame crops: at most 16 codes) in the model's data path.
# Inputs under $ATOM_WORK_DIR (default work_dirs/atom_tiny): synthmotion/ (the build), vqvae/
# (stage 1), t2m_evaluator/ (configs/t2m_evaluator/t2m-evaluator_tiny_1xb32-2k_synthmotion.py
# trained on the same build, for the test metrics).
#   python tools/train.py projects/atom/configs/motiongpt-s2-pretrain_tiny-t5_1xb32-2k_synthmotion.py \
#       --work-dir $ATOM_WORK_DIR/motiongpt_s2
#   python tools/test.py projects/atom/configs/motiongpt-s2-pretrain_tiny-t5_1xb32-2k_synthmotion.py \
#       $ATOM_WORK_DIR/motiongpt_s2/iter_2000.pth
# Prediction samples (MotionGPT samples at test time): model.num_samples motions per caption with
# model.sampling (temperature / top_k / top_p); the first one is scored.
_base_ = [
    '../../../configs/_base_/datasets/synthmotion.py',
    '../../../configs/_base_/schedules/adamw_iter.py',
    '../../../configs/_base_/default_runtime.py',
]

work_root = '{{$ATOM_WORK_DIR:work_dirs/atom_tiny}}'
synthmotion_root = work_root + '/synthmotion'
codebook_size = 64

model = dict(
    type='MotionTextLM',
    # the stage-1 tokenizer (configs/vqvae/vqvae_tiny_1xb32-2k_synthmotion.py), frozen
    tokenizer=dict(
        type='MotionVQVAE', feature_dim=263, width=64, code_dim=16, down_t=2, stride_t=2, depth=3,
        dilation_growth_rate=3, activation='relu',
        quantizer=dict(type='EMAQuantizer', codebook_size=codebook_size, code_dim=16, decay=0.99,
                       reset_threshold=1.0),
        representation='HumanML3DFeatures'),
    tokenizer_checkpoint=work_root + '/vqvae/iter_2000.pth',
    llm=dict(
        type='MotionLanguageModel',
        backbone=dict(preset='tiny-t5'),
        tokenizer=dict(type='word_level', corpus=[synthmotion_root], splits=('train', )),
        motion_token_strategy='extended',
        codebook_size=codebook_size,
        finetune='full',
        max_length=64,  # T5: prompt and response have max_length tokens each (49 codes + markers)
        generation_cfg=dict(max_new_tokens=32, num_beams=1, do_sample=False)),
    task_templates='motiongpt_pretrain',
    t2m_ratio=0.5,
    predict_task='t2m',
    num_samples=1,
    sampling=dict(do_sample=True, temperature=1.0, top_k=None, top_p=None),
    max_motion_tokens=49,  # 196 frames / 4
    on_failure='mean_pose')

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
    dict(type='CropMotion', max_length=196, unit_length=4, test_mode=True),
    dict(type='NormalizeMotion'),
    dict(type='PackMotionInputs'),
]
train_dataloader = dict(
    batch_size=32,
    sampler=dict(type='InfiniteSampler', shuffle=True),
    dataset=dict(data_root=synthmotion_root, pipeline=train_pipeline))
test_dataloader = dict(batch_size=32, dataset=dict(data_root=synthmotion_root, pipeline=test_pipeline))
val_dataloader = None
val_cfg = None
val_evaluator = None
# Guo et al.'s protocol through the tiny evaluator trained on the same build (SynthMotion's test split
# of 1000 motions has 141: 100 diversity pairs, no MultiModality).
test_evaluator = [
    dict(type='T2MGenerationMetric',
         evaluator='{{ fileDirname }}/../../../configs/t2m_evaluator/t2m-evaluator_tiny_1xb32-2k_synthmotion.py',
         evaluator_checkpoint=work_root + '/t2m_evaluator/iter_2000.pth', preset='guo2022',
         diversity_times=100, mm_num_texts=0),
]

# MotionGPT's stage-2 optimiser (configs/config_h3d_stage2.yaml: AdamW, lr 2e-4, betas (0.9, 0.99),
# no weight decay); a fixed number of iterations here
optim_wrapper = dict(optimizer=dict(lr=2e-4, betas=(0.9, 0.99), weight_decay=0.0))
param_scheduler = [dict(type='CosineAnnealingLR', by_epoch=False, begin=0, end=2000, eta_min=1e-5)]
train_cfg = dict(type='IterBasedTrainLoop', max_iters=2000, val_interval=100000)
default_hooks = dict(
    logger=dict(type='LoggerHook', interval=50),
    checkpoint=dict(type='CheckpointHook', by_epoch=False, interval=500, max_keep_ckpts=1, save_best=None))
log_processor = dict(by_epoch=False)

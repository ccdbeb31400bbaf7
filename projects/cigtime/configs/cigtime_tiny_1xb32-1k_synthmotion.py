# CigTime (Fang et al., NeurIPS 2024) tiny CPU preset on SynthMotion: the frozen tiny motion VQ-VAE
# (stage 2) writes source and target as decimal token ids in the prompt (Fig. 2, 'text' strategy, the
# paper's method); a tiny Llama (2 layers, d=128) with a word-level tokenizer built from the
# training triplets' text is fully fine-tuned with the anchor loss on its embeddings (eq. 10).
_base_ = [
    './_base_/cigtime_triplets_synthmotion.py',
    '../../../configs/_base_/schedules/adamw_iter.py',
    '../../../configs/_base_/default_runtime.py',
]

model = dict(
    type='CorrectiveInstructionGenerator',
    tokenizer=dict(
        type='MotionVQVAE', feature_dim=263, width=64, code_dim=16, down_t=2, stride_t=2, depth=3,
        dilation_growth_rate=3, activation='relu',
        quantizer=dict(type='EMAQuantizer', codebook_size=64, code_dim=16, decay=0.99, reset_threshold=1.0),
        recon_loss='smooth_l1', vel_weight=0.5, vel_mode='frame_diff', commit_weight=0.02,
        representation='HumanML3DFeatures', data_preprocessor=dict(type='MotionDataPreprocessor')),
    tokenizer_checkpoint='{{$CIGTIME_WORK_DIR:work_dirs/cigtime_tiny}}/tokenizer/tokenizer.pth',
    llm=dict(
        type='MotionLanguageModel',
        backbone=dict(preset='tiny-llama'),
        tokenizer=dict(type='word_level',
                       corpus=['{{$CIGTIME_WORK_DIR:work_dirs/cigtime_tiny}}/triplets/triplets.jsonl'],
                       fields=('instructions', 'target_captions'), splits=('train', ),
                       extra_texts=('Upper body:', 'Lower body:', 'Whole body:')),
        motion_token_strategy='text',
        codebook_size=64,
        finetune='full',
        anchor_weight=1e-4,
        template='cigtime',
        max_length=256,
        generation_cfg=dict(max_new_tokens=24, num_beams=1, do_sample=False)),
    data_preprocessor=dict(type='MotionPairDataPreprocessor'))

test_evaluator = {{_base_.cigtime_evaluators}}

# no validation during training (the pipeline evaluates once at the end)
val_dataloader = None
val_cfg = None
val_evaluator = None

optim_wrapper = dict(optimizer=dict(lr=1e-3, weight_decay=0.0))
param_scheduler = [
    dict(type='LinearLR', start_factor=0.1, by_epoch=False, begin=0, end=100),
    dict(type='CosineAnnealingLR', by_epoch=False, begin=100, end=1000, eta_min=1e-5),
]
train_cfg = dict(type='IterBasedTrainLoop', max_iters=1000, val_interval=100000)
default_hooks = dict(
    logger=dict(type='LoggerHook', interval=50),
    checkpoint=dict(type='CheckpointHook', by_epoch=False, interval=1000, max_keep_ckpts=1, save_best=None))
log_processor = dict(by_epoch=False)

# AToM (Han et al., CVPR 2025) tiny CPU preset: preference fine-tuning of a text-to-motion LM on
# MotionPrefer pairs (text prompt, chosen motion tokens, rejected motion tokens; built from
# SynthMotion motions scored by a feedback scorer). A tiny T5 (MotionGPT's backbone family) with a
# word-level tokenizer writes motion-tokenizer codes as decimal words ('text' strategy); a LoRA
# adapter (r 8, alpha 16, dropout 0.05) trains with IPO (eq. 8) on log-probabilities averaged over
# the response tokens, beta 0.1; the reference is the same T5 with the adapter switched off.
# The paper's schedule: lr 1e-3, cosine decay, batch 32 (20 epochs; here a fixed iteration count).
# The pairs file comes from $ATOM_WORK_DIR (default work_dirs/atom_tiny): motionprefer/pairs.jsonl
# (format: motionkit/datasets/preference_dataset.py, docs/preference.md); point it elsewhere with
# ATOM_WORK_DIR=... or --cfg-options.
_base_ = [
    '../../../configs/_base_/schedules/adamw_iter.py',
    '../../../configs/_base_/default_runtime.py',
]

pairs_file = '{{$ATOM_WORK_DIR:work_dirs/atom_tiny}}/motionprefer/pairs.jsonl'
codebook_size = 64
max_motion_tokens = 50  # codes of the longest motion (196 frames / 4); longer pairs are skipped and counted

model = dict(
    type='MotionPreferenceModel',
    llm=dict(
        type='MotionLanguageModel',
        backbone=dict(preset='tiny-t5'),
        tokenizer=dict(type='word_level', corpus=[pairs_file], fields=('prompt', ),
                       extra_texts=('generate the motion of : . motion :', )),
        motion_token_strategy='text',
        codebook_size=codebook_size,
        finetune='lora',
        lora=dict(r=8, alpha=16, dropout=0.05),
        template='generate the motion of : {text} . motion :',
        max_length=96,  # T5: prompt and response have max_length tokens each
        generation_cfg=dict(max_new_tokens=max_motion_tokens + 1, num_beams=1, do_sample=False)),
    loss_type='ipo',
    beta=0.1,
    average_log_prob=True)

train_dataloader = dict(
    batch_size=32,
    num_workers=0,
    sampler=dict(type='InfiniteSampler', shuffle=True),
    collate_fn=dict(type='motionkit.preference_collate'),
    dataset=dict(type='PreferenceDataset', ann_file=pairs_file, max_motion_tokens=max_motion_tokens,
                 codebook_size=codebook_size))

val_dataloader = None
val_cfg = None
val_evaluator = None
test_dataloader = None
test_cfg = None
test_evaluator = None

optim_wrapper = dict(optimizer=dict(lr=1e-3, weight_decay=0.0))
param_scheduler = [dict(type='CosineAnnealingLR', by_epoch=False, begin=0, end=500, eta_min=0.0)]
train_cfg = dict(type='IterBasedTrainLoop', max_iters=500, val_interval=100000)
default_hooks = dict(
    logger=dict(type='LoggerHook', interval=20),
    checkpoint=dict(type='CheckpointHook', by_epoch=False, interval=500, max_keep_ckpts=1, save_best=None))
log_processor = dict(by_epoch=False)

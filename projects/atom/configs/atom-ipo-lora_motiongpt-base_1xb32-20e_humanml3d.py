# AToM at paper scale (Han et al., CVPR 2025, sec. 4 implementation details; the reference code
# VincentHancoder/AToM): the converted MotionGPT-base (flan-t5-base with MotionGPT's 512 motion codes
# and start / end / pad markers; tools/model_converters/motiongpt_official.py) fine-tuned with a LoRA
# adapter (r 8, alpha 16, dropout 0.05 on T5's q / v) by IPO (eq. 8) with log-probabilities averaged
# over the response tokens, beta 0.1; AdamW lr 1e-3 with cosine decay, batch 32, 20 epochs.
# Pairs: MotionPrefer (GPT-4V scores of MotionGPT's own samples; tools/data/build_motion_prefer.py,
# then tools/data/sample_text_to_motion.py pairs). The prompt is MotionGPT's test instruction
# ("Generate motion: <prompt>", motiongpt-base_official_humanml3d.py). Needs the converted weights:
#   python tools/train.py projects/atom/configs/atom-ipo-lora_motiongpt-base_1xb32-20e_humanml3d.py \
#       --cfg-options train_dataloader.dataset.ann_file=<preference_pairs.jsonl>
# The project tests build it on the meta device (no weights on the CI machine).
_base_ = [
    '../../../configs/_base_/schedules/adamw_epoch.py',
    '../../../configs/_base_/default_runtime.py',
]
paper_scale = True

converted_dir = 'checkpoints/motiongpt-base_official_humanml3d'
pairs_file = 'data/motionprefer/preference_pairs.jsonl'
codebook_size = 512
max_motion_tokens = 49

model = dict(
    type='MotionPreferenceModel',
    llm=dict(
        type='MotionLanguageModel',
        backbone=dict(pretrained=converted_dir + '/lm'),
        tokenizer=dict(type='pretrained', path=converted_dir + '/lm'),
        motion_token_strategy='extended',
        motion_markers=True,
        codebook_size=codebook_size,
        finetune='lora',
        lora=dict(r=8, alpha=16, dropout=0.05, train_embeddings=False),  # q / v only
        template='Generate motion: {text}',
        max_length=256,  # MotionGPT's lm max_length
        generation_cfg=dict(max_new_tokens=max_motion_tokens + 2, num_beams=1, do_sample=False)),
    loss_type='ipo',
    beta=0.1,
    average_log_prob=True)

train_dataloader = dict(
    batch_size=32,
    num_workers=2,
    sampler=dict(type='DefaultSampler', shuffle=True),
    collate_fn=dict(type='motionkit.preference_collate'),
    dataset=dict(type='PreferenceDataset', ann_file=pairs_file, max_motion_tokens=max_motion_tokens,
                 codebook_size=codebook_size))
val_dataloader = None
val_cfg = None
val_evaluator = None
test_dataloader = None
test_cfg = None
test_evaluator = None

optim_wrapper = dict(optimizer=dict(type='AdamW', lr=1e-3, weight_decay=0.0))
param_scheduler = [dict(type='CosineAnnealingLR', by_epoch=True, begin=0, end=20, eta_min=0.0,
                        convert_to_iter_based=True)]
train_cfg = dict(type='EpochBasedTrainLoop', max_epochs=20, val_interval=1000)
default_hooks = dict(checkpoint=dict(type='CheckpointHook', interval=1, max_keep_ckpts=2))

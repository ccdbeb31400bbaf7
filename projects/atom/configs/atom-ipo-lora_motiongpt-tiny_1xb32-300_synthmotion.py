# AToM (Han et al., CVPR 2025) on SynthMotion, starting from the tiny MotionGPT (stage 2,
# motiongpt-s2-pretrain_tiny-t5_1xb32-2k_synthmotion.py) as the paper starts from MotionGPT:
# the policy is that model's LM (tiny T5, word-level vocabulary + <motion_id_k> tokens with
# MotionGPT's start / end markers), loaded from the stage-2 checkpoint *before* the LoRA adapter
# (r 8, alpha 16, dropout 0.05 on q / v; the motion embeddings stay as trained), so the reference
# (adapter off) is the stage-2 model. The prompt is the stage-2 text-to-motion prompt (the caption
# itself, template 'motiongpt_pretrain'). IPO (eq. 8) on log-probabilities averaged over the
# response tokens, beta 0.1; AdamW lr 1e-3 with cosine decay, batch 32 (the paper's 20 epochs:
# here a fixed iteration count). Pairs: MotionPrefer pairs of the stage-2 model's own samples,
# scored offline, converted to code ids (tools/data/sample_text_to_motion.py pairs).
# Inputs under $ATOM_WORK_DIR (default work_dirs/atom_tiny), or --cfg-options (what
# projects/atom/pipeline_synthmotion.py does):
#   model.init_checkpoint=<stage-2 checkpoint> train_dataloader.dataset.ann_file=<preference pairs>
# DPO / KTO: --cfg-options model.loss_type=dpo (or kto) model.average_log_prob=False
_base_ = ['./atom-ipo_tiny_synthmotion.py']

work_root = '{{$ATOM_WORK_DIR:work_dirs/atom_tiny}}'
pairs_file = work_root + '/motionprefer/preference_pairs.jsonl'
codebook_size = 64
max_motion_tokens = 49  # 196 frames / 4, as stage 2

model = dict(
    init_checkpoint=work_root + '/motiongpt_s2/iter_2000.pth',
    llm=dict(
        _delete_=True,
        type='MotionLanguageModel',
        backbone=dict(preset='tiny-t5'),
        # replaced by the stage-2 checkpoint's own vocabulary when it is loaded
        tokenizer=dict(type='word_level', extra_texts=['a person']),
        motion_token_strategy='extended',
        motion_markers=True,
        codebook_size=codebook_size,
        finetune='lora',
        # the adapter on q / v only: the stage-2 motion embeddings are trained already, and a
        # q / v adapter merges back into the (tied) T5 exactly
        lora=dict(r=8, alpha=16, dropout=0.05, train_embeddings=False),
        template='{text}',  # the stage-2 t2m prompt: the caption alone
        max_length=64,  # as stage 2: 49 codes + start / end markers + </s>
        generation_cfg=dict(max_new_tokens=max_motion_tokens + 2, num_beams=1, do_sample=False)))

train_dataloader = dict(dataset=dict(ann_file=pairs_file, max_motion_tokens=max_motion_tokens,
                                     codebook_size=codebook_size))
param_scheduler = [dict(type='CosineAnnealingLR', by_epoch=False, begin=0, end=300, eta_min=0.0)]
train_cfg = dict(type='IterBasedTrainLoop', max_iters=300, val_interval=100000)
default_hooks = dict(checkpoint=dict(interval=300))

# MotionGPT stage 3 (instruction tuning, sec. 3.3) for the AToM tiny CPU preset: the stage-2 model
# fine-tuned on the same pairs written with several instruction templates per task (one drawn per
# sample; motionkit's own wordings, see motionkit/models/llm_heads/task_templates.py). Prediction
# writes the first text-to-motion instruction. This is the policy AToM's preference stage starts from.
#   python tools/train.py projects/atom/configs/motiongpt-s3-instruct_tiny-t5_1xb32-1k_synthmotion.py \
#       --work-dir $ATOM_WORK_DIR/motiongpt_s3
_base_ = ['./motiongpt-s2-pretrain_tiny-t5_1xb32-2k_synthmotion.py']

model = dict(task_templates='motiongpt_instruct')
load_from = '{{$ATOM_WORK_DIR:work_dirs/atom_tiny}}/motiongpt_s2/iter_2000.pth'

optim_wrapper = dict(optimizer=dict(lr=1e-4))
param_scheduler = [dict(type='CosineAnnealingLR', by_epoch=False, begin=0, end=1000, eta_min=1e-5)]
train_cfg = dict(type='IterBasedTrainLoop', max_iters=1000, val_interval=100000)

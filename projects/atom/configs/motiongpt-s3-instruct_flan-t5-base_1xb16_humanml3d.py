# MotionGPT stage 3 at paper scale (instruction tuning, sec. 3.3): the stage-2 model fine-tuned on
# HumanML3D pairs written with instruction templates (motionkit's wordings). Full fine-tuning as
# MotionGPT; the LoRA variant is motiongpt-s3-instruct-lora_flan-t5-base_1xb16_humanml3d.py.
_base_ = ['./motiongpt-s2-pretrain_flan-t5-base_1xb16_humanml3d.py']

model = dict(task_templates='motiongpt_instruct')
load_from = 'work_dirs/motiongpt-s2-pretrain_flan-t5-base_1xb16_humanml3d/epoch_300.pth'

# The converted OpenMotionLab/MotionGPT-base (motiongpt_s3_h3d.tar: flan-t5-base + its 512-code
# VQ-VAE; AToM's starting point), tested for text-to-motion on HumanML3D through Guo et al.'s official
# evaluator. Convert first (configs/motiongpt/metafile.yml):
#   python tools/model_converters/motiongpt_official.py motiongpt_s3_h3d.tar --t5-dir deps/flan-t5-base \
#       --out-dir checkpoints/motiongpt-base_official_humanml3d
#   python tools/test.py projects/atom/configs/motiongpt-base_official_humanml3d.py none
# (the weights come from converted_dir; no motionkit checkpoint is loaded on top). The prompt is
# MotionGPT's test instruction for text-to-motion ("Generate motion: <caption>"; the reverse task
# "Generate text: <motion>").
_base_ = ['./motiongpt-s2-pretrain_flan-t5-base_1xb16_humanml3d.py']

converted_dir = 'checkpoints/motiongpt-base_official_humanml3d'
model = dict(
    tokenizer_checkpoint=converted_dir + '/vqvae.pth',
    llm=dict(
        backbone=dict(_delete_=True, pretrained=converted_dir + '/lm'),
        tokenizer=dict(type='pretrained', path=converted_dir + '/lm'),
        finetune='frozen'),
    task_templates=dict(_delete_=True, t2m=[('Generate motion: {caption}', '{motion}')],
                        m2t=[('Generate text: {motion}', '{caption}')]),
    t2m_ratio=1.0)

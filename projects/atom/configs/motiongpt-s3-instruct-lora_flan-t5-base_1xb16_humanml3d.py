# Instruction tuning of the converted MotionGPT-base with a LoRA adapter (AToM's adapter: r 8, alpha 16,
# dropout 0.05 on T5's q / v projections; the motion-token embeddings and the head train and are saved
# with the adapter). Starts from tools/model_converters/motiongpt_official.py's output.
_base_ = ['./motiongpt-s2-pretrain_flan-t5-base_1xb16_humanml3d.py']

converted_dir = 'checkpoints/motiongpt-base_official_humanml3d'
model = dict(
    task_templates='motiongpt_instruct',
    tokenizer_checkpoint=converted_dir + '/vqvae.pth',
    llm=dict(
        backbone=dict(_delete_=True, pretrained=converted_dir + '/lm'),
        tokenizer=dict(type='pretrained', path=converted_dir + '/lm'),
        finetune='lora',
        lora=dict(r=8, alpha=16, dropout=0.05)))
optim_wrapper = dict(optimizer=dict(lr=1e-3))

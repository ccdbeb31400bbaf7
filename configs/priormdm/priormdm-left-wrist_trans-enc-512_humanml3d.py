# PriorMDM fine-tuned motion control (Shafir et al., ICLR 2024), the released left_wrist_finetuned model,
# for checkpoints converted by tools/model_converters/priormdm_official.py (docs/model_zoo.md):
#   python tools/test.py configs/priormdm/priormdm-left-wrist_trans-enc-512_humanml3d.py \
#       checkpoints/priormdm_left-wrist-control_official_humanml3d.pth
_base_ = ['../mdm/mdm_trans-enc-512_1xb64-600k_humanml3d.py']

model = dict(
    type='PriorMDM',
    control_joints='left_wrist',
    # positions only (PriorMDM's get_inpainting_mask), seen noise-free: sqrt(alpha_bar_t) * x0
    control_blocks=('root', 'ric'),
    control_input='noise_free',
    # MDM as released: attention over padded frames, CLIP captions of 20 tokens
    mask_frames=False,
    text_encoder=dict(max_length=22))

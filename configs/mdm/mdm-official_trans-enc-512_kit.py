# MDM (Tevet et al. 2023) exactly as the released kit_trans_enc_512 model was trained, for
# checkpoints converted by tools/model_converters/mdm_official.py (docs/model_zoo.md):
#   python tools/test.py configs/mdm/mdm-official_trans-enc-512_kit.py \
#       checkpoints/mdm_trans-enc-512_official_kit.pth
# CLIP text conditioning by config: openai/clip-vit-base-patch32 (download it with
# transformers into checkpoints/clip-vit-base-patch32), captions cut to 20 tokens + start/end as
# MDM's clip_encode_text does for HumanML3D/KIT.
_base_ = ['./mdm_trans-enc-512_1xb64-600k_kit.py']

model = dict(
    # the released model attends to padded frames (MDM's mask_frames came later, default off)
    mask_frames=False,
    text_encoder=dict(max_length=22))

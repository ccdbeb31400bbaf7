# ExpertAF at paper scale (Ashutosh et al., CVPR 2025, sec. 3.3): Llama-3-8B fully fine-tuned as a
# LLaVA-style model; learner video features (InternVideo2, 768-D per clip feature) and 10 poses of
# 34 PCT tokens from a 2,048-code codebook, each through an mlp2x_gelu projector; the 2,048 pose
# tokens + frame end + sequence end added to the vocabulary (351 tokens per pose stream);
# commentary and pose generation mixed, the pose-token rows at a 10x lower learning rate.
# FSDP via FlexibleRunner (for DeepSpeed ZeRO-3 swap the strategy base for
# configs/_base_/strategies/deepspeed_zero3.py). Batch, lr and epochs are motionkit's choices
# (not stated in this form by the paper); the dataset is ExpertAF's pair builder's output.
# Needs local weights (motionkit never downloads):
#   tools/dist_train.sh projects/expertaf/configs/expertaf_llama3-8b-full_8xb4-3e_expertaf.py 8 \
#       --cfg-options model.backbone.pretrained=/path/to/Meta-Llama-3-8B-Instruct \
#                     model.tokenizer.path=/path/to/Meta-Llama-3-8B-Instruct \
#                     model.pose_tokenizer_checkpoint=/path/to/pct.pth train_dataloader.dataset=...
_base_ = [
    './_base_/expertaf_tiny_model.py',
    '../../../configs/_base_/schedules/adamw_epoch.py',
    '../../../configs/_base_/default_runtime.py',
    '../../../configs/_base_/strategies/fsdp.py',
]
paper_scale = True  # built on the meta device by the project tests, never stepped on a CPU

model = dict(
    backbone=dict(preset='llama3-8b'),  # add pretrained='/path/to/Meta-Llama-3-8B-Instruct'
    tokenizer=dict(type='pretrained', path='data/models/Meta-Llama-3-8B-Instruct'),
    pose_tokenizer=dict(type='PoseTokenizer', num_joints=17, root_joints=(11, 12), num_tokens=34,
                        codebook_size=2048, code_dim=512, hidden_dim=512, num_blocks=4,
                        token_hidden=64, channel_hidden=512),
    pose_tokenizer_checkpoint='work_dirs/pose-tokenizer_pct_expertaf/pct.pth',
    video_dim=768,
    num_pose_frames=10,
    chat_format='chat',
    max_length=2048,
    max_new_tokens=128,
    retrieval_chunk=64)

optim_wrapper = dict(
    type='AmpOptimWrapper', dtype='bfloat16',
    optimizer=dict(type='AdamW', lr=2e-5, betas=(0.9, 0.999), weight_decay=0.0),
    paramwise_cfg=dict(bypass_duplicate=True,
                       custom_keys={'pose_token_embed': dict(lr_mult=0.1),
                                    'pose_token_head': dict(lr_mult=0.1)}),
    clip_grad=dict(max_norm=1.0))
param_scheduler = [
    dict(type='LinearLR', start_factor=0.03, by_epoch=False, begin=0, end=100),
    dict(type='CosineAnnealingLR', by_epoch=True, begin=0, end=3, eta_min=0.0),
]
train_cfg = dict(type='EpochBasedTrainLoop', max_epochs=3, val_interval=100)
# ExpertAF's pairs (the pair builder's dataset; the data arguments are set on the command line)
expertaf_pairs = dict(_delete_=True, type='ExpertAFPairDataset')
train_dataloader = dict(batch_size=4, num_workers=4, dataset=dict(expertaf_pairs, split='train'))
test_dataloader = dict(batch_size=4, num_workers=4, dataset=dict(expertaf_pairs, split='test'))
val_dataloader = None
val_cfg = None
val_evaluator = None

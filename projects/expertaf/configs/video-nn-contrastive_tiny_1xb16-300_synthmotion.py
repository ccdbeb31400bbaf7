# ExpertAF's contrastively fine-tuned video nearest-neighbour baseline on SynthMotion: a projector
# over the same frozen tiny-ViT features, trained with InfoNCE to match each learner's video with its
# paired expert's (ContrastiveVideoNNBaseline), then the nearest-neighbour commentary / pose and the
# cosine retrieval of video-nn_tiny_synthmotion.py in the learnt embedding. The pipeline sets the
# data folders (train and test splits, and the neighbour pool, custom_hooks.0.train_pool).
_base_ = ['./video-nn_tiny_synthmotion.py']

model = dict(_delete_=True, type='ContrastiveVideoNNBaseline', video_dim=192, embed_dim=128, tau=0.07)
train_dataloader = dict(
    _delete_=True,  # the base (a test-only config) has none
    batch_size=16, num_workers=0, sampler=dict(type='InfiniteSampler', shuffle=True),
    collate_fn=dict(type='pseudo_collate'),
    dataset=dict(type='ExpertAFPairDataset', data_root='work_dirs/expertaf_pairs', split='train', pipeline=[
        dict(type='LoadCachedVideoFeatures', cache_dir='work_dirs/expertaf_video_feats',
             encoder=dict(type='TimmVideoEncoder', backbone='vit_tiny_patch16_224',
                          backbone_kwargs=dict(img_size=64, depth=2)),
             sampling=dict(num_frames=8, size=[64, 64], mode='center', mean=[0.5, 0.5, 0.5],
                           std=[0.5, 0.5, 0.5]), seed=0, views=('learner', 'expert')),
        dict(type='PackExpertAFInputs', num_pose_frames=4),
    ]))
optim_wrapper = dict(type='OptimWrapper', optimizer=dict(type='AdamW', lr=1e-3, weight_decay=0.0))
param_scheduler = [dict(type='ConstantLR', factor=1.0, by_epoch=False, begin=0, end=300)]
train_cfg = dict(type='IterBasedTrainLoop', max_iters=300, val_interval=100000)
val_cfg = None
default_hooks = dict(logger=dict(type='LoggerHook', interval=50),
                     checkpoint=dict(type='CheckpointHook', by_epoch=False, interval=100000, max_keep_ckpts=1,
                                     save_last=True))
log_processor = dict(by_epoch=False)

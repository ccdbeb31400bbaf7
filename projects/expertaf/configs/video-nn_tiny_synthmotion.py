# ExpertAF's video-feature nearest-neighbour baseline on SynthMotion (the InternVideo2-NN analogue
# with the same frozen encoder as the model: the cached tiny-ViT features, mean-pooled). The training
# pair closest in cosine gives the commentary and its expert's pose; retrieval scores the test
# candidates by the cosine of the learner's and the candidate expert's video features. Nothing
# trains; the pipeline sets the data folders of the test split and of the neighbour pool:
#   python tools/test.py projects/expertaf/configs/video-nn_tiny_synthmotion.py none --cfg-options \
#       test_dataloader.dataset.data_root=PAIRS test_dataloader.dataset.pipeline.0.cache_dir=FEATS \
#       custom_hooks.0.train_pool.data_root=PAIRS custom_hooks.0.train_pool.pipeline.0.cache_dir=FEATS
_base_ = ['./_base_/expertaf_tiny_synthmotion.py', '../../../configs/_base_/default_runtime.py']

model = dict(_delete_=True, type='VideoNNFeedbackBaseline')
train_dataloader = None
test_cfg = dict(type='TestLoop')
# the neighbour pool: the training split, read as the test split is
custom_hooks = [dict(type='ExpertAFPoolHook', train_pool=dict(
    type='ExpertAFPairDataset', data_root='work_dirs/expertaf_pairs', split='train', pipeline=[
        dict(type='LoadCachedVideoFeatures', cache_dir='work_dirs/expertaf_video_feats',
             encoder=dict(type='TimmVideoEncoder', backbone='vit_tiny_patch16_224',
                          backbone_kwargs=dict(img_size=64, depth=2)),
             sampling=dict(num_frames=8, size=[64, 64], mode='center', mean=[0.5, 0.5, 0.5],
                           std=[0.5, 0.5, 0.5]), seed=0, views=('learner', 'expert')),
        dict(type='PackExpertAFInputs', num_pose_frames=4),
    ]))]

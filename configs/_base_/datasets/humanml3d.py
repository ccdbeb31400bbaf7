# HumanML3D (Guo et al., CVPR 2022) in its released layout under data/humanml3d:
# new_joint_vecs/ (263-D features), texts/, train/val/test.txt, Mean.npy, Std.npy.
# Text-motion samples with the T2M loader rules (40 <= T < 200 frames, time-span captions as
# samples of their own, unit-length crop to multiples of 4, at most 196 frames).
# Features are z-normalised in the pipeline with the dataset's own Mean.npy / Std.npy; the paths
# travel in the metainfo so that a model can undo the normalisation for its predictions.
dataset_type = 'HumanML3DDataset'
data_root = 'data/humanml3d'

train_pipeline = [
    dict(type='LoadMotion'),
    dict(type='SampleCaption'),
    dict(type='CropMotion', max_length=196, unit_length=4),
    dict(type='NormalizeMotion'),
    dict(type='PackMotionInputs'),
]
test_pipeline = [
    dict(type='LoadMotion'),
    dict(type='SampleCaption', test_mode=True),
    dict(type='CropMotion', max_length=196, unit_length=4, test_mode=True),
    dict(type='NormalizeMotion'),
    dict(type='PackMotionInputs'),
]

train_dataloader = dict(
    batch_size=32,
    num_workers=2,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=True),
    collate_fn=dict(type='motionkit.motion_collate'),
    dataset=dict(type=dataset_type, data_root=data_root, ann_file='train.txt',
                 pipeline=train_pipeline))
val_dataloader = dict(
    batch_size=32,
    num_workers=2,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=False),
    collate_fn=dict(type='motionkit.motion_collate'),
    dataset=dict(type=dataset_type, data_root=data_root, ann_file='val.txt',
                 pipeline=test_pipeline, test_mode=True))
test_dataloader = dict(
    batch_size=32,
    num_workers=2,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=False),
    collate_fn=dict(type='motionkit.motion_collate'),
    dataset=dict(type=dataset_type, data_root=data_root, ann_file='test.txt',
                 pipeline=test_pipeline, test_mode=True))

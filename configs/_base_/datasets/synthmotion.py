# SynthMotion (the embedded default data) as text-motion pairs in the HumanML3D format.
# The build is generated on first use into ~/.cache/motionkit/synthmotion (or $MOTIONKIT_CACHE),
# keyed by (num_motions, seed, options); tools/data/make_synthmotion.py makes one explicitly.
dataset_type = 'SynthMotionDataset'
synthmotion = dict(num_motions=1000, seed=0)

train_pipeline = [
    dict(type='LoadMotion'),
    dict(type='SampleCaption'),
    dict(type='CropMotion', max_length=196, unit_length=4),
    dict(type='PackMotionInputs'),
]
test_pipeline = [
    dict(type='LoadMotion'),
    dict(type='SampleCaption', test_mode=True),
    dict(type='CropMotion', max_length=196, unit_length=4, test_mode=True),
    dict(type='PackMotionInputs'),
]

train_dataloader = dict(
    batch_size=32,
    num_workers=0,
    sampler=dict(type='DefaultSampler', shuffle=True),
    collate_fn=dict(type='motionkit.motion_collate'),
    dataset=dict(type=dataset_type, num_motions=1000, seed=0, split='train',
                 pipeline=train_pipeline))
val_dataloader = dict(
    batch_size=32,
    num_workers=0,
    sampler=dict(type='DefaultSampler', shuffle=False),
    collate_fn=dict(type='motionkit.motion_collate'),
    dataset=dict(type=dataset_type, num_motions=1000, seed=0, split='val',
                 pipeline=test_pipeline, test_mode=True))
test_dataloader = dict(
    batch_size=32,
    num_workers=0,
    sampler=dict(type='DefaultSampler', shuffle=False),
    collate_fn=dict(type='motionkit.motion_collate'),
    dataset=dict(type=dataset_type, num_motions=1000, seed=0, split='test',
                 pipeline=test_pipeline, test_mode=True))

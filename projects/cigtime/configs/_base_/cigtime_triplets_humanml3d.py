# CigTime triplets on HumanML3D (the paper's data): built with the MDM editor from HumanML3D sources,
#   python tools/data/build_cigtime_triplets.py --editor <mdm config> --editor-checkpoint <mdm.pth> ...
# into data/cigtime/humanml3d_triplets (same folder layout as the SynthMotion triplets).
dataset_type = 'CigTimeTripletDataset'
data_root = 'data/cigtime/humanml3d_triplets'
train_pipeline = [
    dict(type='LoadMotionPair', max_length=196),
    dict(type='PackMotionPairInputs', response_key='instruction'),
]
test_pipeline = [
    dict(type='LoadMotionPair', with_joints=True, max_length=196),
    dict(type='PackMotionPairInputs', response_key='instruction', test_mode=True),
]
train_dataloader = dict(
    batch_size=128,
    num_workers=4,
    sampler=dict(type='DefaultSampler', shuffle=True),
    collate_fn=dict(type='motionkit.motion_pair_collate'),
    dataset=dict(type=dataset_type, data_root=data_root, split='train', body_part_prefix=True,
                 pipeline=train_pipeline))
test_dataloader = dict(
    batch_size=32,
    num_workers=4,
    sampler=dict(type='DefaultSampler', shuffle=False),
    collate_fn=dict(type='motionkit.motion_pair_collate'),
    dataset=dict(type=dataset_type, data_root=data_root, split='test', body_part_prefix=True,
                 pipeline=test_pipeline, test_mode=True))
test_evaluator = [
    dict(type='CaptionMetric', preset='cigtime', pred_key='pred_instruction', gt_keys=('gt_instruction', )),
]

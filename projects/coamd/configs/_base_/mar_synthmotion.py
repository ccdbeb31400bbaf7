# SynthMotion for CoAMD's multi-modal action recognizer (MAR): absolute joint coordinates
# (new_joints/, t2m22, metres) with a caption and the motion's action classes as class indices.
# SynthMotion's 30 classes are its motion primitives, in the order of its classes.json
# (motionkit.synthmotion.primitives.PRIMITIVES); the models spell their texts with spaces.
dataset_type = 'SynthMotionDataset'
synthmotion_classes = [
    'walk', 'jog', 'run', 'side_step', 'turn', 'march', 'step_over', 'jump', 'hop',
    'jumping_jacks', 'squat', 'lunge', 'kick', 'balance', 'sit_down_stand_up', 'wave',
    'raise_arms', 'arm_circles', 'clap', 'punch', 'bow', 'throw', 'jump_shot', 'dribble', 'stand',
    'toe_touch', 'side_bend', 'torso_twist', 'stretch_up', 'head_gesture'
]

train_pipeline = [
    dict(type='LoadMotion', with_motion=False, with_joints=True),
    dict(type='SampleCaption'),
    dict(type='CropMotion', max_length=196, unit_length=4, keys=('joints', )),
    dict(type='EncodeActionLabels', classes=synthmotion_classes),
    dict(type='PackMotionInputs', input_key='joints', gt_keys=()),
]
test_pipeline = [
    dict(type='LoadMotion', with_motion=False, with_joints=True),
    dict(type='SampleCaption', test_mode=True),
    dict(type='CropMotion', max_length=196, unit_length=4, keys=('joints', ), test_mode=True),
    dict(type='EncodeActionLabels', classes=synthmotion_classes),
    dict(type='PackMotionInputs', input_key='joints', gt_keys=()),
]

train_dataloader = dict(
    batch_size=32,
    num_workers=0,
    sampler=dict(type='InfiniteSampler', shuffle=True),
    collate_fn=dict(type='motionkit.motion_collate'),
    dataset=dict(type=dataset_type, num_motions=1000, seed=0, split='train', with_joints=True,
                 pipeline=train_pipeline))
val_dataloader = dict(
    batch_size=32,
    num_workers=0,
    sampler=dict(type='DefaultSampler', shuffle=False),
    collate_fn=dict(type='motionkit.motion_collate'),
    dataset=dict(type=dataset_type, num_motions=1000, seed=0, split='val', with_joints=True,
                 pipeline=test_pipeline, test_mode=True))
test_dataloader = dict(
    batch_size=32,
    num_workers=0,
    sampler=dict(type='DefaultSampler', shuffle=False),
    collate_fn=dict(type='motionkit.motion_collate'),
    dataset=dict(type=dataset_type, num_motions=1000, seed=0, split='test', with_joints=True,
                 pipeline=test_pipeline, test_mode=True))

# multi-label mAP over the 30 classes; text <-> motion retrieval with the TMR protocols "all test
# pairs" and "batches of 32" (R@1/2/3/5/10, both directions)
# Head / medium / tail (10 / 30 / 60 % of the classes by training frequency) from SynthMotion's
# long-tail design weights (x 1e4, ClassDistribution().to_list(), the expected frequency of each class
# in the order above): the multi-label top-1 hit accuracy per bucket.
synthmotion_class_weights = [1028, 450, 836, 366, 927, 130, 117, 754, 197, 106, 553, 178, 499, 160, 242,
                             680, 613, 144, 218, 298, 268, 330, 78, 86, 406, 96, 63, 57, 70, 51]
val_evaluator = [
    dict(type='RecognitionMetric', preset='multilabel', num_classes=30,
         class_counts=synthmotion_class_weights),
    dict(type='RetrievalMetric', preset='tmr', protocols=('all', 'batch32')),
]
test_evaluator = val_evaluator

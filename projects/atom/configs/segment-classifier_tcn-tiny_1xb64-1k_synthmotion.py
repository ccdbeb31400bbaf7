# Segment classifier of AToM's offline oracle reward (the learned event detector, docs/motion_prefer.md):
# a tiny dilated temporal-convolution classifier (MotionSegmentClassifier) of 32-frame (1.6 s)
# windows of SynthMotion joints, cut at the programs' known event spans (SynthMotionSegmentDataset,
# windows with >= 75 % of their frames inside the event, stride 4) and labelled by the event's
# primitive (SynthMotion's 30 classes). Heading-invariant body-frame features. About a minute on a
# CPU core:
#   python tools/train.py projects/atom/configs/segment-classifier_tcn-tiny_1xb64-1k_synthmotion.py
# then RecognizerEventDetector(classifier=<this config>, checkpoint=<work_dir>/iter_1000.pth,
# window=32, stride=4) finds the events of generated motions for SynthMotionOracleScorer.
_base_ = [
    '../../../configs/_base_/schedules/adamw_iter.py',
    '../../../configs/_base_/default_runtime.py',
]

window = 32
synthmotion_classes = [
    'walk', 'jog', 'run', 'side_step', 'turn', 'march', 'step_over', 'jump', 'hop',
    'jumping_jacks', 'squat', 'lunge', 'kick', 'balance', 'sit_down_stand_up', 'wave',
    'raise_arms', 'arm_circles', 'clap', 'punch', 'bow', 'throw', 'jump_shot', 'dribble', 'stand',
    'toe_touch', 'side_bend', 'torso_twist', 'stretch_up', 'head_gesture'
]

model = dict(
    type='MotionSegmentClassifier',
    num_classes=30,
    classes=synthmotion_classes,
    arch='tiny',
    skeleton='t2m22',
    dropout=0.1,
    label_smoothing=0.05,
    data_preprocessor=dict(type='MotionDataPreprocessor'))  # raw joints: the model normalises

dataset_type = 'SynthMotionSegmentDataset'
pipeline = [dict(type='PackMotionInputs', input_key='joints', gt_keys=())]
train_dataloader = dict(
    batch_size=64,
    num_workers=0,
    sampler=dict(type='InfiniteSampler', shuffle=True),
    collate_fn=dict(type='motionkit.motion_collate'),
    dataset=dict(type=dataset_type, num_motions=1000, seed=0, split='train', window=window,
                 stride=4, classes=synthmotion_classes, pipeline=pipeline))
val_dataloader = dict(
    batch_size=256,
    num_workers=0,
    sampler=dict(type='DefaultSampler', shuffle=False),
    collate_fn=dict(type='motionkit.motion_collate'),
    dataset=dict(type=dataset_type, num_motions=1000, seed=0, split='val', window=window,
                 stride=8, classes=synthmotion_classes, pipeline=pipeline, test_mode=True))
test_dataloader = dict(
    batch_size=256,
    num_workers=0,
    sampler=dict(type='DefaultSampler', shuffle=False),
    collate_fn=dict(type='motionkit.motion_collate'),
    dataset=dict(type=dataset_type, num_motions=1000, seed=0, split='test', window=window,
                 stride=8, classes=synthmotion_classes, pipeline=pipeline, test_mode=True))
val_evaluator = [dict(type='RecognitionMetric', preset='default')]
test_evaluator = val_evaluator

optim_wrapper = dict(optimizer=dict(lr=3e-3, weight_decay=1e-4))
param_scheduler = [
    dict(type='LinearLR', start_factor=0.1, by_epoch=False, begin=0, end=50),
    dict(type='CosineAnnealingLR', by_epoch=False, begin=50, end=1000, eta_min=1e-5),
]
train_cfg = dict(type='IterBasedTrainLoop', max_iters=1000, val_interval=500)
default_hooks = dict(
    logger=dict(type='LoggerHook', interval=100),
    checkpoint=dict(type='CheckpointHook', by_epoch=False, interval=500, max_keep_ckpts=1,
                    save_best=None))
log_processor = dict(by_epoch=False)

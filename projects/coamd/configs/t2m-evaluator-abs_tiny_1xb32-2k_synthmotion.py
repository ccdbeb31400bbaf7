# The in-house text-to-motion evaluator on absolute joint coordinates (CoAMD sec. 4, tables 1/8:
# MARDM / ACMDM / CoAMD retrain Guo et al.'s evaluator for their absolute-coordinate generators),
# tiny, on SynthMotion, CPU. Guo et al.'s architecture (movement convolutions + GRUs, hinge loss)
# reading the 22 x 3 joints in metres, flattened, normalised by the train split's per-coordinate
# statistics (JointStatsHook), no foot-contact channels to drop. Its embeddings give R-precision,
# FID, MM-Dist, Diversity, MultiModality and the CLIP-score of the generated motions
# (coamd*_tiny configs' T2MGenerationMetric).
#   python tools/train.py projects/coamd/configs/t2m-evaluator-abs_tiny_1xb32-2k_synthmotion.py
_base_ = [
    '../../../configs/_base_/datasets/synthmotion.py',
    '../../../configs/_base_/schedules/adamw_iter.py',
    '../../../configs/_base_/default_runtime.py',
]

model = dict(
    type='T2MEvaluator',
    feature_dim=66,  # t2m22 x (x, y, z)
    contact_dims=0,
    movement_hidden=128,
    movement_dim=128,
    motion_hidden=128,
    text_hidden=128,
    embed_dim=128,
    word_dim=64,
    num_word_buckets=4096,
    loss='hinge',
    margin=10.0,
    data_preprocessor=dict(type='MotionDataPreprocessor'))  # raw joints: the model normalises

train_pipeline = [
    dict(type='LoadMotion', with_motion=False, with_joints=True),
    dict(type='SampleCaption'),
    dict(type='CropMotion', max_length=196, unit_length=4, keys=('joints', )),
    dict(type='PackMotionInputs', input_key='joints', gt_keys=()),
]
test_pipeline = [
    dict(type='LoadMotion', with_motion=False, with_joints=True),
    dict(type='SampleCaption', test_mode=True),
    dict(type='CropMotion', max_length=196, unit_length=4, keys=('joints', ), test_mode=True),
    dict(type='PackMotionInputs', input_key='joints', gt_keys=()),
]
train_dataloader = dict(
    sampler=dict(type='InfiniteSampler', shuffle=True),
    dataset=dict(split='train', with_joints=True, pipeline=train_pipeline))
val_dataloader = dict(dataset=dict(split='val', with_joints=True, pipeline=test_pipeline))
test_dataloader = dict(dataset=dict(split='test', with_joints=True, pipeline=test_pipeline))

optim_wrapper = dict(optimizer=dict(lr=1e-3))
param_scheduler = [
    dict(type='LinearLR', start_factor=0.1, by_epoch=False, begin=0, end=100),
    dict(type='CosineAnnealingLR', by_epoch=False, begin=100, end=2000, eta_min=1e-5),
]
train_cfg = dict(type='IterBasedTrainLoop', max_iters=2000, val_interval=500)

# Real test pairs in the evaluator's own space: R-precision (batches of 32) / MM-Dist / Diversity
# (T2MMetric; SynthMotion's ~150 test motions take 100 diversity pairs), and text <-> motion
# retrieval with the same protocol as the MAR's (RetrievalMetric 'tmr', cosine, R@k), so the two
# can be compared on the same split.
val_evaluator = [
    dict(type='T2MMetric', preset='mardm', replications=5, mm_num_texts=0, diversity_times=16,
         small_set_diversity_times=16),  # the ~56 val motions make one batch of 32
    dict(type='RetrievalMetric', preset='tmr', protocols=('all', 'batch32'),
         motion_key='gt_motion_embedding'),
]
test_evaluator = [
    dict(type='T2MMetric', preset='mardm', mm_num_texts=0),
    dict(type='RetrievalMetric', preset='tmr', protocols=('all', 'batch32'),
         motion_key='gt_motion_embedding'),
]

custom_hooks = [dict(type='JointStatsHook')]
default_hooks = dict(
    logger=dict(type='LoggerHook', interval=50),
    checkpoint=dict(type='CheckpointHook', interval=500, by_epoch=False, max_keep_ckpts=2,
                    save_best='t2m/gt/r_precision_top3', rule='greater'))
log_processor = dict(by_epoch=False)

# The in-house text-to-motion evaluator on absolute joint coordinates (CoAMD sec. 4, tables 1/8:
# MARDM / ACMDM / CoAMD retrain Guo et al.'s evaluator for their absolute-coordinate generators),
# tiny, on SynthMotion, CPU. Guo et al.'s architecture (movement convolutions + GRUs, hinge loss)
# reading the 22 x 3 joints in metres, flattened, normalised by the train split's per-coordinate
# statistics (JointStatsHook), no foot-contact channels to drop. Its embeddings give R-precision,
# FID, MM-Dist, Diversity, MultiModality and the CLIP-score of the generated motions
# (coamd*_tiny configs' T2MGenerationMetric).
#   python tools/train.py projects/coamd/configs/t2m-evaluator-abs_tiny_1xb32-2k_synthmotion.py
_base_ = ['../../../configs/t2m_evaluator/t2m-evaluator_tiny_1xb32-2k_synthmotion.py']

# the tiny evaluator's widths and loss; 66 raw coordinates in, no foot-contact channels to drop
model = dict(feature_dim=66, contact_dims=0)

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

custom_hooks = [dict(type='JointStatsHook')]  # per-coordinate statistics (the base: HumanML3D's)

# CigTime triplets (source motion, corrective instruction, target motion) built from SynthMotion by
# tools/data/build_cigtime_triplets.py. projects/cigtime/run_pipeline.py writes every stage under
# $CIGTIME_WORK_DIR (default work_dirs/cigtime_tiny): triplets/, tokenizer/tokenizer.pth,
# editor_upper/editor_upper.pth, editor_lower/editor_lower.pth, ... Point a stage elsewhere with
# CIGTIME_WORK_DIR=... or --cfg-options.
dataset_type = 'CigTimeTripletDataset'

train_pipeline = [
    dict(type='LoadMotionPair', max_length=196),
    dict(type='PackMotionPairInputs', response_key='instructions'),
]
test_pipeline = [
    dict(type='LoadMotionPair', with_joints=True, max_length=196),
    dict(type='PackMotionPairInputs', response_key='instruction', test_mode=True),
]

train_dataloader = dict(
    batch_size=32,
    num_workers=0,
    sampler=dict(type='InfiniteSampler', shuffle=True),
    collate_fn=dict(type='motionkit.motion_pair_collate'),
    dataset=dict(type=dataset_type, data_root='{{$CIGTIME_WORK_DIR:work_dirs/cigtime_tiny}}/triplets',
                 split='train', body_part_prefix=True, pipeline=train_pipeline))
test_dataloader = dict(
    batch_size=32,
    num_workers=0,
    sampler=dict(type='DefaultSampler', shuffle=False),
    collate_fn=dict(type='motionkit.motion_pair_collate'),
    dataset=dict(type=dataset_type, data_root='{{$CIGTIME_WORK_DIR:work_dirs/cigtime_tiny}}/triplets',
                 split='test', body_part_prefix=True, pipeline=test_pipeline, test_mode=True))

# CigTime's evaluation: instruction quality against the ground-truth instruction (scripts/text_eval.py
# of the CigTime code: sentence BLEU-4 with smoothing method1, ROUGE-1 F, nltk METEOR, text-embedding
# cosine), scored after the "Upper body:" opening (two words every right-part instruction shares) and
# reconstruction accuracy (Table 3): the source edited with the generated instruction by
# SynthMotion's exact editor (all triplets) and by the tiny MDM editor (one SourceConditionedMDM per
# body part behind BodyPartEditorRouter; MDM edits by body-part masks: the upper- and lower-body
# triplets), MPJPE against the target. Each editor is told the body part the generated instruction
# names, never the triplet's. Two checks of what the text metrics reward (issue #18): whether the
# instruction names the triplet's SynthMotion edit whatever its phrasing (operator accuracy), and
# how many outputs are verbatim training instructions (val / test phrasings are held out).
cigtime_evaluators = [
    dict(type='CaptionMetric', preset='cigtime', pred_key='pred_instruction', gt_keys=('gt_instruction', ),
         strip_body_part=True),
    dict(type='EditOperatorAccuracyMetric'),
    dict(type='InstructionNoveltyMetric',
         train_ann_file='{{$CIGTIME_WORK_DIR:work_dirs/cigtime_tiny}}/triplets/triplets.jsonl'),
    dict(type='InstructionReconstructionMetric', editor=dict(type='SynthMotionExactEditor'),
         prefix='recon_exact'),
    dict(type='InstructionReconstructionMetric',
         editor='projects/cigtime/configs/mdm-source-editor-parts_tiny_synthmotion.py',
         body_parts=('upper_body', 'lower_body'), batch_size=64, prefix='recon_mdm'),
]
# the ground-truth-instruction rows (the editors' ceilings) come from
# control-reference-instruction_synthmotion.py, which predicts the reference instruction
test_evaluator = cigtime_evaluators

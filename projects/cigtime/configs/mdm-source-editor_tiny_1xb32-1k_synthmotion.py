# An instruction-conditioned editor that also reads the source (SourceConditionedMDM): MDM's tiny
# denoiser with the source motion added to every frame token and x0 predicted as a residual on the
# source, trained on the (source, instruction, target) triplets. It edits like MDM (body-part keep
# masks overwritten at every step, <= 50 DDIM steps, eq. 5 post-blend) through edit_instructions,
# so it drops into InstructionReconstructionMetric in place of the plain MDM editor.
_base_ = ['./mdm-editor_tiny_1xb32-1k_synthmotion.py']

model = dict(
    type='SourceConditionedMDM',
    data_preprocessor=dict(
        _delete_=True,
        type='MotionPairDataPreprocessor',
        mean_path='{{$CIGTIME_WORK_DIR:work_dirs/cigtime_tiny}}/triplets/Mean.npy',
        std_path='{{$CIGTIME_WORK_DIR:work_dirs/cigtime_tiny}}/triplets/Std.npy'))

train_pipeline = [
    dict(type='LoadMotionPair', max_length=196),
    dict(type='PackMotionPairInputs', response_key='instructions'),
]
train_dataloader = dict(
    collate_fn=dict(type='motionkit.motion_pair_collate'),
    dataset=dict(pipeline=train_pipeline))

# CigTime baseline (Table 1): nearest-neighbour retrieval. Each test pair gets the instruction of
# the training triplet whose (source, target) pair is nearest in normalised-feature statistics.
# Nothing is trained: python tools/test.py projects/cigtime/configs/nn-retrieval_1xb32_synthmotion.py none
_base_ = [
    './_base_/cigtime_triplets_synthmotion.py',
    '../../../configs/_base_/default_runtime.py',
]

model = dict(
    type='NearestNeighbourInstructionRetrieval',
    train_dataset=dict(
        type='CigTimeTripletDataset',
        data_root='{{$CIGTIME_WORK_DIR:work_dirs/cigtime_tiny}}/triplets',
        split='train',
        body_part_prefix=True,
        pipeline=[
            dict(type='LoadMotionPair', max_length=196),
            dict(type='PackMotionPairInputs', response_key='instruction', test_mode=True),
        ]),
    metric='cosine',
    data_preprocessor=dict(type='MotionPairDataPreprocessor'))
test_cfg = dict(type='TestLoop')
train_dataloader = None  # training-free
train_cfg = None
optim_wrapper = None

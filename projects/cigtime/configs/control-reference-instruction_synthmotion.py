# Control rows of the CigTime table (issue #18): the reference instruction itself (the editors'
# ceiling) and damaged copies of it, scored by the same evaluators as every method. A metric worth
# reading ranks the damaged ones clearly below the reference. Nothing is trained:
#   python tools/test.py projects/cigtime/configs/control-reference-instruction_synthmotion.py none \
#       --cfg-options model.control=shuffled      # reference | shuffled | truncated | other_triplet | nonsense
_base_ = [
    './_base_/cigtime_triplets_synthmotion.py',
    '../../../configs/_base_/default_runtime.py',
]

model = dict(type='ReferenceInstructionControl', control='reference', seed=0,
             data_preprocessor=dict(type='MotionPairDataPreprocessor'))
test_cfg = dict(type='TestLoop')
train_dataloader = None  # training-free
train_cfg = None
optim_wrapper = None

# CigTime baseline (Table 1): caption of the target. A MotionGPT-style motion-to-text model (the
# same frozen tokenizer + tiny Llama) is trained to caption a motion -- the targets of the training
# triplets with their SynthMotion captions -- and its caption of the test target is used as the
# instruction.
_base_ = ['./cigtime_tiny_1xb32-1k_synthmotion.py']

model = dict(llm=dict(template='caption', anchor_weight=0.0))
train_pipeline = [
    dict(type='LoadMotionPair', max_length=196),
    dict(type='PackMotionPairInputs', response_key='target_captions'),
]
train_dataloader = dict(dataset=dict(pipeline=train_pipeline))
test_evaluator = {{_base_.cigtime_evaluators}}

# CigTime baseline (Table 1): caption of the target, with the motion input of the best variant.
# caption-of-target_tiny_1xb32-1k_synthmotion.py reads the target as decimal motion tokens; here
# the same tiny Llama (tokenizer, schedule) reads the target step by step as
# cigtime-pair-features_tiny_1xb32-1k_synthmotion.py reads a pair: one input position per 4-frame
# step k carrying t_k, the target's normalised features (continuous strategy, a learned projection),
# and nothing of the source. It is trained to caption the targets of the training triplets with
# their SynthMotion captions; its caption of the test target is the instruction. The motion
# tokenizer only sets the 4-frame step: no tokenizer checkpoint.
_base_ = ['./cigtime_tiny_1xb32-1k_synthmotion.py']

model = dict(
    tokenizer_checkpoint=None,
    continuous_input='features',
    llm=dict(template='caption', anchor_weight=0.0, motion_token_strategy='continuous',
             continuous_dim=4 * 263))
train_pipeline = [
    dict(type='LoadMotionPair', max_length=196),
    dict(type='PackMotionPairInputs', response_key='target_captions'),
]
train_dataloader = dict(dataset=dict(pipeline=train_pipeline))

# instruction quality and reconstruction through both editors (the ground-truth-instruction rows
# are the same for every method: the pipeline takes them from the Fig. 2 model's evaluation)
test_evaluator = {{_base_.cigtime_evaluators}}

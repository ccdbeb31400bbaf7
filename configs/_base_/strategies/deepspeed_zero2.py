# DeepSpeed ZeRO-2 through mmengine's FlexibleRunner (needs `pip install deepspeed`).
runner_type = 'FlexibleRunner'
strategy = dict(
    type='DeepSpeedStrategy',
    fp16=dict(enabled=False),
    bf16=dict(enabled=True),
    zero_optimization=dict(
        stage=2, allgather_partitions=True, reduce_scatter=True, allgather_bucket_size=5e8,
        reduce_bucket_size=5e8, overlap_comm=True, contiguous_gradients=True),
    gradient_clipping=1.0)
optim_wrapper = dict(type='DeepSpeedOptimWrapper')

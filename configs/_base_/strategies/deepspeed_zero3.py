# DeepSpeed ZeRO-3 through mmengine's FlexibleRunner (parameters, gradients and optimizer states
# sharded; needs `pip install deepspeed`). Not run on CPU in the test suite (ZeRO-0/2 were; see
# ENVIRONMENT_NOTES).
runner_type = 'FlexibleRunner'
strategy = dict(
    type='DeepSpeedStrategy',
    fp16=dict(enabled=False),
    bf16=dict(enabled=True),
    zero_optimization=dict(
        stage=3, overlap_comm=True, contiguous_gradients=True, reduce_bucket_size=5e8,
        stage3_prefetch_bucket_size=5e8, stage3_param_persistence_threshold=1e6,
        stage3_gather_16bit_weights_on_model_save=True),
    gradient_clipping=1.0)
optim_wrapper = dict(type='DeepSpeedOptimWrapper')

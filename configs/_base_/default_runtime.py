# Runtime shared by every motionkit config.
default_scope = 'motionkit'

default_hooks = dict(
    timer=dict(type='IterTimerHook'),
    logger=dict(type='LoggerHook', interval=50),
    param_scheduler=dict(type='ParamSchedulerHook'),
    checkpoint=dict(type='CheckpointHook', interval=1, max_keep_ckpts=3, save_best='auto'),
    sampler_seed=dict(type='DistSamplerSeedHook'),
    # renders gt | prediction of the first samples; `tools/test.py --show-dir DIR` switches it on
    visualization=dict(type='MotionVisualizationHook', enable=False),
    # torch build, CPU vector kernels, threads and device into the log and checkpoint meta: the
    # inputs of the numbers besides config, seed and data (docs/reproducibility.md)
    numeric_env=dict(type='NumericEnvironmentHook'),
)

env_cfg = dict(
    cudnn_benchmark=False,
    mp_cfg=dict(mp_start_method='fork', opencv_num_threads=0),
    # gloo works on every machine; GPU jobs switch to nccl with --cfg-options env_cfg.dist_cfg.backend=nccl
    # (tools/dist_train.sh does this automatically when CUDA is present).
    dist_cfg=dict(backend='nccl'),
)

# DDP that also works for CPU modules (mmengine always passes device_ids).
# The scope prefix is needed: mmengine looks the wrapper type up in its root registry.
model_wrapper_cfg = dict(type='motionkit.CPUCompatibleDDP', find_unused_parameters=False)

vis_backends = [dict(type='LocalVisBackend'), dict(type='TensorboardVisBackend')]
visualizer = dict(type='Visualizer', vis_backends=vis_backends)

log_processor = dict(type='LogProcessor', window_size=10, by_epoch=True)
log_level = 'INFO'
load_from = None
resume = False

randomness = dict(seed=0, deterministic=False)

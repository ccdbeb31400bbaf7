# Data parallel through mmengine's FlexibleRunner (same result as the default Runner + DDP).
runner_type = 'FlexibleRunner'
strategy = dict(type='DDPStrategy', model_wrapper=dict(type='motionkit.CPUCompatibleDDP'))

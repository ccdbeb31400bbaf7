# ExpertAF at paper scale with DeepSpeed ZeRO-3 instead of FSDP (needs `pip install deepspeed`): the
# model, data and schedule of expertaf_llama3-8b-full_8xb4-3e_expertaf.py; parameters, gradients and
# optimizer states sharded (configs/_base_/strategies/deepspeed_zero3.py's settings, bf16).
#   tools/dist_train.sh projects/expertaf/configs/expertaf_llama3-8b-full-zero3_8xb4-3e_expertaf.py 8 \
#       --cfg-options model.backbone.pretrained=... (as the FSDP config)
_base_ = ['./expertaf_llama3-8b-full_8xb4-3e_expertaf.py']

runner_type = 'FlexibleRunner'
strategy = dict(
    _delete_=True,
    type='DeepSpeedStrategy',
    fp16=dict(enabled=False),
    bf16=dict(enabled=True),
    zero_optimization=dict(
        stage=3, overlap_comm=True, contiguous_gradients=True, reduce_bucket_size=5e8,
        stage3_prefetch_bucket_size=5e8, stage3_param_persistence_threshold=1e6,
        stage3_gather_16bit_weights_on_model_save=True),
    gradient_clipping=1.0)
# DeepSpeed owns mixed precision and clipping: its optimizer wrapper replaces the AMP one
optim_wrapper = dict(_delete_=True, type='DeepSpeedOptimWrapper',
                     optimizer=dict(type='AdamW', lr=2e-5, betas=(0.9, 0.999), weight_decay=0.0),
                     paramwise_cfg=dict(bypass_duplicate=True,
                                        custom_keys={'pose_token_embed': dict(lr_mult=0.1),
                                                     'pose_token_head': dict(lr_mult=0.1)}))

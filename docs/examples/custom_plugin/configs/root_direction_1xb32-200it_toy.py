# Worked example of a custom plugin: everything in `my_motion_plugin.py`, loaded by custom_imports.
# Run from the repository root:
#   PYTHONPATH=docs/examples/custom_plugin python tools/train.py \
#       docs/examples/custom_plugin/configs/root_direction_1xb32-200it_toy.py
_base_ = ['../../../../configs/_base_/default_runtime.py']

custom_imports = dict(imports=['my_motion_plugin'], allow_failed_imports=False)

model = dict(type='RootDirectionClassifier', num_frames=16, hidden=32)

train_dataloader = dict(
    batch_size=32, num_workers=0,
    sampler=dict(type='DefaultSampler', shuffle=True),
    collate_fn=dict(type='pseudo_collate'),
    dataset=dict(type='RootDirectionDataset', num_samples=512, seed=0))
val_dataloader = dict(
    batch_size=32, num_workers=0,
    sampler=dict(type='DefaultSampler', shuffle=False),
    collate_fn=dict(type='pseudo_collate'),
    dataset=dict(type='RootDirectionDataset', num_samples=100, seed=1))
test_dataloader = val_dataloader
val_evaluator = dict(type='DirectionAccuracy')
test_evaluator = val_evaluator

optim_wrapper = dict(type='OptimWrapper', optimizer=dict(type='Adam', lr=1e-2))
param_scheduler = []
train_cfg = dict(type='IterBasedTrainLoop', max_iters=200, val_interval=100)
val_cfg = dict(type='ValLoop')
test_cfg = dict(type='TestLoop')

default_hooks = dict(
    logger=dict(type='LoggerHook', interval=20),
    checkpoint=dict(type='CheckpointHook', interval=100, by_epoch=False, max_keep_ckpts=2,
                    save_best=None))
log_processor = dict(by_epoch=False)
randomness = dict(seed=0, deterministic=True)

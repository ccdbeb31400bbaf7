# CoAMD's multi-modal action recognizer (MAR) at paper scale on HumanML3D with K = 400 action
# classes (sec. 3.1, 4.1): the "paper" size preset (512-d tokens, 8 blocks, 8 heads, MLP 1024,
# dropout 0.2: the widths of the released recognizer), CLIP ViT-B/32's frozen text tower (512-d),
# InfoNCE of eq. 1 over {e_j, e_b, e_m, e_f} x {caption, class label}, batch 32, AdamW lr 1e-4,
# betas (0.9, 0.99), no weight decay, 400 epochs (the reference training script's settings).
#
# Needs: HumanML3D with new_joints/ under data/humanml3d; a local CLIP folder (e.g.
# openai/clip-vit-base-patch32 saved with save_pretrained) at checkpoints/clip-vit-base-patch32;
# the 400 action classes built from the captions (docs/recognizers.md, "Action classes from
# captions"):
#   python tools/data/build_action_classes.py data/humanml3d --k 400 --route pos --seed 0 \
#       --out data/humanml3d_action_classes
# whose label_map.txt holds the class texts the recognizer scores against.
#   python tools/train.py projects/coamd/configs/mar_paper_1xb32-400e_humanml3d.py
_base_ = ['../../../configs/_base_/default_runtime.py']

paper_scale = True
data_root = 'data/humanml3d'
labels_dir = 'data/humanml3d_action_classes'

model = dict(
    type='MultimodalActionRecognizer',
    arch='paper',
    streams=('joint', 'bone', 'motion'),
    text_encoder=dict(type='HFTextEncoder', model_path='checkpoints/clip-vit-base-patch32',
                      embed_dim=512, pooling='clip', max_length=77),
    class_texts=labels_dir + '/label_map.txt',
    num_classes=400,
    temperature=dict(caption=0.1, label=0.4),
    false_negative_threshold=0.9,
    loss_weights=dict(caption=1.0, label=0.5),  # the reference code's caption + 0.5 x recognition
    data_preprocessor=dict(type='MotionDataPreprocessor'))

train_pipeline = [
    dict(type='LoadMotion', with_motion=False, with_joints=True),
    dict(type='SampleCaption'),
    dict(type='CropMotion', max_length=196, unit_length=4, keys=('joints', )),
    dict(type='LoadActionLabels', labels_dir=labels_dir),
    dict(type='PackMotionInputs', input_key='joints', gt_keys=()),
]
test_pipeline = [
    dict(type='LoadMotion', with_motion=False, with_joints=True),
    dict(type='SampleCaption', test_mode=True),
    dict(type='CropMotion', max_length=196, unit_length=4, keys=('joints', ), test_mode=True),
    dict(type='LoadActionLabels', labels_dir=labels_dir),
    dict(type='PackMotionInputs', input_key='joints', gt_keys=()),
]
train_dataloader = dict(
    batch_size=32,
    num_workers=4,
    persistent_workers=True,
    drop_last=True,
    sampler=dict(type='DefaultSampler', shuffle=True),
    collate_fn=dict(type='motionkit.motion_collate'),
    dataset=dict(type='HumanML3DDataset', data_root=data_root, ann_file='train.txt',
                 with_joints=True, pipeline=train_pipeline))
val_dataloader = dict(
    batch_size=32,
    num_workers=4,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=False),
    collate_fn=dict(type='motionkit.motion_collate'),
    dataset=dict(type='HumanML3DDataset', data_root=data_root, ann_file='val.txt',
                 with_joints=True, pipeline=test_pipeline, test_mode=True))
test_dataloader = dict(
    batch_size=32,
    num_workers=4,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=False),
    collate_fn=dict(type='motionkit.motion_collate'),
    dataset=dict(type='HumanML3DDataset', data_root=data_root, ann_file='test.txt',
                 with_joints=True, pipeline=test_pipeline, test_mode=True))
val_evaluator = [
    dict(type='RecognitionMetric', preset='multilabel', num_classes=400),
    dict(type='RetrievalMetric', preset='tmr', protocols=('all', 'batch32')),
]
test_evaluator = val_evaluator

optim_wrapper = dict(
    type='OptimWrapper',
    optimizer=dict(type='AdamW', lr=1e-4, betas=(0.9, 0.99), weight_decay=0.0))
param_scheduler = []
train_cfg = dict(type='EpochBasedTrainLoop', max_epochs=400, val_interval=10)
val_cfg = dict(type='ValLoop')
test_cfg = dict(type='TestLoop')
default_hooks = dict(
    checkpoint=dict(type='CheckpointHook', interval=10, max_keep_ckpts=3,
                    save_best='recognition/mAP', rule='greater'))
auto_scale_lr = dict(enable=False, base_batch_size=32)

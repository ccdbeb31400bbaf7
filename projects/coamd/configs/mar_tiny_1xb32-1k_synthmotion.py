# CoAMD's multi-modal action recognizer (MAR, sec. 3.1, eq. 1, fig. 3), tiny, on SynthMotion, CPU:
# joint + bone + motion streams of the absolute joint coordinates, a shallow projection per stream,
# a factorised spatio-temporal transformer, per-stream embeddings e_j, e_b, e_m and a fused e_f in
# the space of the frozen offline MiniLM text encoder; InfoNCE (eq. 1) of every motion embedding
# against the caption and against the class-label text, false negatives filtered at the reference
# code's threshold. Validation: multi-label mAP of the class-text scores, and retrieval.
#   python tools/train.py projects/coamd/configs/mar_tiny_1xb32-1k_synthmotion.py
_base_ = [
    '_base_/mar_synthmotion.py',
    '../../../configs/_base_/schedules/adamw_iter.py',
    '../../../configs/_base_/default_runtime.py',
]

model = dict(
    type='MultimodalActionRecognizer',
    arch='tiny',
    streams=('joint', 'bone', 'motion'),
    text_encoder=dict(type='MiniLMSentenceEncoder'),
    class_texts=[
        'walk', 'jog', 'run', 'side step', 'turn', 'march', 'step over', 'jump', 'hop',
        'jumping jacks', 'squat', 'lunge', 'kick', 'balance', 'sit down stand up', 'wave',
        'raise arms', 'arm circles', 'clap', 'punch', 'bow', 'throw', 'jump shot', 'dribble',
        'stand', 'toe touch', 'side bend', 'torso twist', 'stretch up', 'head gesture'
    ],
    num_classes=30,
    # the reference code's values: tau 0.1 (captions) / 0.4 (class labels), threshold 0.9
    temperature=dict(caption=0.1, label=0.4),
    false_negative_threshold=0.9,
    loss_weights=dict(caption=1.0, label=0.5),  # the reference code's caption + 0.5 x recognition
    data_preprocessor=dict(type='MotionDataPreprocessor'))  # raw joints: the model normalises

optim_wrapper = dict(optimizer=dict(lr=1e-3, weight_decay=0.0))
param_scheduler = [
    dict(type='LinearLR', start_factor=0.1, by_epoch=False, begin=0, end=50),
    dict(type='CosineAnnealingLR', by_epoch=False, begin=50, end=1000, eta_min=1e-5),
]
train_cfg = dict(type='IterBasedTrainLoop', max_iters=1000, val_interval=250)

default_hooks = dict(
    logger=dict(type='LoggerHook', interval=50),
    checkpoint=dict(type='CheckpointHook', by_epoch=False, interval=250, max_keep_ckpts=2,
                    save_best='recognition/mAP', rule='greater'))
log_processor = dict(by_epoch=False)

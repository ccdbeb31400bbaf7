# Supervised baseline beside the tiny MAR: the same multi-stream encoder (tiny preset) with a
# linear classifier head (mmaction2's RecognizerGCN + GCNHead pattern), trained on SynthMotion's
# multi-label action classes with binary cross-entropy; no text. For a linear probe of a trained
# MAR, set freeze_encoder=True and load its encoder:
#   --cfg-options model.freeze_encoder=True model.encoder.init_cfg.type=Pretrained \
#     model.encoder.init_cfg.checkpoint=work_dirs/mar_tiny_1xb32-1k_synthmotion/iter_1000.pth \
#     model.encoder.init_cfg.prefix=encoder.
_base_ = [
    '_base_/mar_synthmotion.py',
    '../../../configs/_base_/schedules/adamw_iter.py',
    '../../../configs/_base_/default_runtime.py',
]

model = dict(
    type='SupervisedActionRecognizer',
    num_classes=30,
    arch='tiny',
    streams=('joint', 'bone', 'motion'),
    out_dims=384,  # the MAR's (MiniLM) embedding size, so a MAR checkpoint's encoder fits
    features='pooled',
    head=dict(dropout=0.1),
    loss='bce',
    freeze_encoder=False,
    encoder=dict(),
    data_preprocessor=dict(type='MotionDataPreprocessor'))

val_evaluator = [dict(type='RecognitionMetric', preset='multilabel', num_classes=30,
                      class_counts={{_base_.synthmotion_class_weights}})]
test_evaluator = val_evaluator

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

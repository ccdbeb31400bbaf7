# SourceConditionedMDM trained on the lower-body triplets only: one editor per body part, used
# together through BodyPartEditorRouter (mdm-source-editor-parts_tiny_synthmotion.py). Trained
# alone on its part, the tiny editor learns that part's edits; trained on both parts together it
# learns neither (docs/editors.md has the measured numbers).
#   python tools/train.py projects/cigtime/configs/mdm-source-editor-lower_tiny_1xb32-2k_synthmotion.py \
#       --work-dir work_dirs/cigtime_tiny/editor_lower
_base_ = ['./mdm-source-editor_tiny_1xb32-1k_synthmotion.py']

# What makes lower-body edits land (docs/editors.md, "Lower-body edits"):
# * source_gate: the residual may scale the source per frame and feature (a walk backward instead
#   of forward, longer steps: root velocities times a factor);
# * root_loss_weight=100: the root's 7 features carry the whole trajectory, whose small errors
#   integrate into drift of every joint;
# * edit_num_inference_steps=1: the edit is the denoiser's x0 prediction from pure noise. The
#   denoiser predicts the right change at the first step, and later steps, which read the model's
#   own partly wrong x_t, pull it back toward the source (measured with dropout 0.1: 407.6 mm with
#   one step, 487.1 with 50, against 500.3 for the source; this config: 366.4 with one step);
# * guidance 1 and no dropout (dropout costs a third of the training time and does not help).
model = dict(source_gate=True, root_loss_weight=100.0, edit_num_inference_steps=1,
             guidance_scale=1.0, dropout=0.0)
train_dataloader = dict(dataset=dict(body_parts=('lower_body', )))
param_scheduler = [
    dict(type='LinearLR', start_factor=0.1, by_epoch=False, begin=0, end=100),
    dict(type='CosineAnnealingLR', by_epoch=False, begin=100, end=2000, eta_min=1e-5),
]
train_cfg = dict(type='IterBasedTrainLoop', max_iters=2000, val_interval=100000)
default_hooks = dict(checkpoint=dict(interval=2000))

# SourceConditionedMDM trained on the upper-body triplets only: one editor per body part, used
# together through BodyPartEditorRouter (mdm-source-editor-parts_tiny_synthmotion.py). Trained
# alone on its part, the tiny editor learns that part's edits; trained on both parts together it
# learns neither (docs/editors.md has the measured numbers).
#   python tools/train.py projects/cigtime/configs/mdm-source-editor-upper_tiny_1xb32-1k_synthmotion.py \
#       --work-dir work_dirs/cigtime_tiny/editor_upper
_base_ = ['./mdm-source-editor_tiny_1xb32-1k_synthmotion.py']

# source_gate / source_mirror: the residual may scale the source and move toward its left-right
# mirror ("the other hand"). Guidance 1 (the conditional prediction alone) edits better than 2.5,
# and without dropout the 1,000 iterations take a third less time. docs/editors.md: 25.2 mm against
# 35.6 for the unedited source on the quick-start test triplets (30.0 for the plain residual with
# 2,000 iterations).
model = dict(source_gate=True, source_mirror=True, dropout=0.0, guidance_scale=1.0)
train_dataloader = dict(dataset=dict(body_parts=('upper_body', )))

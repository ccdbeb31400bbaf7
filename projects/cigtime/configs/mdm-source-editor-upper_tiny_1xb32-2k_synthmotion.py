# SourceConditionedMDM trained on the upper-body triplets only: one editor per body part, used
# together through BodyPartEditorRouter (mdm-source-editor-parts_tiny_synthmotion.py). Trained
# alone on its part, the tiny editor learns that part's edits; trained on both parts together it
# learns neither (docs/editors.md has the measured numbers). Same recipe as the lower-body editor.
#   python tools/train.py projects/cigtime/configs/mdm-source-editor-upper_tiny_1xb32-2k_synthmotion.py \
#       --work-dir work_dirs/cigtime_tiny/editor_upper
_base_ = ['./mdm-source-editor-lower_tiny_1xb32-2k_synthmotion.py']

# guidance 1 (the conditional prediction alone) edits the upper body better than 2.5: 30.0 against
# 33.2 mm on the quick-start test triplets, 27.2 against 31.8 mm on a 3x larger build
model = dict(guidance_scale=1.0)
train_dataloader = dict(dataset=dict(body_parts=('upper_body', )))

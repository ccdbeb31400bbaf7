# The per-body-part instruction editor: upper-body sources go to the upper-body SourceConditionedMDM,
# lower-body sources to the lower-body one (BodyPartEditorRouter). It is the MDM editor of the
# CigTime evaluation (InstructionReconstructionMetric) and of the quick-start pipeline, whose
# editor_upper / editor_lower stages train the two and copy their checkpoints to the paths below.
# Nothing to train here; by hand:
#   python tools/train.py projects/cigtime/configs/mdm-source-editor-upper_tiny_1xb32-1k_synthmotion.py \
#       --work-dir work_dirs/cigtime_tiny/editor_upper   # then copy iter_1000.pth to editor_upper.pth
#   (the same for the lower-body config and editor_lower/editor_lower.pth)
#   python benchmarks/bench_mdm_editing.py --triplets work_dirs/cigtime_tiny/triplets \
#       --config projects/cigtime/configs/mdm-source-editor-parts_tiny_synthmotion.py --checkpoint none
_part = 'projects/cigtime/configs/mdm-source-editor-{}_tiny_1xb32-{}_synthmotion.py'
_ckpt = '{{$CIGTIME_WORK_DIR:work_dirs/cigtime_tiny}}/editor_{0}/editor_{0}.pth'
model = dict(
    type='BodyPartEditorRouter',
    editors=dict(
        upper_body=dict(config=_part.format('upper', '1k'), checkpoint=_ckpt.format('upper')),
        lower_body=dict(config=_part.format('lower', '2k'), checkpoint=_ckpt.format('lower'))),
    # an instruction naming no body part is sent as whole_body: no editor, the source stays as it is
    unrouted='source')

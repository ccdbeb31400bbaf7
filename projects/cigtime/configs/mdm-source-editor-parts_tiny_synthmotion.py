# The per-body-part instruction editor: upper-body sources go to the upper-body SourceConditionedMDM,
# lower-body sources to the lower-body one (BodyPartEditorRouter). Nothing to train here: train
# the two editors, then use this config wherever an editor config goes (no checkpoint of its own):
#   python benchmarks/bench_mdm_editing.py --triplets work_dirs/cigtime_tiny/triplets \
#       --config projects/cigtime/configs/mdm-source-editor-parts_tiny_synthmotion.py --checkpoint none
_part = 'projects/cigtime/configs/mdm-source-editor-{}_tiny_1xb32-2k_synthmotion.py'
_ckpt = '{{$CIGTIME_WORK_DIR:work_dirs/cigtime_tiny}}/editor_{}/iter_2000.pth'
model = dict(
    type='BodyPartEditorRouter',
    editors=dict(
        upper_body=dict(config=_part.format('upper'), checkpoint=_ckpt.format('upper')),
        lower_body=dict(config=_part.format('lower'), checkpoint=_ckpt.format('lower'))))

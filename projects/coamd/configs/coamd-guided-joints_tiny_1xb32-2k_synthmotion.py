# Baseline: recognizer guidance from the joint stream only (w_joint = 1, every other embedding 0),
# otherwise as coamd-guided_tiny_1xb32-2k_synthmotion.py (same generator weights). A recognizer
# trained on joints only (table 7's "J") plugs in through recognizer / recognizer_checkpoint.
_base_ = ['./coamd_tiny_1xb32-2k_synthmotion.py']

model = dict(
    recognizer='{{ fileDirname }}/mar_tiny_1xb32-2k_synthmotion.py',
    recognizer_checkpoint='work_dirs/mar_tiny_1xb32-2k_synthmotion/iter_2000.pth',
    guidance_gamma=0.5,
    guidance_weights=dict(joint=1.0),
    guidance_mode='every_step')
test_evaluator = [
    dict(type='DumpPredictions',
         out_file_path='work_dirs/coamd-guided-joints_tiny_1xb32-2k_synthmotion/predictions.pkl'),
]

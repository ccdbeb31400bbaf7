# Baseline "w/o autoregression" (CoAMD table 8): one guidance step on every token after the last
# autoregressive step instead of one per step; otherwise as coamd-guided_tiny_1xb32-2k_synthmotion.py
# (same generator weights, same recognizer, weights and gamma).
_base_ = ['./coamd_tiny_1xb32-2k_synthmotion.py']

model = dict(
    recognizer='{{ fileDirname }}/mar_tiny_1xb32-1k_synthmotion.py',
    recognizer_checkpoint='work_dirs/mar_tiny_1xb32-1k_synthmotion/iter_1000.pth',
    guidance_gamma=0.5,
    guidance_weights=dict(fused=0.7, joint=0.1, bone=0.1, motion=0.1),
    guidance_mode='once_at_end')
test_evaluator = [
    dict(type='DumpPredictions',
         out_file_path='work_dirs/coamd-guided-once_tiny_1xb32-2k_synthmotion/predictions.pkl',
         exclude_keys=('pred_motion_replications', )),
    {{_base_.t2m_generation_metric}},
]

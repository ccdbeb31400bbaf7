# Baseline: guidance from a joints-only recognizer (the MAR of mar-joint_tiny_1xb32-1k_synthmotion.py,
# table 7's "J", embeddings e_j and e_f) weighing its joint stream only (w_joint = 1); otherwise as
# coamd-guided_tiny_1xb32-2k_synthmotion.py (same generator weights). For the J+B+M MAR with only
# its joint embedding weighed, point recognizer / recognizer_checkpoint at mar_tiny_*.
_base_ = ['./coamd_tiny_1xb32-2k_synthmotion.py']

model = dict(
    recognizer='{{ fileDirname }}/mar-joint_tiny_1xb32-1k_synthmotion.py',
    recognizer_checkpoint='work_dirs/mar-joint_tiny_1xb32-1k_synthmotion/iter_1000.pth',
    guidance_gamma=0.5,
    guidance_weights=dict(joint=1.0),
    guidance_mode='every_step')
test_evaluator = [
    dict(type='DumpPredictions',
         out_file_path='work_dirs/coamd-guided-joints_tiny_1xb32-2k_synthmotion/predictions.pkl',
         exclude_keys=('pred_motion_replications', )),
    {{_base_.t2m_generation_metric}},
]

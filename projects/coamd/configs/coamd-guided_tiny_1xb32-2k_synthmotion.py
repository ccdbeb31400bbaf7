# CoAMD with recognizer guidance (eq. 6-8) at every autoregressive step: a sampling-time variant
# of coamd_tiny_1xb32-2k_synthmotion.py (same training, same weights). The frozen multi-modal
# action recognizer (MAR) scores the decoded motion against the caption,
# S = 0.7 cos(e_f, c) + 0.1 (cos(e_j, c) + cos(e_b, c) + cos(e_m, c)) (the reference code's weights),
# and the tokens masked at each step move by gamma * g / ||g||:
#   python tools/test.py projects/coamd/configs/coamd-guided_tiny_1xb32-2k_synthmotion.py \
#       work_dirs/coamd_tiny_1xb32-2k_synthmotion/iter_2000.pth
# The MAR is named by its own config and checkpoint (train it first).
_base_ = ['./coamd_tiny_1xb32-2k_synthmotion.py']

model = dict(
    recognizer='{{ fileDirname }}/mar_tiny_1xb32-1k_synthmotion.py',
    recognizer_checkpoint='work_dirs/mar_tiny_1xb32-1k_synthmotion/iter_1000.pth',
    guidance_gamma=0.5,
    guidance_weights=dict(fused=0.7, joint=0.1, bone=0.1, motion=0.1),
    guidance_mode='every_step',
    guidance_norm='all')
test_evaluator = [
    dict(type='DumpPredictions',
         out_file_path='work_dirs/coamd-guided_tiny_1xb32-2k_synthmotion/predictions.pkl',
         exclude_keys=('pred_motion_replications', )),
    {{_base_.t2m_generation_metric}},
]

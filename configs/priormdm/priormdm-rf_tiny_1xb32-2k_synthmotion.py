# PriorMDM joint control (Shafir et al., ICLR 2024), right foot trajectory, tiny CPU preset on
# SynthMotion: MDM's tiny denoiser trained with the right foot's features of x_t replaced by the
# clean motion (at every sampling step too), so that generated motions follow a given
# right foot trajectory exactly. PriorMDM fine-tunes a pretrained MDM: set
# load_from='work_dirs/mdm_tiny_1xb32-2k_synthmotion/iter_2000.pth'.
_base_ = ['../mdm/mdm_tiny_1xb32-2k_synthmotion.py']

model = dict(type='PriorMDM', control_joints='right_foot', loss_on_controlled=False)

# how closely generated motions follow the given right foot trajectory (mm), and their
# text-motion quality through the tiny T2M evaluator (see the MDM config)
test_evaluator = [
    dict(type='ControlErrorMetric', control_joints='right_foot'),
    {{_base_.t2m_generation_metric}},
    dict(type='DumpPredictions',
         out_file_path='work_dirs/priormdm_rf_tiny_synthmotion/predictions.pkl'),
]

from .caption_metric import CAPTION_PRESETS, CaptionMetric
from .candidate_retrieval_metric import CandidateRetrievalMetric
from .dump_predictions import DumpPredictions
from .edit_operator_accuracy_metric import EditOperatorAccuracyMetric
from .generated_pose_metric import GeneratedPoseMetric
from .generation_metric import ControlErrorMetric, T2MGenerationMetric
from .instruction_novelty_metric import InstructionNoveltyMetric
from .instruction_reconstruction_metric import InstructionReconstructionMetric
from .joint_error_metric import JointErrorMetric
from .preference_reward_metric import PreferenceRewardMetric, read_baseline_scores
from .recognition_metric import RECOGNITION_PRESETS, RecognitionMetric
from .retrieval_metric import RETRIEVAL_PRESETS, RetrievalMetric
from .t2m_metric import T2M_PRESETS, T2MMetric

__all__ = [
    'CaptionMetric', 'ControlErrorMetric', 'EditOperatorAccuracyMetric', 'InstructionNoveltyMetric', 'DumpPredictions', 'T2MGenerationMetric', 'InstructionReconstructionMetric', 'JointErrorMetric', 'RecognitionMetric', 'RetrievalMetric',
    'T2MMetric', 'CAPTION_PRESETS', 'RECOGNITION_PRESETS', 'RETRIEVAL_PRESETS', 'T2M_PRESETS'
]
__all__ += ['CandidateRetrievalMetric', 'GeneratedPoseMetric']
__all__ += ['PreferenceRewardMetric', 'read_baseline_scores']

from .backbones import BACKBONE_PRESETS, build_backbone
from .motion_language_model import MotionLanguageModel, anchor_loss
from .motion_preference_model import ATOM_LORA, MotionPreferenceModel
from .prompt_templates import PROMPT_TEMPLATES, resolve_template, template_fields
from .sequence_log_probs import lm_sequence_log_probs, sequence_log_probs
from .word_level_tokenizer import build_word_vocab, detokenize, make_word_tokenizer, split_words

__all__ = [
    'BACKBONE_PRESETS', 'build_backbone', 'MotionLanguageModel', 'anchor_loss', 'PROMPT_TEMPLATES',
    'resolve_template', 'template_fields', 'build_word_vocab', 'detokenize', 'make_word_tokenizer',
    'split_words'
]
__all__ += ['lm_sequence_log_probs', 'sequence_log_probs', 'ATOM_LORA', 'MotionPreferenceModel']
from .expert_feedback_model import EXPERTAF_TEMPLATES, ExpertFeedbackModel
from .pose_token_stream import parse_pose_stream, pose_stream_ids

__all__ += ['EXPERTAF_TEMPLATES', 'ExpertFeedbackModel', 'parse_pose_stream', 'pose_stream_ids']
from .video_nn_feedback_baseline import VideoNNFeedbackBaseline

__all__ += ['VideoNNFeedbackBaseline']
from .motion_text_lm import MotionTextLM, read_motion_codes
from .task_templates import TASK_TEMPLATES, resolve_task_templates

__all__ += ['MotionTextLM', 'read_motion_codes', 'TASK_TEMPLATES', 'resolve_task_templates']
from .contrastive_video_nn_baseline import ContrastiveVideoNNBaseline

__all__ += ['ContrastiveVideoNNBaseline']

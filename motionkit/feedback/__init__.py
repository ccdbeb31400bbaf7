from .errors import FeedbackError
from .openai_client import OpenAIChatClient, default_feedback_cache_dir
from .budget import BudgetExhausted, CallBudget
from .scoring import (SUBTASKS, MotionScorer, ScoreParseError, ScoreRequest, ScoreResult,
                      load_scoring_rules, parse_score)
from .synthmotion_oracle_scorer import ProgramEventDetector, SynthMotionOracleScorer
from .t2m_similarity_scorer import T2MSimilarityScorer
from .recognizer_event_detector import (RecognizerEventDetector, count_from_duration,
                                        fit_repetition_periods, load_repetition_periods)
from .vlm_scorer import VLMScorer
from .server import ChatModel, ChatServer, chat_prompt_ids, load_causal_lm, start_server

__all__ = ['FeedbackError', 'OpenAIChatClient', 'default_feedback_cache_dir', 'ChatModel', 'ChatServer',
           'chat_prompt_ids', 'load_causal_lm', 'start_server']
__all__ += ['BudgetExhausted', 'CallBudget', 'SUBTASKS', 'MotionScorer', 'ScoreParseError', 'ScoreRequest',
            'ScoreResult', 'load_scoring_rules', 'parse_score', 'ProgramEventDetector',
            'SynthMotionOracleScorer', 'T2MSimilarityScorer', 'VLMScorer']
__all__ += ['RecognizerEventDetector', 'count_from_duration', 'fit_repetition_periods',
            'load_repetition_periods']

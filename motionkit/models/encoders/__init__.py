"""Condition encoders (text, video) used by editors and generators (registered in MODELS)."""
from .hf_text_encoder import HFTextEncoder
from .learned_text_encoder import LearnedTextEncoder, hash_word, split_words
from .minilm_sentence_encoder import MiniLMSentenceEncoder
from .timm_video_encoder import TIMM_VIDEO_PRESETS, TimmVideoEncoder

__all__ = ['LearnedTextEncoder', 'HFTextEncoder', 'hash_word', 'split_words',
           'MiniLMSentenceEncoder', 'TimmVideoEncoder', 'TIMM_VIDEO_PRESETS']

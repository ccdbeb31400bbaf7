"""Modality mappers (registered in MODELS): project video features and pose codes into a language
model's embedding space, as LLaVA-style multimodal LLMs (ExpertAF) do."""
from .pose_mapper import PoseMapper
from .visual_mapper import VisualMapper, build_projector

__all__ = ['VisualMapper', 'PoseMapper', 'build_projector']

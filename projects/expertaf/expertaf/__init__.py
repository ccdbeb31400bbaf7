"""ExpertAF project package (loaded by ``custom_imports``): only what no other project uses."""
from .toy_feedback_pairs import ToyFeedbackPairs

__all__ = ['ToyFeedbackPairs']

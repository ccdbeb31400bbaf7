from .t2m_evaluator import T2MEvaluator

__all__ = ['T2MEvaluator']

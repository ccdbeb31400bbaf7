from .hooks import *  # noqa: F401,F403
from .model_wrappers import CPUCompatibleDDP
from .strategies import ResumableFSDPStrategy

__all__ = ['CPUCompatibleDDP', 'ResumableFSDPStrategy']

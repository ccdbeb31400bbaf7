"""motionkit: a toolkit for human-motion + language research, built on MMEngine."""
from .version import __version__

__all__ = ['__version__']

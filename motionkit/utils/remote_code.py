"""``trust_remote_code`` is the user's decision, never a config's.

Hugging Face loaders run Python files shipped with a model folder when ``trust_remote_code=True``.
A config file is data that travels between people (a shared recipe, a downloaded project), so a
config key alone must not switch that on: the user passes ``--trust-remote-code`` on the command
line of ``tools/train.py`` / ``tools/test.py``, which calls :func:`allow_remote_code`.
"""
from __future__ import annotations

from typing import Any, Mapping

_REMOTE_CODE_ALLOWED = False


def allow_remote_code(allowed: bool = True) -> None:
    """Let configs pass ``trust_remote_code=True`` to Hugging Face loaders in this process (the
    ``--trust-remote-code`` command-line flag)."""
    global _REMOTE_CODE_ALLOWED
    _REMOTE_CODE_ALLOWED = bool(allowed)


def remote_code_allowed() -> bool:
    return _REMOTE_CODE_ALLOWED


def check_remote_code_kwargs(kwargs: Mapping[str, Any], where: str) -> None:
    """Refuse config-supplied keyword arguments that would run code from a model folder.

    Raises:
        PermissionError: ``trust_remote_code`` is truthy in ``kwargs`` and the user did not pass
            ``--trust-remote-code`` (:func:`allow_remote_code`).
    """
    if kwargs.get('trust_remote_code') and not _REMOTE_CODE_ALLOWED:
        raise PermissionError(
            f'{where}: the config sets trust_remote_code=True, which would run Python code shipped '
            'with the model folder. motionkit refuses it from a config; if you trust that code, '
            'pass --trust-remote-code on the command line of tools/train.py or tools/test.py.')

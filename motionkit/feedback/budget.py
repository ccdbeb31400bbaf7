"""A cap on the requests a data build may send to paid LLM / VLM services."""
from __future__ import annotations

from typing import Optional

__all__ = ['BudgetExhausted', 'CallBudget']


class BudgetExhausted(RuntimeError):
    """The build has sent as many requests as its budget allows; run it again (it resumes) with a
    larger ``--budget`` to go on."""


class CallBudget:
    """Counts HTTP requests (cache hits are free) against ``limit`` (``None``: no limit).

    A call is only started while ``used < limit`` (:meth:`check`); the requests it makes, retries
    included, are then added with :meth:`spend`, so a call started at ``limit - 1`` may end up to
    ``max_retries`` requests above the limit, never more.
    """

    def __init__(self, limit: Optional[int] = None) -> None:
        if limit is not None and int(limit) < 0:
            raise ValueError(f'budget must be >= 0 requests, got {limit}')
        self.limit = None if limit is None else int(limit)
        self.used = 0

    def check(self, what: str = 'request') -> None:
        if self.limit is not None and self.used >= self.limit:
            raise BudgetExhausted(f'request budget spent ({self.used} of {self.limit}) before the next '
                                  f'{what}; rerun with a larger --budget to resume')

    def spend(self, n: int = 1) -> None:
        self.used += int(n)

    @property
    def left(self) -> Optional[int]:
        return None if self.limit is None else max(0, self.limit - self.used)

    def __repr__(self) -> str:
        return f'CallBudget(used={self.used}, limit={self.limit})'

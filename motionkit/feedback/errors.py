"""Errors raised by feedback clients (LLM / VLM services used to build data)."""
from __future__ import annotations

from typing import Optional


class FeedbackError(RuntimeError):
    """A feedback request failed for good: the server could not be reached after all retries,
    answered with an error status, or sent a reply that is not a valid chat completion.

    Attributes:
        url: the endpoint that was asked.
        status: the HTTP status (None when no HTTP answer came back).
        body: the start of the reply body (None when there was none).
    """

    def __init__(self, message: str, url: str, status: Optional[int] = None,
                 body: Optional[str] = None) -> None:
        details = [f'url={url}']
        if status is not None:
            details.append(f'status={status}')
        if body is not None:
            details.append(f'body={body!r}')
        super().__init__(f"{message} ({', '.join(details)})")
        self.url, self.status, self.body = url, status, body

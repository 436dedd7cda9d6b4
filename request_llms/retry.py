"""The one retry policy: which failures are worth another try, and how long to wait before it.

The transport sends a request to one server again (`retryable`: a refused connection, 408, 409, 429, 5xx);
`chat()` sends it to another server of a pool (`is_server_failure`), and after every server has failed
once, waits and tries them again. Both wait `wait_before(attempt)`: 0.25 s, then 0.75 s, 2.25 s ...
each give or take a fifth (so clients that failed together do not come back together), or what the
server's Retry-After asks, up to MAX_WAIT. Either way at most MAX_RETRY more tries are made.
"""

from __future__ import annotations

import random

from .errors import BackendTimeout, BackendUnreachable, LLMError, StreamCut

RETRY_STATUSES = frozenset({408, 409, 429, *range(500, 600)})  # worth sending again: the server may recover
MAX_WAIT = 10.0  # the longest Retry-After honoured; a server asking for more gets its error shown
FIRST_WAIT = 0.25  # seconds before the first retry
GROWTH = 3.0  # each wait this many times the one before
JITTER = 0.2  # each wait is moved by up to this share, either way


def wait_before(attempt: int, retry_after: float | None = None) -> float:
    """Seconds to wait before the retry that follows try number `attempt` (0 for the first try)."""
    if retry_after is not None:
        return min(max(retry_after, 0.0), MAX_WAIT)
    return FIRST_WAIT * GROWTH**attempt * random.uniform(1 - JITTER, 1 + JITTER)


def judge_status(error: LLMError, status: int, retry_after: str | None) -> LLMError:
    """Stamp an error status's error with what the retry decision reads: status, Retry-After, retryable."""
    error.status = status
    error.retryable = status in RETRY_STATUSES and not error.final
    try:
        error.retry_after = float(retry_after or "")
    except ValueError:
        error.retry_after = None
    if error.retry_after is not None and error.retry_after > MAX_WAIT:
        error.retryable = False  # waiting that long is the user's call, not ours
    return error


def is_server_failure(exc: LLMError) -> bool:
    """A failure of the server rather than of the request: another server of a pool may answer."""
    if exc.final:
        return False
    if isinstance(exc, (BackendUnreachable, BackendTimeout, StreamCut)):
        return True
    return bool(exc.retryable) or (exc.status or 0) >= 500

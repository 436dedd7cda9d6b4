"""How many requests go to one server at once; the rest wait their turn in order, with their position.

Each server (servers.Server) has one Gate; its size comes from the server's backend (PARALLEL_REQUESTS
by provider, then by group `local` or `cloud`, capped by the slots the server reports). Native models
have no gate here: their worker keeps its own queue.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Generator

from .request import CancelToken, Status, StatusKind

_POLL = 0.5  # seconds between checks of the cancel token while waiting
STALE_SECONDS = 15.0  # a waiter not heard from this long when its turn comes has been left by its caller


class Gate:
    """A first-come, first-served limit of `size` requests at once."""

    def __init__(self, size: int, stale_seconds: float = STALE_SECONDS) -> None:
        self.size = size
        self._active = 0
        self._waiting: deque[object] = deque()
        self._seen: dict[object, float] = {}  # each waiter's last look at the queue
        self._dropped: set[object] = set()  # waiters passed over while their callers had stopped reading
        self._coming = 0  # requests routed here that have not reached the gate yet (learning the server's slots)
        self._stale = stale_seconds
        self._cond = threading.Condition()

    def expect(self) -> None:
        """Count a request routed here before it reaches `wait_turn(expected=True)`, so that requests routed at the
        same moment see it in `load`; `unexpect()` if it never comes."""
        with self._cond:
            self._coming += 1

    def unexpect(self) -> None:
        with self._cond:
            self._coming -= 1

    def wait_turn(self, cancel: CancelToken, label: str, expected: bool = False) -> Generator[Status, None, bool]:
        """Yield a queued Status whenever the position changes; return True once this request may go.

        Returns False if cancelled while waiting. After True the caller must call `leave()`. Taking the
        turn yields nothing, so the request goes out at once rather than after the caller's next read.
        `expected`: the request was counted by `expect()`, which its arrival here settles.
        """
        ticket = object()
        with self._cond:
            if expected:
                self._coming -= 1
            if self._active < self.size and not self._waiting:
                self._active += 1
                return True
            self._waiting.append(ticket)
        unhook = cancel.on_cancel(self._wake)
        shown = None
        try:
            while True:
                with self._cond:
                    self._seen[ticket] = time.monotonic()
                    if ticket in self._dropped:  # passed over while its caller was away: to the back of the queue
                        self._dropped.discard(ticket)
                        self._waiting.append(ticket)
                    if cancel.is_set():
                        self._forget(ticket)
                        self._cond.notify_all()
                        return False
                    self._pass_over_the_gone()
                    position = self._waiting.index(ticket)
                    if position == 0 and self._active < self.size:
                        self._forget(self._waiting[0])
                        self._active += 1
                        self._cond.notify_all()
                        break
                    ahead = position + self._active
                    if ahead == shown:
                        self._cond.wait(_POLL)
                        continue
                shown = ahead
                yield Status(
                    StatusKind.QUEUED,
                    en=f"Waiting for {label}: {ahead} request(s) ahead",
                    zh=f"等待 {label}：前面还有 {ahead} 个请求",
                    position=ahead,
                )
        except BaseException:
            with self._cond:
                self._forget(ticket)
                self._cond.notify_all()
            raise
        finally:
            unhook()
        return True

    @property
    def active(self) -> int:
        """Requests let in and not yet finished."""
        with self._cond:
            return self._active

    @property
    def waiting(self) -> int:
        """Requests waiting their turn now."""
        with self._cond:
            return len(self._waiting)

    @property
    def load(self) -> float:
        """The share of its size taken, in flight or waiting (1.0: as many as it lets in at once)."""
        with self._cond:
            return (self._active + len(self._waiting) + self._coming) / max(self.size, 1)

    def resize(self, size: int) -> None:
        """Let `size` requests in at once from now on (requests already in keep their turn)."""
        with self._cond:
            if size != self.size:
                self.size = size
                self._cond.notify_all()

    def leave(self) -> None:
        with self._cond:
            self._active -= 1
            self._cond.notify_all()

    def _forget(self, ticket: object) -> None:
        if ticket in self._waiting:
            self._waiting.remove(ticket)
        self._seen.pop(ticket, None)
        self._dropped.discard(ticket)

    def _pass_over_the_gone(self) -> None:
        """While a place is free, a waiter at the head not heard from for `stale` seconds (its caller stopped
        reading: a client that went quiet without closing) is passed over, so it cannot hold up the queue; if its
        caller comes back it waits again at the back."""
        now = time.monotonic()
        while self._waiting and self._active < self.size and now - self._seen.get(self._waiting[0], now) > self._stale:
            self._dropped.add(self._waiting.popleft())

    def _wake(self) -> None:
        with self._cond:
            self._cond.notify_all()

"""How many requests go to one server at once; the rest wait their turn in order, with their position.

One gate per server, as each backend names it (an Ollama URL, an OpenAI-compatible URL, a cloud vendor).
Native models have no gate here: their worker keeps its own queue. Sizes come from the backend
(PARALLEL_REQUESTS by provider name, then by group `local` or `cloud`, then the defaults), capped by
the slots a server reports (llama.cpp's /props `total_slots`).
"""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Generator
from dataclasses import replace

from .backends.base import CancelToken, Status
from .model_spec import ModelSpec

_POLL = 0.5  # seconds between checks of the cancel token while waiting


class Gate:
    """A first-come, first-served limit of `size` requests at once."""

    def __init__(self, size: int) -> None:
        self.size = size
        self._active = 0
        self._waiting: deque[object] = deque()
        self._cond = threading.Condition()

    def wait_turn(self, cancel: CancelToken, label: str) -> Generator[Status, None, bool]:
        """Yield a queued Status whenever the position changes; return True once this request may go.

        Returns False if cancelled while waiting. After True the caller must call `leave()`. Taking the
        turn yields nothing, so the request goes out at once rather than after the caller's next read.
        """
        ticket = object()
        with self._cond:
            if self._active < self.size and not self._waiting:
                self._active += 1
                return True
            self._waiting.append(ticket)
        unhook = cancel.on_cancel(self._wake)
        shown = None
        try:
            while True:
                with self._cond:
                    if cancel.is_set():
                        self._waiting.remove(ticket)
                        self._cond.notify_all()
                        return False
                    position = self._waiting.index(ticket)
                    if position == 0 and self._active < self.size:
                        self._waiting.popleft()
                        self._active += 1
                        self._cond.notify_all()
                        break
                    ahead = position + self._active
                    if ahead == shown:
                        self._cond.wait(_POLL)
                        continue
                shown = ahead
                yield Status(
                    "queued",
                    en=f"Waiting for {label}: {ahead} request(s) ahead",
                    zh=f"等待 {label}：前面还有 {ahead} 个请求",
                    position=ahead,
                )
        except BaseException:
            with self._cond:
                if ticket in self._waiting:
                    self._waiting.remove(ticket)
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

    def _wake(self) -> None:
        with self._cond:
            self._cond.notify_all()


_gates: dict[str, Gate] = {}
_lock = threading.Lock()


def parallel_for(spec: ModelSpec, config) -> int | None:
    """Requests allowed at once to the servers of `spec` (all of a pool's, less those resting); None means no gate
    (native workers queue themselves)."""
    from .pools import pools_of
    from .registry import backend_for

    backend = backend_for(spec, config)
    members = backend.pool(spec)
    if spec.route or len(members) < 2:
        return backend.parallel(spec)
    in_service = pools_of(config).in_service(members) or members[:1]
    return sum(backend.parallel(replace(spec, route=url)) or 0 for url in in_service) or None


def gate_at(server: str) -> Gate | None:
    """The gate of `server` if a request has gone there, without making one."""
    with _lock:
        return _gates.get(server)


def gate_for(spec: ModelSpec, config) -> Gate | None:
    """The gate of the server of `spec`, shared by every request in this process; None for native models."""
    from .registry import backend_for

    backend = backend_for(spec, config)
    size = backend.parallel(spec)
    if size is None:
        return None
    server = backend.server(spec)
    with _lock:
        if server not in _gates:
            _gates[server] = Gate(size)
        gate = _gates[server]
    gate.resize(size)  # the server's slots may have changed: one gate per server all the same
    return gate


def waiting_for(spec: ModelSpec, config) -> int:
    """Requests waiting their turn for `spec` now: its server's line (a pool's shortest), or a native worker's queue."""
    from .registry import backend_for

    backend = backend_for(spec, config)
    members = backend.pool(spec)
    if len(members) > 1 and not spec.route:
        from .pools import pools_of

        in_service = pools_of(config).in_service(members) or members
        return min(waiting_for(replace(spec, route=url), config) for url in in_service)
    gate = gate_for(spec, config)
    return gate.waiting if gate is not None else backend.waiting(spec)

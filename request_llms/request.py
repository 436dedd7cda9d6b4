"""The words of one request, shared by every layer: its options, the cancel token, and the events of an answer.

This module is the bottom of the model layer: it imports nothing from it but `model_spec`, `text` and
`thinking`, so the transport, the gates, the backends and `chat()` can all speak of a request.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import Enum

from .model_spec import ModelSpec
from .text import Text
from .thinking import Thought


@dataclass(frozen=True)
class ChatOptions:
    """Sampling settings of one request; None leaves the model's or server's default."""

    temperature: float | None = None
    top_p: float | None = None
    max_tokens: int | None = None  # longest answer, in tokens
    think: str | None = None  # true, false, low, medium, high; None: the model's own default

    def over(self, spec: ModelSpec) -> ChatOptions:
        """These options, with the identifier's bracket values filling what is unset (its think= wins)."""
        return ChatOptions(
            temperature=self.temperature if self.temperature is not None else spec.temperature,
            top_p=self.top_p if self.top_p is not None else spec.top_p,
            max_tokens=self.max_tokens,
            think=spec.think or self.think,
        )


@dataclass
class Usage:
    """What the server reported about an answer, when it reports it."""

    prompt_tokens: int | None = None
    completion_tokens: int | None = None
    finish_reason: str | None = None  # "stop", "length", ...
    server_tokens_per_s: float | None = None  # the server's own generation speed
    load_seconds: float | None = None  # time the server spent loading the model for this request


class StatusKind(str, Enum):
    """What a request is doing before (or instead of) its answer."""

    LOADING = "loading"  # a native model is loading
    QUEUED = "queued"  # waiting its turn at a server's gate or a worker's queue
    RUNNING = "running"  # the wait is over: the answer's own clock starts
    RETRYING = "retrying"  # another server of a pool answers afresh; what arrived so far is dropped

    def __str__(self) -> str:
        return self.value


@dataclass(frozen=True)
class Status:
    """Progress before the answer: a native model loading, or a request waiting its turn."""

    kind: StatusKind
    en: str
    zh: str
    percent: float | None = None  # loading progress, 0 to 100
    position: int | None = None  # requests ahead of this one

    def __post_init__(self) -> None:
        object.__setattr__(self, "kind", StatusKind(self.kind))  # a closed set: an unknown kind is a ValueError

    def text(self, lang: str = "zh") -> str:
        return Text(zh=self.zh, en=self.en).text(lang)


class CancelToken:
    """Set once to stop a request; callbacks run at once, from whichever thread cancels."""

    def __init__(self) -> None:
        self._event = threading.Event()
        self._lock = threading.Lock()
        self._callbacks: list[Callable[[], None]] = []

    def cancel(self) -> None:
        with self._lock:
            self._event.set()
            callbacks, self._callbacks = self._callbacks, []
        for callback in callbacks:
            callback()

    def is_set(self) -> bool:
        return self._event.is_set()

    def wait(self, timeout: float | None = None) -> bool:
        return self._event.wait(timeout)

    def on_cancel(self, callback: Callable[[], None]) -> Callable[[], None]:
        """Run `callback` on cancel (at once if already cancelled); returns a function that unregisters it."""
        with self._lock:
            if not self._event.is_set():
                self._callbacks.append(callback)
                return lambda: self._discard(callback)
        callback()
        return lambda: None

    def _discard(self, callback: Callable[[], None]) -> None:
        with self._lock:
            if callback in self._callbacks:
                self._callbacks.remove(callback)


@dataclass
class Vectors:
    """What a server answered for one batch of texts: one vector per text, in the texts' order."""

    vectors: list[list[float]]
    prompt_tokens: int | None = None
    cut: list[int] = field(default_factory=list)  # texts (by place in the batch) the model cut to its longest input
    limit: int | None = None  # that longest input, in tokens


Event = str | Thought | Usage | Status  # an answer delta, a thinking delta, the usage at the end, or progress before

"""What every backend shares: options, usage figures, the cancel token and the Backend interface."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Protocol

from ..model_spec import ModelSpec


@dataclass(frozen=True)
class ChatOptions:
    """Sampling settings of one request; None leaves the model's or server's default."""

    temperature: float | None = None
    top_p: float | None = None
    max_tokens: int | None = None  # longest answer, in tokens

    def over(self, spec: ModelSpec) -> ChatOptions:
        """These options, with the identifier's bracket values filling what is unset."""
        return ChatOptions(
            temperature=self.temperature if self.temperature is not None else spec.temperature,
            top_p=self.top_p if self.top_p is not None else spec.top_p,
            max_tokens=self.max_tokens,
        )


@dataclass
class Usage:
    """What the server reported about an answer, when it reports it."""

    prompt_tokens: int | None = None
    completion_tokens: int | None = None
    finish_reason: str | None = None  # "stop", "length", ...
    server_tokens_per_s: float | None = None  # the server's own generation speed
    load_seconds: float | None = None  # time the server spent loading the model for this request


@dataclass(frozen=True)
class Status:
    """Progress before the answer: a native model loading, or a request waiting its turn."""

    kind: str  # "loading", "queued", or "running" once the wait is over
    en: str
    zh: str
    percent: float | None = None  # loading progress, 0 to 100
    position: int | None = None  # requests ahead of this one

    def text(self, lang: str = "zh") -> str:
        return self.zh if lang == "zh" else self.en


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


Event = str | Usage | Status  # a text delta, the usage figures at the end, or progress before the answer


class Backend(Protocol):
    """A way to talk to one kind of model."""

    def stream(
        self, spec: ModelSpec, messages: list[dict[str, str]], options: ChatOptions, cancel: CancelToken
    ) -> Iterator[Event]:
        """Yield Status while waiting, text deltas as they arrive, then at most one Usage; end quietly when cancelled."""
        ...

    def context_budget(self, spec: ModelSpec) -> int | None:
        """The model's context window in tokens, as far as it can be known; None if unknown."""
        ...

"""Typed failures of the model layer, each with a one-line message and its fix in Chinese and English.

Every backend raises one of these and nothing else; the command line maps them to exit codes and
the web page shows `text(lang)` in the chat.
"""

from __future__ import annotations

import re

from .text import Text

_SECRET = re.compile(r"(sk-|Bearer\s+)[A-Za-z0-9_\-\.]{4,}")


def redact(text: str) -> str:
    """Mask anything that looks like an API key, so it never reaches a log or the page."""
    return _SECRET.sub(lambda m: m.group(1) + "***", text)


class LLMError(Exception):
    """A failure with a message for the user: what happened and how to fix it.

    Besides the two lines it carries data that code acts on, never the wording: `status` (the HTTP status
    a server answered, if any), `detail` (the server's own error text), `retryable` (whether the same
    request may succeed if sent again, before any text arrived) and `retry_after` (seconds the server asked
    for). `retry.py` decides from these whether to send the request again (the transport, to the same
    server) or to another server of a pool (chat); callers never retry again.
    """

    exit_code = 3
    retryable = False
    final = False  # the request's own fault: no server, this one or another, would answer it otherwise

    def __init__(
        self,
        en: str,
        zh: str,
        *,
        partial: str = "",
        status: int | None = None,
        detail: str = "",
        retryable: bool | None = None,
        retry_after: float | None = None,
    ) -> None:
        self.message = Text(zh=redact(zh), en=redact(en))
        self.partial = partial
        self.status = status
        self.detail = redact(detail)
        self.retry_after = retry_after
        if retryable is not None:
            self.retryable = retryable
        super().__init__(self.message.en)

    @property
    def en(self) -> str:
        return self.message.en

    @property
    def zh(self) -> str:
        return self.message.zh

    @property
    def code(self) -> str:
        """A stable name for the kind of failure (the class name), as sent between processes."""
        return type(self).__name__

    def text(self, lang: str = "zh") -> str:
        return self.message.text(lang)


class ConfigError(LLMError):
    """A configuration key holds a value that cannot work."""

    exit_code = 2


class IdentifierError(LLMError):
    """A model identifier that does not parse; names the bad part."""

    exit_code = 2


class ModelNotAllowed(LLMError):
    """The identifier parses, but the configuration does not offer it."""

    exit_code = 2


class BackendNotReady(LLMError):
    """The kind of model is known but this release cannot run it yet."""


class BackendUnreachable(LLMError):
    """Nothing answers at the server's address (it may be restarting: retried)."""

    retryable = True


class BackendTimeout(LLMError):
    """The server accepted the request but did not answer in time."""


class ModelNotFound(LLMError):
    """The server runs, but does not have the model asked for."""


class ContextTooLong(LLMError):
    """The prompt (or a text to embed) does not fit in the model's context window.

    `tokens` and `limit`, where known, are the prompt's size and what it had to fit in, so a caller may
    cut the prompt to size and ask again (GPT Academic's handle_token_exceed).
    """

    final = True

    def __init__(self, en: str, zh: str, *, tokens: int | None = None, limit: int | None = None, **kwargs) -> None:
        super().__init__(en, zh, **kwargs)
        self.tokens = tokens
        self.limit = limit


class WrongKindOfModel(LLMError):
    """A chat model asked for embeddings, or an embedding model asked to chat; says which to use instead."""

    exit_code = 2
    final = True


class Stopped(LLMError):
    """The caller stopped a request that has no partial answer to keep (an embedding)."""

    exit_code = 130
    final = True


def embedding_stopped() -> Stopped:
    """The one line of an embedding request stopped by its caller."""
    return Stopped(en="Stopped: the embedding request was cancelled.", zh="已停止：向量请求已取消。")


class AuthFailed(LLMError):
    """The key is missing or the server refused it."""


class RateLimited(LLMError):
    """The server asked us to slow down, and retries did not help."""

    retryable = True


class ServerError(LLMError):
    """The server answered with an error of its own."""


class StreamError(LLMError):
    """The server reported an error, or sent something unreadable, in the middle of an answer."""


class StreamCut(LLMError):
    """The connection ended before the answer did; `partial` holds what arrived."""


class WeightsMissing(LLMError):
    """A native model's folder is not there, or holds no model."""


class NoGPU(LLMError):
    """A GPU device was asked for, and there is none."""


class OutOfMemory(LLMError):
    """The model or the answer did not fit in memory."""


class DependencyMissing(LLMError):
    """A Python package a native model needs is not installed."""


class WorkerCrashed(LLMError):
    """A native model's worker process died; the next request starts a fresh one."""


class ModelLoadFailed(LLMError):
    """A native model could not be loaded for another reason, given in the message."""


def error_named(code: str) -> type[LLMError]:
    """The error class of a `code` sent by another process; ServerError for a name this side does not know."""
    for cls in _all_errors(LLMError):
        if cls.__name__ == code:
            return cls
    return ServerError


def _all_errors(cls: type[LLMError]) -> list[type[LLMError]]:
    return [cls, *(sub for child in cls.__subclasses__() for sub in _all_errors(child))]


REFUSALS = (ContextTooLong, IdentifierError, ModelNotAllowed)  # refused before anything was asked of a model

"""Typed failures of the model layer, each with a one-line message and its fix in Chinese and English.

Every backend raises one of these and nothing else; the command line maps them to exit codes and
the web page shows `text(lang)` in the chat.
"""

from __future__ import annotations

import re

_SECRET = re.compile(r"(sk-|Bearer\s+)[A-Za-z0-9_\-\.]{4,}")


def redact(text: str) -> str:
    """Mask anything that looks like an API key, so it never reaches a log or the page."""
    return _SECRET.sub(lambda m: m.group(1) + "***", text)


class LLMError(Exception):
    """A failure with a message for the user: what happened and how to fix it."""

    exit_code = 3

    def __init__(self, en: str, zh: str, *, partial: str = "") -> None:
        self.en = redact(en)
        self.zh = redact(zh)
        self.partial = partial
        super().__init__(self.en)

    def text(self, lang: str = "zh") -> str:
        return self.zh if lang == "zh" else self.en


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
    """Nothing answers at the server's address."""


class BackendTimeout(LLMError):
    """The server accepted the request but did not answer in time."""


class ModelNotFound(LLMError):
    """The server runs, but does not have the model asked for."""


class ContextTooLong(LLMError):
    """The prompt does not fit in the model's context window."""


class AuthFailed(LLMError):
    """The key is missing or the server refused it."""


class RateLimited(LLMError):
    """The server asked us to slow down, and retries did not help."""


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

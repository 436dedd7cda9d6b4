"""Counting tokens as the model does: the server's own tokenizer where it offers one, a safe estimate otherwise.

vLLM and llama.cpp's server both answer POST /tokenize (vLLM reads `prompt`, llama.cpp `content`; vLLM
answers `count`, llama.cpp the `tokens` list); a native model's worker counts with the model's tokenizer.
Other servers, Ollama and cloud models get the estimate of messages.estimate_tokens, which is
deliberately high.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import httpx

from .errors import LLMError
from .messages import estimate_tokens
from .model_spec import ModelSpec
from .runtime import runtime_of


@dataclass(frozen=True)
class TokenCounter:
    """`count(text)` in the model's tokens; `exact` says whether it is the model's own tokenizer."""

    count: Callable[[str], int]
    exact: bool
    source: str

    def __call__(self, text: str) -> int:
        return self.count(text)


ESTIMATE = TokenCounter(estimate_tokens, False, "estimate")


def counter_for(spec: ModelSpec, config) -> TokenCounter:
    """The best counter to be had for this model; never raises (falls back to the estimate).

    A native model is counted by its own tokenizer in its worker, which loads the model if needed.
    """
    backend = runtime_of(config).backend_for(spec)
    source = backend.token_source(spec)
    if source is None:
        return ESTIMATE
    try:
        backend.count_tokens(spec, "hello", timeout=5.0)
    except (httpx.HTTPError, LLMError, ValueError, KeyError, TypeError, AttributeError):
        return ESTIMATE
    return TokenCounter(lambda text: backend.count_tokens(spec, text), True, source)

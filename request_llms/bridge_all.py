"""GPT Academic's `request_llms.bridge_all`: the bridge calls, and `model_info` for every model here.

`model_info[identifier]` is looked up when first asked for, for any identifier the configuration can
serve, and holds what GPT Academic's plugins read: `max_token` (the model's real context window, from
its server), `token_cnt` (its own tokenizer where the server has one, else the deliberately high
estimate), `tokenizer` (`encode`/`decode`, whose length never undercounts), `can_multi_thread`, and
the two bridge calls as `fn_with_ui` and `fn_without_ui`. No URL or key is in it.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Iterator, Mapping

from .compat import check_model, predict, predict_no_ui_long_connection
from .config_loader import get_config
from .errors import LLMError
from .messages import estimate_tokens
from .model_spec import parse_model, split_models
from .runtime import runtime_of
from .tokens import counter_for

__all__ = ["model_info", "predict", "predict_no_ui_long_connection", "get_token_num", "tokenizer_gpt35", "tokenizer_gpt4"]

DEFAULT_WINDOW = 8192  # when a server does not say (cloud models): a size every current model exceeds
_PIECES = re.compile(
    r"[\u2e80-\u9fff\uac00-\ud7af\uf900-\ufaff\uff00-\uffef]|[^\u2e80-\u9fff\uac00-\ud7af\uf900-\ufaff\uff00-\uffef]{1,3}", re.S
)


class EstimateTokenizer:
    """`encode` cuts text into the pieces `estimate_tokens` counts (a wide character, or up to three others),
    so `len(encode(text))` is the estimate and `decode(encode(text)[:n])` is a prefix of the text."""

    def encode(self, text: str, disallowed_special=(), **kwargs) -> list[str]:
        return _PIECES.findall(text)

    def decode(self, tokens) -> str:
        return "".join(tokens)


tokenizer_gpt35 = tokenizer_gpt4 = EstimateTokenizer()


def get_token_num(text: str) -> int:
    return estimate_tokens(text)


class _ModelInfo(Mapping):
    """Entries made on first use and kept: finding a window may ask the model's server."""

    def __init__(self) -> None:
        self._entries: dict[str, dict] = {}
        self._config = None
        self._lock = threading.Lock()

    def __getitem__(self, identifier: str) -> dict:
        if not isinstance(identifier, str):
            raise KeyError(identifier)
        with self._lock:
            if self._config is not get_config():  # new settings: new windows and counters
                self._config, self._entries = get_config(), {}
            known = self._entries.get(identifier)
        if known is not None:
            return known
        try:
            check_model(identifier)  # the page's check: a name from a plugin's input box reaches no other server
        except LLMError as exc:
            raise KeyError(identifier) from exc
        entry = _entry(identifier)  # may ask the model's server: outside the lock
        with self._lock:
            return self._entries.setdefault(identifier, entry)

    def __contains__(self, identifier: object) -> bool:
        try:
            self[identifier]  # type: ignore[index]
        except KeyError:
            return False
        return True

    def __iter__(self) -> Iterator[str]:
        return iter(list(get_config()["AVAIL_LLM_MODELS"]))

    def __len__(self) -> int:
        return len(get_config()["AVAIL_LLM_MODELS"])


def _entry(identifier: str) -> dict:
    """One model's entry; `a&b` gets the smallest window of its models and the highest count."""
    config = get_config()
    try:
        specs = [parse_model(part) for part in split_models(identifier)]
        backends = [runtime_of(config).backend_for(spec) for spec in specs]
    except LLMError as exc:
        raise KeyError(identifier) from exc
    windows = []
    for spec, backend in zip(specs, backends, strict=True):
        try:
            windows.append(backend.context_budget(spec) or DEFAULT_WINDOW)
        except LLMError:  # the server is down: the plugin will say so when it asks
            windows.append(spec.max_token or DEFAULT_WINDOW)
    counters = [counter_for(spec, config) for spec in specs]
    return {
        "fn_with_ui": predict,
        "fn_without_ui": predict_no_ui_long_connection,
        "endpoint": None,
        "can_multi_thread": True,
        "max_token": min(windows),
        "tokenizer": EstimateTokenizer(),
        "token_cnt": lambda text: max(counter(text) for counter in counters),
    }


model_info = _ModelInfo()

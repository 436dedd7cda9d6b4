"""GPT Academic's `request_llms.bridge_all`: the bridge calls, and `model_info` for every model here.

`model_info[identifier]` is looked up when first asked for, for any identifier the configuration can
serve, and holds what GPT Academic's plugins read: `max_token` (the model's real context window, from
its server), `token_cnt` (its own tokenizer where the server has one, else the deliberately high
estimate), `tokenizer` (`encode`/`decode`, whose length never undercounts), `can_multi_thread`, and
the two bridge calls as `fn_with_ui` and `fn_without_ui`. No URL or key is in it.

GPT Academic's plugins count tokens with a cloud model's tokenizer whatever model answers
(`model_info["gpt-3.5-turbo"]["tokenizer"]`). The names of COUNTING_ONLY, where they are not offered, still
answer `tokenizer`, `token_cnt` (the estimate, never below the real count) and `max_token` (the model's own
window), but their bridge calls raise ModelNotAllowed: counting with a name never sends anything to it.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Iterator, Mapping

from .compat import check_model, predict, predict_no_ui_long_connection
from .config_loader import get_config
from .errors import LLMError, ModelNotAllowed
from .messages import estimate_tokens
from .model_spec import parse_model, split_models
from .runtime import runtime_of
from .tokens import counter_for

__all__ = ["model_info", "predict", "predict_no_ui_long_connection", "get_token_num", "tokenizer_gpt35", "tokenizer_gpt4"]

DEFAULT_WINDOW = 8192  # when a server does not say (cloud models): a size every current model exceeds
COUNTING_ONLY = {  # name: its window, as GPT Academic's own model table has it
    "gpt-3.5-turbo": 16385,
    "gpt-3.5-turbo-16k": 16385,
    "gpt-4": 8192,
    "gpt-4-32k": 32768,
    "gpt-4-turbo": 128000,
    "gpt-4o": 128000,
    "gpt-4o-mini": 128000,
}
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
            entry = _entry(identifier)  # may ask the model's server: outside the lock
        except (LLMError, KeyError) as exc:
            if identifier not in COUNTING_ONLY:
                raise KeyError(identifier) from exc
            entry = _counting_only(identifier)
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


def _counting_only(name: str) -> dict:
    """The entry of a COUNTING_ONLY name the configuration does not offer: it counts, and refuses requests."""

    def refuse(*args, **kwargs):
        raise ModelNotAllowed(
            en=f"{name} is not offered here: a plugin may count tokens with its name, but only the models of "
            "AVAIL_LLM_MODELS answer. Pick one of them.",
            zh=f"此处未提供 {name}：插件可用它的名称计算 token，但只有 AVAIL_LLM_MODELS 中的模型会回答，请从中选择。",
        )

    return {
        "fn_with_ui": refuse,
        "fn_without_ui": refuse,
        "endpoint": None,
        "can_multi_thread": True,
        "max_token": COUNTING_ONLY[name],
        "tokenizer": EstimateTokenizer(),
        "token_cnt": estimate_tokens,
    }


model_info = _ModelInfo()

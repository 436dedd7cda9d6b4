"""pytest plugin: running academic plugins against the real servers of tests/support/servers.

Fixtures `llama_kwargs` and `ollama_kwargs` point the configuration at the session's llama-server
(4 slots of 1024 tokens) or Ollama and give GPT Academic's llm_kwargs (temperature 0, a short answer:
the 270M test model rambles). `drive()` runs a plugin generator to its end, optionally pressing Stop
when a condition first holds, and returns every status line it yielded.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from crazy_functions.runtime.session import PluginChatbot, stepped
from request_llms.config_loader import get_config

LLAMA = "llamacpp-gemma-270m"
OLLAMA = "ollama-gemma3:270m"
LLAMA_SLOT_TOKENS = 1024  # the test llama-server: 4096 tokens over 4 slots


def _configure(monkeypatch, folder: Path, lines: list[str]) -> None:
    private = folder / "config_private.py"
    private.write_text("\n".join(lines) + "\n", encoding="utf-8")
    monkeypatch.setenv("LOCALSCHOLAR_CONFIG", str(private))
    get_config.cache_clear()


@pytest.fixture
def llama_kwargs(monkeypatch, tmp_path, llama_server) -> Iterator[dict]:
    _configure(monkeypatch, tmp_path, [f'LOCAL_SERVER_URLS = {{"llamacpp": "{llama_server.base_url}/v1"}}'])
    yield {"llm_model": LLAMA, "temperature": 0, "top_p": 1.0, "max_length": 64}
    get_config.cache_clear()


@pytest.fixture
def ollama_kwargs(monkeypatch, tmp_path, ollama_server) -> Iterator[dict]:
    _configure(monkeypatch, tmp_path, [f'OLLAMA_API_BASE = "{ollama_server.base_url}"'])
    yield {"llm_model": OLLAMA, "temperature": 0, "top_p": 1.0, "max_length": 64}
    get_config.cache_clear()


def make_chatbot(tmp_path: Path, files: list[Path] = (), lang: str = "zh") -> PluginChatbot:
    """A chatbot as the page hands it to a plugin: the given uploads, outputs under tmp_path/out."""
    return PluginChatbot(lang=lang, files=files, out_dir=tmp_path / "out", config=get_config())


def drive(
    plugin,
    txt: str,
    llm_kwargs: dict,
    chatbot: PluginChatbot,
    plugin_kwargs: dict | None = None,
    stop_when: Callable[[PluginChatbot], bool] | None = None,
) -> list[str]:
    """Run `plugin` to its end as the page does; press Stop (cancel) the first time `stop_when(chatbot)` holds."""
    statuses = []
    history: list = []
    for update in stepped(plugin(txt, llm_kwargs, plugin_kwargs or {}, chatbot, history, "", None), chatbot):
        statuses.append(update[2] if isinstance(update, tuple) and len(update) > 2 else "")
        if stop_when is not None and not chatbot.stopped and stop_when(chatbot):
            chatbot.cancel.cancel()
    return statuses

"""The page's model dropdown: a short state after each model that cannot answer, and under the dropdown the
one-line fix for the model picked, in the page's language."""

from __future__ import annotations

import pytest

from request_llms import listing
from request_llms.native.catalog import BUILTIN
from request_llms.runtime import runtime_of
from tests.support.helpers import make_config
from tests.support.servers.running import free_port

MODELS = 'AVAIL_LLM_MODELS = ["chatglm4", "ollama-qwen2.5:7b", "gpt-4o-mini"]\n'


@pytest.fixture
def catalog(tmp_path, monkeypatch):
    monkeypatch.setattr(listing, "discover", lambda backends, timeout=1.5: ({}, {}))
    return runtime_of(make_config(tmp_path, MODELS)).catalog


def test_each_label_carries_its_short_state_in_the_pages_language(catalog):
    assert catalog.choices("zh") == [
        (f"{BUILTIN}  [本地原生]", BUILTIN),
        ("chatglm4  [本地原生] · ⚠ 未下载", "chatglm4"),
        ("ollama-qwen2.5:7b  [Ollama] · ⚠ 服务未启动", "ollama-qwen2.5:7b"),
        ("gpt-4o-mini  [云端] · ⚠ 缺少密钥", "gpt-4o-mini"),
    ]
    assert [label for label, _ in catalog.choices("en")] == [
        f"{BUILTIN}  [native]",
        "chatglm4  [native] · ⚠ not downloaded",
        "ollama-qwen2.5:7b  [Ollama] · ⚠ server not running",
        "gpt-4o-mini  [cloud] · ⚠ no API key",
    ]


def test_the_line_under_the_dropdown_gives_the_fix_for_the_model_picked(catalog):
    assert catalog.note("chatglm4", "zh").startswith("⚠ 未下载 — 运行 `python -m request_llms pull chatglm4`")
    assert catalog.note("chatglm4", "en").startswith("⚠ not downloaded — `python -m request_llms pull chatglm4`")
    assert catalog.note("ollama-qwen2.5:7b", "en").endswith("run `ollama serve`")
    assert catalog.note("gpt-4o-mini", "zh") == "⚠ 缺少密钥 — 请在 config_private.py 中设置 API_KEY"
    assert catalog.note(BUILTIN, "zh") == catalog.note("not-offered", "en") == ""


def test_found_models_follow_the_configured_and_a_stopped_servers_model_says_how_to_start_it(tmp_path, ollama_server):
    stopped = f"http://127.0.0.1:{free_port()}/v1"
    config = make_config(
        tmp_path,
        f'AVAIL_LLM_MODELS = ["llamacpp-gemma3-270m", "ollama-missing:1b"]\nLOCAL_SERVER_URLS = {{"llamacpp": "{stopped}"}}\n',
        OLLAMA_API_BASE=ollama_server.base_url,
    )
    catalog = runtime_of(config).catalog
    identifiers = [identifier for _, identifier in catalog.choices("en", refresh=True)]
    assert identifiers[:3] == [BUILTIN, "llamacpp-gemma3-270m", "ollama-missing:1b"]
    assert "ollama-gemma3:270m" in identifiers[3:]
    labels = dict((identifier, label) for label, identifier in catalog.choices("zh"))
    assert labels["llamacpp-gemma3-270m"].endswith("⚠ 服务未启动") and "⚠" not in labels["ollama-gemma3:270m"]
    assert labels["ollama-missing:1b"].endswith("⚠ 未拉取")
    assert catalog.note("llamacpp-gemma3-270m", "en") == (
        f"⚠ server not running — llama.cpp server is not running at {stopped}: run `llama-server -m gemma3-270m.gguf`"
    )
    assert catalog.note("ollama-missing:1b", "zh").endswith("`ollama pull missing:1b`")
    assert catalog.allowed("ollama-gemma3:270m")

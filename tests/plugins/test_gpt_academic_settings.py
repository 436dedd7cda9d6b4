"""GPT Academic's configuration keys that its plugins read are known here, with GPT Academic's defaults."""

from __future__ import annotations

from request_llms.config_loader import get_config, load_config
from toolbox import get_conf


def test_gpt_academics_keys_are_known_and_get_conf_returns_them(tmp_path, monkeypatch):
    private = tmp_path / "config_private.py"
    private.write_text(
        'MULTI_QUERY_LLM_MODELS = "ollama-qwen3:8b&vllm-Qwen/Qwen3-8B"\nDEFAULT_WORKER_NUM = 3\n', encoding="utf-8"
    )
    assert load_config(private=private, environ={}).warnings == []
    monkeypatch.setenv("LOCALSCHOLAR_CONFIG", str(private))
    get_config.cache_clear()
    try:
        assert get_conf("MULTI_QUERY_LLM_MODELS") == "ollama-qwen3:8b&vllm-Qwen/Qwen3-8B"
        assert get_conf("DEFAULT_WORKER_NUM", "PATH_LOGGING") == [3, "gpt_log"]
        assert get_conf("LAYOUT") == "LEFT-RIGHT" and get_conf("TIMEOUT_SECONDS") == 30
    finally:
        get_config.cache_clear()

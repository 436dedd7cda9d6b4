"""A user edits config_private.py or sets environment variables; mistakes stop start-up with one line per key."""

from __future__ import annotations

import pytest

from request_llms.config_loader import read_private
from request_llms.errors import ConfigError
from tests.support.helpers import make_config


def test_defaults_load_and_the_selected_model_is_offered(tmp_path):
    config = make_config(tmp_path)
    assert config["LLM_MODEL"] in config["AVAIL_LLM_MODELS"]
    assert config["OLLAMA_API_BASE"] == "http://localhost:11434"


def test_environment_beats_private_file_which_beats_defaults(tmp_path):
    config = make_config(tmp_path, 'WEB_PORT = 9000\nOLLAMA_API_BASE = "http://127.0.0.1:1"\n', WEB_PORT="9100")
    assert config["WEB_PORT"] == 9100
    assert config["OLLAMA_API_BASE"] == "http://127.0.0.1:1"


def test_lists_and_dicts_come_from_json_in_the_environment(tmp_path):
    config = make_config(
        tmp_path,
        AVAIL_LLM_MODELS='["ollama-a", "vllm-b"]',
        API_URL_REDIRECT='{"https://api.openai.com/v1/chat/completions": "http://localhost:8000/v1/chat/completions"}',
        DISCOVER_LOCAL_MODELS="false",
    )
    assert config["AVAIL_LLM_MODELS"][-2:] == ["ollama-a", "vllm-b"]
    assert config["API_URL_REDIRECT"]["https://api.openai.com/v1/chat/completions"].startswith("http://localhost:8000")
    assert config["DISCOVER_LOCAL_MODELS"] is False


def test_the_selected_model_joins_the_dropdown(tmp_path):
    config = make_config(tmp_path, 'LLM_MODEL = "ollama-x"\nAVAIL_LLM_MODELS = ["gpt-4o-mini"]\n')
    assert config["AVAIL_LLM_MODELS"] == ["ollama-x", "gpt-4o-mini"]


def test_environment_values_are_never_evaluated(tmp_path):
    with pytest.raises(ConfigError, match="AVAIL_LLM_MODELS"):
        make_config(tmp_path, AVAIL_LLM_MODELS="__import__('os').system('echo hacked')")


@pytest.mark.parametrize(
    ("private", "environ", "key"),
    [
        ('LOCAL_MODEL_DEVICE = "gpu"\n', {}, "LOCAL_MODEL_DEVICE"),
        ('LOCAL_MODEL_QUANT = "INT3"\n', {}, "LOCAL_MODEL_QUANT"),
        ("WEB_PORT = 70000\n", {}, "WEB_PORT"),
        ('WEB_PORT = "7860"\n', {}, "WEB_PORT"),
        ("", {"WEB_PORT": "abc"}, "WEB_PORT"),
        ('LLM_MODEL = "ollama-qwen(max_token=abc)"\n', {}, "LLM_MODEL"),
        ('AVAIL_LLM_MODELS = ["nonsense"]\n', {}, "AVAIL_LLM_MODELS"),
        ('OLLAMA_API_BASE = "localhost:11434"\n', {}, "OLLAMA_API_BASE"),
        ('AUTHENTICATION = [["alice"]]\n', {}, "AUTHENTICATION"),
        ('PARALLEL_REQUESTS = {"ollama": 0}\n', {}, "PARALLEL_REQUESTS"),
        ("", {"PARALLEL_REQUESTS": '{"vllm": "many"}'}, "PARALLEL_REQUESTS"),
        ('CUSTOM_FUNCTIONS = {"Mine": {"before": "x"}}\n', {}, "CUSTOM_FUNCTIONS"),
        ("MAX_UPLOAD_MB = 0\n", {}, "MAX_UPLOAD_MB"),
    ],
)
def test_a_bad_value_names_the_key_the_value_and_the_fix(tmp_path, private, environ, key):
    with pytest.raises(ConfigError) as caught:
        make_config(tmp_path, private, **environ)
    assert key in caught.value.en and key in caught.value.zh
    assert caught.value.exit_code == 2


def test_every_bad_key_gets_its_own_line(tmp_path):
    with pytest.raises(ConfigError) as caught:
        make_config(tmp_path, 'LOCAL_MODEL_DEVICE = "gpu"\nWEB_PORT = 0\n')
    lines = caught.value.en.splitlines()
    assert len(lines) == 3 and "LOCAL_MODEL_DEVICE" in lines[1] and "WEB_PORT" in lines[2]


def test_an_unknown_key_warns_with_the_closest_known_key(tmp_path):
    config = make_config(tmp_path, 'OLAMA_API_BASE = "http://localhost:11434"\n')
    assert any("OLAMA_API_BASE" in w.en and "OLLAMA_API_BASE" in w.en for w in config.warnings)


def test_the_private_file_is_read_as_data_not_run(tmp_path):
    marker = tmp_path / "ran"
    private = tmp_path / "config_private.py"
    private.write_text(f'import os\nos.mkdir("{marker}")\nWEB_PORT = 8000\n', encoding="utf-8")
    values, skipped = read_private(private)
    assert values == {"WEB_PORT": 8000} and len(skipped) == 2
    assert not marker.exists()
    private.write_text("API_KEY = open('key.txt').read()\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="line 1"):
        read_private(private)


def test_the_shipped_example_is_a_valid_configuration(tmp_path):
    from request_llms.config_loader import ROOT

    config = make_config(tmp_path, (ROOT / "config_private.py.example").read_text(encoding="utf-8"))
    assert config.warnings == []
    assert config["VLLM_API_BASE"] == "http://localhost:8000/v1"

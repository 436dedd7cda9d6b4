"""The model list offers what works: configured models first, then those found on local servers; config.py's
example models only when the owner lists them; each model that cannot answer says why and how to fix it."""

from __future__ import annotations

import pytest

from request_llms import listing
from request_llms.errors import ModelNotAllowed
from request_llms.listing import list_models
from request_llms.native.catalog import BUILTIN
from request_llms.registry import check_allowed
from request_llms.runtime import runtime_of
from tests.support.helpers import make_config

OLLAMA_URL = "http://localhost:11434"
LLAMA_URL = "http://localhost:8080/v1"
VLLM_URL = "http://localhost:8000/v1"
EXAMPLES = ("ollama-qwen2.5:7b", "vllm-Qwen/Qwen2.5-7B-Instruct", "chatglm4", "gpt-4o-mini", "deepseek-chat")


@pytest.fixture
def servers(monkeypatch):
    """What discovery finds, set by each test: {server: {identifier: context}}; every other server is down."""
    found: dict[str, dict[str, int | None]] = {}
    monkeypatch.setattr(listing, "discover", lambda backends, timeout=1.5: (dict(found), {}))
    return found


def entries(config) -> dict:
    return {entry.identifier: entry for entry in list_models(runtime_of(config).backends)}


def test_a_fresh_install_offers_only_the_built_in_model_and_what_it_finds(tmp_path, servers):
    config = make_config(tmp_path)
    assert config["AVAIL_LLM_MODELS"] == [BUILTIN]
    servers[OLLAMA_URL] = {"ollama-gemma3:270m": 32768}
    listed = list_models(runtime_of(config).backends)
    assert [e.identifier for e in listed] == [BUILTIN, "ollama-gemma3:270m"]
    assert all(e.problem is None and e.reachable is not False for e in listed)


def test_a_fresh_install_lists_nothing_that_cannot_answer(tmp_path):
    """With whatever runs on this machine's usual ports: every entry is ready or found running."""
    listed = list_models(runtime_of(make_config(tmp_path)).backends)
    assert listed[0].identifier == BUILTIN
    assert [e.identifier for e in listed if e.problem or e.reachable is False] == []


def test_config_examples_appear_only_when_the_owner_lists_them(tmp_path, servers):
    assert not set(EXAMPLES) & {e.identifier for e in list_models(runtime_of(make_config(tmp_path)).backends)}
    config = make_config(tmp_path, f"AVAIL_LLM_MODELS = {list(EXAMPLES)!r}\n")
    assert [e.identifier for e in list_models(runtime_of(config).backends)] == [BUILTIN, *EXAMPLES]


def test_a_cloud_key_offers_its_vendors_model_unless_the_owner_lists_models(tmp_path):
    keyed = make_config(tmp_path, 'DEEPSEEK_API_KEY = "sk-test"\n')
    assert keyed["AVAIL_LLM_MODELS"] == [BUILTIN, "deepseek-chat"]
    listed = make_config(tmp_path, 'DEEPSEEK_API_KEY = "sk-test"\nAVAIL_LLM_MODELS = ["chatglm4"]\n')
    assert listed["AVAIL_LLM_MODELS"] == [BUILTIN, "chatglm4"]
    from_env = make_config(tmp_path, "", API_KEY="sk-test", AVAIL_LLM_MODELS='["ollama-a"]')
    assert from_env["AVAIL_LLM_MODELS"] == [BUILTIN, "ollama-a"]


def test_configured_models_come_first_then_the_discovered_ones_once(tmp_path, servers):
    config = make_config(tmp_path, 'LLM_MODEL = "ollama-qwen2.5:7b"\nAVAIL_LLM_MODELS = ["chatglm4", "llamacpp-gemma"]\n')
    servers[OLLAMA_URL] = {"ollama-gemma3:270m": None, "ollama-qwen2.5:7b": 32768}
    servers[LLAMA_URL] = {"llamacpp-gemma": 4096, "llamacpp-other": None}
    listed = list_models(runtime_of(config).backends)
    assert [e.identifier for e in listed] == [
        "ollama-qwen2.5:7b",
        "chatglm4",
        "llamacpp-gemma",
        "ollama-gemma3:270m",
        "llamacpp-other",
    ]
    assert [e.source for e in listed] == ["configured"] * 3 + ["discovered"] * 2


def test_a_model_not_offered_is_still_refused(tmp_path, servers):
    fresh = make_config(tmp_path)
    assert check_allowed(BUILTIN, fresh)
    for example in EXAMPLES:
        with pytest.raises(ModelNotAllowed):
            check_allowed(example, fresh)
    assert check_allowed("ollama-gemma3:270m", fresh, {"ollama-gemma3:270m"})
    assert check_allowed("gpt-4o-mini", make_config(tmp_path, 'API_KEY = "sk-test"\n'))


def problem(config, identifier: str, lang: str) -> str:
    found = entries(config)[identifier].problem
    assert found is not None, f"{identifier} should say what keeps it from answering"
    return found.line(lang)


def test_a_native_model_without_its_folder_says_not_downloaded(tmp_path, servers):
    config = make_config(tmp_path, 'AVAIL_LLM_MODELS = ["chatglm4", "local-mine"]\n')
    assert problem(config, "chatglm4", "zh").startswith("未下载 — 运行 `python -m request_llms pull chatglm4`")
    assert problem(config, "chatglm4", "en").startswith("not downloaded — `python -m request_llms pull chatglm4`")
    assert "CHATGLM_LOCAL_MODEL_PATH" in problem(config, "chatglm4", "zh")
    assert "pull local-mine --repo ORG/NAME" in problem(config, "local-mine", "en")


def test_a_native_folder_without_weights_says_not_downloaded_there(tmp_path, servers):
    empty = tmp_path / "glm"
    empty.mkdir()
    config = make_config(tmp_path, f'AVAIL_LLM_MODELS = ["chatglm4"]\nCHATGLM_LOCAL_MODEL_PATH = "{empty}"\n')
    zh, en = problem(config, "chatglm4", "zh"), problem(config, "chatglm4", "en")
    assert zh.startswith("未下载 — ") and str(empty) in zh
    assert en.startswith("not downloaded — ") and "pull chatglm4" in en


def test_a_model_on_a_stopped_server_says_server_not_running_with_its_start_command(tmp_path, servers):
    config = make_config(tmp_path, 'AVAIL_LLM_MODELS = ["ollama-qwen2.5:7b", "vllm-Qwen/Qwen2.5-7B-Instruct"]\n')
    assert problem(config, "ollama-qwen2.5:7b", "zh").startswith("服务未启动 — ")
    assert problem(config, "ollama-qwen2.5:7b", "en").startswith("server not running — ")
    assert "`ollama serve`" in problem(config, "ollama-qwen2.5:7b", "zh")
    vllm = problem(config, "vllm-Qwen/Qwen2.5-7B-Instruct", "en")
    assert VLLM_URL in vllm and "--model Qwen/Qwen2.5-7B-Instruct`" in vllm
    assert entries(config)["ollama-qwen2.5:7b"].reachable is False


def test_a_model_missing_from_a_running_server_says_how_to_get_it(tmp_path, servers):
    servers[OLLAMA_URL] = {"ollama-gemma3:270m": None}
    servers[LLAMA_URL] = {"llamacpp-other": None}
    config = make_config(tmp_path, 'AVAIL_LLM_MODELS = ["ollama-qwen2.5:7b", "llamacpp-gemma"]\n')
    pull = "`ollama pull qwen2.5:7b`"
    assert problem(config, "ollama-qwen2.5:7b", "zh") == f"未拉取 — Ollama 中还没有 qwen2.5:7b：运行 {pull}"
    assert problem(config, "ollama-qwen2.5:7b", "en") == f"not pulled — Ollama does not have qwen2.5:7b yet: {pull}"
    assert problem(config, "llamacpp-gemma", "zh").startswith("未加载 — ")
    assert problem(config, "llamacpp-gemma", "en").startswith("not loaded — ")
    assert "`llama-server -m gemma.gguf`" in problem(config, "llamacpp-gemma", "en")


def test_a_cloud_model_without_its_key_says_so(tmp_path, servers):
    config = make_config(tmp_path, 'AVAIL_LLM_MODELS = ["gpt-4o-mini", "deepseek-chat"]\nDEEPSEEK_API_KEY = "sk-test"\n')
    assert problem(config, "gpt-4o-mini", "zh") == "缺少密钥 — 请在 config_private.py 中设置 API_KEY"
    assert problem(config, "gpt-4o-mini", "en") == "no API key — set API_KEY in config_private.py"
    assert entries(config)["deepseek-chat"].problem is None


def test_a_local_server_without_an_address_says_which_setting_to_fix(tmp_path, servers):
    config = make_config(tmp_path, 'AVAIL_LLM_MODELS = ["openai-compat-lab"]\n')
    zh = problem(config, "openai-compat-lab", "zh")
    assert zh.startswith("设置有误 — ") and "LOCAL_SERVER_URLS" in zh
    assert problem(config, "openai-compat-lab", "en").startswith("setting to fix — ")


def test_a_compare_entry_names_the_part_that_cannot_answer(tmp_path, servers):
    config = make_config(tmp_path, f'AVAIL_LLM_MODELS = ["{BUILTIN}&gpt-4o-mini"]\n')
    entry = entries(config)[f"{BUILTIN}&gpt-4o-mini"]
    assert entry.problem.state.text("zh") == "gpt-4o-mini 缺少密钥"
    assert entry.problem.state.text("en") == "gpt-4o-mini no API key"


def test_servers_not_yet_asked_say_nothing(tmp_path):
    config = make_config(tmp_path, 'AVAIL_LLM_MODELS = ["ollama-qwen2.5:7b"]\n')
    assert all(
        e.problem is None for e in list_models(runtime_of(config).backends, probe=False) if e.identifier == "ollama-qwen2.5:7b"
    )

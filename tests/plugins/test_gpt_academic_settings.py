"""GPT Academic's configuration keys are known here, with its defaults, and the names its plugins import from
LocalScholar's modules of the same name are there."""

from __future__ import annotations

import ast
import importlib
import warnings
from pathlib import Path

import pytest

from crazy_functions.runtime.registry import join_gpt_academic
from request_llms.config_loader import get_config, load_config
from tests.support.gpt_academic import NO_CHECKOUT, ROOT, checkout
from toolbox import get_conf

# GPT Academic's own web server and page state, which no plugin of its imports
SERVER_FILES = {"fastapi_stream_server.py", "cookie_manager.py"}


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


def _assigned(path: Path) -> dict[str, ast.expr]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    return {
        t.id: node.value for node in tree.body if isinstance(node, ast.Assign) for t in node.targets if isinstance(t, ast.Name)
    }


@pytest.mark.skipif(checkout() is None, reason=NO_CHECKOUT)
def test_every_key_of_a_checkouts_config_is_known_and_read_by_get_conf(tmp_path, monkeypatch):
    theirs = _assigned(checkout() / "config.py")
    private = tmp_path / "config_private.py"
    private.write_text(
        "ALLOW_RESET_CONFIG = False\nSEMANTIC_SCHOLAR_KEY = 'abc'\nAUTOGEN_USE_DOCKER = False\nAPI_KEY = 'sk-" + "x" * 40 + "'\n",
        encoding="utf-8",
    )
    assert load_config(private=private, environ={}).warnings == []
    monkeypatch.setenv("LOCALSCHOLAR_CONFIG", str(private))
    get_config.cache_clear()
    try:
        values = get_conf(*theirs)  # none raises KeyError
        assert len(values) == len(theirs) > 80 and get_conf("SEMANTIC_SCHOLAR_KEY") == "abc"
        assert get_conf("DAAS_SERVER_URLS") == [] and get_conf("HUGGINGFACE_ACCESS_TOKEN") == ""  # no address, no sample key
        join_gpt_academic(str(checkout()))
        from shared_utils.connect_void_terminal import get_chat_default_kwargs  # the checkout's: its Milvus RAG worker's

        assert get_chat_default_kwargs()["llm_kwargs"]["api_key"] == ""  # API_KEY is set, and never handed over
    finally:
        get_config.cache_clear()


def _imported_names(path: Path) -> list[tuple[str, str]]:
    """(module, name) of each `from module import name` of LocalScholar's packages in one file."""
    with warnings.catch_warnings():  # its files hold strings with escapes Python warns about
        warnings.simplefilter("ignore", SyntaxWarning)
        warnings.simplefilter("ignore", DeprecationWarning)
        tree = ast.parse(path.read_text(encoding="utf-8"))
    ours = ("toolbox", "crazy_functions", "shared_utils", "request_llms")
    return [
        (node.module, alias.name)
        for node in ast.walk(tree)
        if isinstance(node, ast.ImportFrom) and node.module and not node.level and node.module.split(".")[0] in ours
        for alias in node.names
        if alias.name != "*"
    ]


def _ours(module: str) -> bool:
    place = ROOT.joinpath(*module.split("."))
    return place.with_suffix(".py").is_file() or (place / "__init__.py").is_file()


@pytest.mark.skipif(checkout() is None, reason=NO_CHECKOUT)
def test_each_name_a_checkouts_plugins_import_from_a_module_of_ours_is_there():
    # what loads from a checkout: its crazy_functions/ and shared_utils/ files that no file of ours hides
    lacking = []
    for path in [*checkout().glob("crazy_functions/**/*.py"), *checkout().glob("shared_utils/*.py")]:
        relative = path.relative_to(checkout())
        if (ROOT / relative).exists() or relative.name in SERVER_FILES:
            continue
        for module, name in _imported_names(path):
            if _ours(module) and not _ours(f"{module}.{name}") and not hasattr(importlib.import_module(module), name):
                lacking.append(f"{relative}: from {module} import {name}")
    assert lacking == []

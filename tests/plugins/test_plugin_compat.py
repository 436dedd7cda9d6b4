"""Plugins written for GPT Academic run here: its imports, its request helpers, its error decorator, and
CUSTOM_PLUGINS to put them in the menu."""

from __future__ import annotations

import pytest

from crazy_functions.crazy_utils import request_gpt_model_multi_threads_with_very_awesome_ui_and_high_efficiency
from crazy_functions.runtime.registry import all_plugins, plugin_named
from request_llms.compat import predict_no_ui_long_connection
from request_llms.config_loader import get_config, load_config
from request_llms.errors import ModelNotAllowed
from request_llms.runtime import runtime_of
from tests.support.gpt_academic.review_plugin import 出错的插件, 批量提问
from tests.support.plugin_support import LLAMA, OLLAMA, drive, make_chatbot


def test_a_gpt_academic_plugin_runs_its_batch_and_watches_a_streamed_answer(llama_kwargs, tmp_path):
    chatbot = make_chatbot(tmp_path)
    drive(批量提问, "Name a fruit.\nName a colour.\nName a city.", llama_kwargs, chatbot)
    assert chatbot[-1] == ["完成", "3 个回答"]
    assert len(chatbot.requests) == 3 and all(p.state == "done" and p.answer for p in chatbot.requests)
    observed = [pair for pair in chatbot if pair[0] == "observe"]
    seen = observed[-1][1] if observed else ""
    assert seen.strip(), "the observe window never received the streamed text"


def test_an_error_in_a_gpt_academic_plugin_is_one_line(llama_kwargs, tmp_path):
    chatbot = make_chatbot(tmp_path, lang="en")
    drive(出错的插件, "go", llama_kwargs, chatbot)
    last = chatbot[-1][1]
    assert last.startswith("working") and "The plugin failed (ValueError: a bug in the plugin)" in last
    assert "Traceback" not in last


def test_custom_plugins_join_the_menu_and_a_bad_one_says_why(tmp_path):
    private = tmp_path / "config_private.py"
    private.write_text(
        'CUSTOM_PLUGINS = {"批量提问": "tests.support.gpt_academic.review_plugin:批量提问", "坏的": "no_such_module:main"}\n',
        encoding="utf-8",
    )
    config = load_config(private=private, environ={})
    keys = [plugin.key for plugin in all_plugins(config)]
    assert keys[-2:] == ["custom-0", "custom-1"]
    good, bad = plugin_named("custom-0", config), plugin_named("custom-1", config)
    assert good.run is 批量提问 and good.menu_label("zh") == "[自定义] 批量提问"
    chatbot = make_chatbot(tmp_path)
    drive(bad.run, "", {"llm_model": "x"}, chatbot)
    assert "找不到插件模块 no_such_module" in chatbot[-1][1] and "CUSTOM_PLUGINS" in chatbot[-1][1]


def test_a_plugin_that_cannot_load_says_which_name_or_package_it_lacks(tmp_path, monkeypatch):
    folder = tmp_path / "plugins"
    folder.mkdir()
    (folder / "needs_name.py").write_text("from toolbox import a_helper_not_here\n\ndef main(*a):\n    yield\n")
    (folder / "needs_package.py").write_text("import some_package_not_installed\n\ndef main(*a):\n    yield\n")
    (folder / "broken.py").write_text("def main(:\n")
    (folder / "fine.py").write_text("def other(*a):\n    yield\n")
    monkeypatch.syspath_prepend(str(folder))
    plugins = {"a": "needs_name:main", "b": "needs_package:main", "c": "broken:main", "d": "fine:main"}
    private = tmp_path / "config_private.py"
    private.write_text(f"CUSTOM_PLUGINS = {plugins!r}\n", encoding="utf-8")
    config = load_config(private=private, environ={})
    lines = {}
    for i, key in enumerate(plugins):
        chatbot = make_chatbot(tmp_path, lang="en")
        drive(plugin_named(f"custom-{i}", config).run, "", {"llm_model": "x"}, chatbot)
        lines[key] = chatbot[-1][1]
    assert "needs toolbox.a_helper_not_here, which LocalScholar does not provide" in lines["a"]
    assert "pip install some_package_not_installed" in lines["b"]
    assert "failed while loading (SyntaxError" in lines["c"]
    assert "has no function main" in lines["d"]
    assert not any("Traceback" in line for line in lines.values())


@pytest.fixture
def both_servers(monkeypatch, tmp_path, llama_server, ollama_server):
    """The configuration with the session's llama-server and Ollama, both offered."""
    private = tmp_path / "config_private.py"
    private.write_text(
        f'LOCAL_SERVER_URLS = {{"llamacpp": "{llama_server.base_url}/v1"}}\nOLLAMA_API_BASE = "{ollama_server.base_url}"\n'
        f'AVAIL_LLM_MODELS = ["{LLAMA}", "{OLLAMA}"]\n',
        encoding="utf-8",
    )
    monkeypatch.setenv("LOCALSCHOLAR_CONFIG", str(private))
    get_config.cache_clear()
    yield
    get_config.cache_clear()


def test_the_multi_thread_helper_asks_each_model_of_a_and_b_for_each_input(both_servers, tmp_path):
    result = {}

    def plugin(txt, llm_kwargs, plugin_kwargs, chatbot, history, system_prompt, user_request):
        result["answers"] = yield from request_gpt_model_multi_threads_with_very_awesome_ui_and_high_efficiency(
            ["Name one fruit.", "Name one colour."], ["fruit", "colour"], llm_kwargs, chatbot, [[], []], ["", ""]
        )

    chatbot = make_chatbot(tmp_path)
    drive(plugin, "", {"llm_model": f"{LLAMA}&{OLLAMA}", "temperature": 0, "max_length": 16}, chatbot)
    answers = result["answers"]
    assert answers[0::2] == ["fruit", "colour"]
    for answer in answers[1::2]:
        blocks = answer.split("\n\n---\n\n")
        assert [b.split("\n\n", 1)[0] for b in blocks] == [f"**{LLAMA}**", f"**{OLLAMA}**"], answer
    assert sorted(p.model for p in chatbot.requests) == sorted([LLAMA, OLLAMA] * 2)
    assert all(p.state == "done" for p in chatbot.requests)


def test_predict_no_ui_asks_each_model_of_a_and_b_and_the_pages_guard_refuses_a_typed_url(both_servers):
    try:
        window = ["", 0, ""]  # no watchdog: this caller does not refresh window[1] while it waits
        answer = predict_no_ui_long_connection("Name one colour.", {"llm_model": f"{LLAMA}&{OLLAMA}", "temperature": 0,
                                               "max_length": 24}, [], "", window)  # fmt: skip
        blocks = answer.split("\n\n---\n\n")
        assert [b.split("\n\n", 1)[0] for b in blocks] == [f"**{LLAMA}**", f"**{OLLAMA}**"], answer
        assert all(b.split("\n\n", 1)[1].strip() for b in blocks), answer
        assert window[0].startswith(f"**{LLAMA}**")  # the caller saw the answers arrive
        runtime_of(get_config()).open_to_users()  # as the page does when it starts
        typed = f"{LLAMA}(base_url=http://127.0.0.1:9/v1)"
        with pytest.raises(ModelNotAllowed):
            predict_no_ui_long_connection("hi", {"llm_model": typed})
        with pytest.raises(ModelNotAllowed):
            predict_no_ui_long_connection("hi", {"llm_model": f"{OLLAMA}&{typed}"})
    finally:
        runtime_of(get_config()).untrusted = False

"""GPT Academic's bridge calls on a real llama-server: a plugin written for GPT Academic runs here unchanged."""

from __future__ import annotations

import threading
import time

import pytest

from request_llms.compat import UserCancelled, predict, predict_no_ui_long_connection
from request_llms.config_loader import get_config

LLAMA = "llamacpp-gemma-270m"


@pytest.fixture
def llm_kwargs(monkeypatch, tmp_path, llama_server):
    private = tmp_path / "config_private.py"
    private.write_text(f'LOCAL_SERVER_URLS = {{"llamacpp": "{llama_server.base_url}/v1"}}\n', encoding="utf-8")
    monkeypatch.setenv("LOCALSCHOLAR_CONFIG", str(private))
    get_config.cache_clear()
    yield {"llm_model": LLAMA, "temperature": 0, "top_p": 1.0, "max_length": 48}
    get_config.cache_clear()


def summarise_plugin(txt, llm_kwargs, plugin_kwargs, chatbot, history, system_prompt, user_request):
    """Written the way GPT Academic's plugins are: the request runs on a thread, the UI watches its window."""
    chatbot.append([txt, "…"])
    yield chatbot, history, "正常"
    window = ["", time.time(), ""]
    result = {}

    def work():
        result["text"] = predict_no_ui_long_connection(txt, llm_kwargs, [], system_prompt, observe_window=window)

    thread = threading.Thread(target=work)
    thread.start()
    while thread.is_alive():
        window[1] = time.time()  # the watchdog: still watching
        chatbot[-1] = [txt, window[0]]
        yield chatbot, history, "正常"
        time.sleep(0.02)
    thread.join()
    chatbot[-1] = [txt, result["text"]]
    history.extend([txt, result["text"]])
    yield chatbot, history, "完成"


def test_a_gpt_academic_plugin_sees_the_answer_stream_through_its_window(llm_kwargs):
    chatbot, history, seen = [], [], set()
    for shown, _, _ in summarise_plugin("Count from 1 to 20.", llm_kwargs, {}, chatbot, history, "", None):
        seen.add(shown[-1][1])
    assert len(seen) >= 4, "the window did not fill piece by piece"
    assert history[1] == chatbot[-1][1] and history[1].strip()


def test_a_stale_watchdog_stops_the_request_and_keeps_the_text(llm_kwargs, llama_server):
    window = ["", time.time() - 60, ""]
    kwargs = {**llm_kwargs, "max_length": 400}
    with pytest.raises(UserCancelled) as caught:
        predict_no_ui_long_connection("Write a long story about a ship.", kwargs, observe_window=window)
    assert isinstance(caught.value, RuntimeError) and caught.value.partial == window[0]
    assert llama_server.wait_idle(3), "llama-server still generating 3 s after the watchdog expired"


def test_predict_streams_into_the_chat_and_extends_the_history(llm_kwargs):
    chatbot, history = [["earlier", "answer"]], ["earlier", "answer"]
    updates = list(predict("Say hello.", llm_kwargs, {}, chatbot, history, "Be brief."))
    assert len(updates) >= 3
    chatbot, history, status = updates[-1]
    assert chatbot[0] == ["earlier", "answer"] and chatbot[-1][0] == "Say hello." and chatbot[-1][1].strip()
    assert history[-2:] == ["Say hello.", chatbot[-1][1]] and status == "正常"


def test_a_bad_or_unreachable_model_is_the_one_line_error_in_the_chat(llm_kwargs):
    *_, (chatbot, _, status) = predict("Hi", {"llm_model": "ollama-nothing:1b"}, {}, [], [])
    assert chatbot[-1][1].startswith("⚠") and "Ollama" in chatbot[-1][1] and status.strip()
    *_, (chatbot, _, _) = predict("Hi", {"llm_model": "ollama-x(max_token=abc)"}, {}, [], [])
    assert chatbot[-1][1].startswith("⚠") and "max_token=abc" in chatbot[-1][1]

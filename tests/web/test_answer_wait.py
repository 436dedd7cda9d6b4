"""The answer's bubble shows the wait (the model loading, the requests ahead) until the first word, each update
in the language the page shows at that moment; the Stop buttons are bright only while a run goes on."""

from __future__ import annotations

import copy

import gradio as gr
import pytest

from request_llms.chat import ChatStream
from request_llms.request import Status
from tests.support.helpers import make_config
from webui import handlers as handlers_module
from webui.handlers import Handlers
from webui.waiting import bar, waiting_line

MODEL = "builtin-gemma3-270m"
LOADING = Status("loading", en=f"Loading {MODEL}: starting the model 40%", zh=f"正在加载模型 {MODEL}：启动模型 40%", percent=40)
QUEUED = Status("queued", en=f"Waiting for {MODEL}: 2 request(s) ahead", zh="排队中：前面还有 2 个请求", position=2)
RUNNING = Status("running", en=f"{MODEL} is answering", zh=f"{MODEL} 正在回答")


@pytest.fixture
def handlers(tmp_path):
    return Handlers(make_config(tmp_path, f"DATA_DIR = {str(tmp_path / 'data')!r}\n"))


@pytest.fixture
def request_():
    return gr.Request(session_hash="page-1")


def answering(monkeypatch, events):
    """`chat` answers with these events; a callable among them runs when the answer reaches it."""

    def fake_chat(spec, prompt, history, system, options, cancel, config, affinity=None):
        def stream():
            for event in events:
                if callable(event):
                    event()
                else:
                    yield event

        return ChatStream(spec, stream(), cancel)

    monkeypatch.setattr(handlers_module, "chat", fake_chat)


def bubbles(updates) -> list[str]:
    """The answer's bubble in each update that redraws the chat."""
    return [update[0][-1]["content"] for update in updates if isinstance(update[0], list)]


def drawn(run) -> list[tuple]:
    """Each update as the page got it (the handler redraws from one list it keeps changing)."""
    return [tuple(copy.deepcopy(item) if isinstance(item, list) else item for item in update) for update in run]


def ask(handlers, request, lang="zh", text="Hello?"):
    return drawn(handlers.send(text, MODEL, 0.0, 1.0, 16, "", None, lang, request))


def test_the_bubble_shows_the_queue_then_the_loading_bar_then_the_answer(handlers, request_, monkeypatch):
    answering(monkeypatch, [QUEUED, LOADING, RUNNING, "Paris", " is the capital."])
    shown = bubbles(ask(handlers, request_, "en"))
    assert shown[0] == waiting_line(None, "en") == "⏳ Waiting for the model…"
    assert f"⏳ Waiting for {MODEL}: 2 request(s) ahead" in shown
    loading = next(text for text in shown if "Loading" in text)
    assert loading.startswith(f"⏳ Loading {MODEL}: starting the model 40%") and bar(40) in loading
    assert bar(40) == '<progress value="40" max="100">40%</progress>' and bar(140) == bar(100)
    assert f"⏳ {MODEL} is answering" in shown
    first_text = next(i for i, text in enumerate(shown) if "Paris" in text)
    assert all("⏳" not in text for text in shown[first_text:]), shown
    assert shown[-1] == "Paris is the capital."


def test_the_wait_is_in_chinese_on_the_chinese_page(handlers, request_, monkeypatch):
    answering(monkeypatch, [QUEUED, LOADING, "巴黎"])
    shown = bubbles(ask(handlers, request_, "zh"))
    assert shown[0] == "⏳ 等待模型回答…"
    assert "⏳ 排队中：前面还有 2 个请求" in shown
    assert any(text.startswith(f"⏳ 正在加载模型 {MODEL}：启动模型 40%") for text in shown)
    assert shown[-1] == "巴黎"


def test_an_answer_that_ends_before_any_word_leaves_no_wait_behind(handlers, request_, monkeypatch):
    answering(monkeypatch, [LOADING])
    updates = ask(handlers, request_, "en")
    assert bubbles(updates)[-1] == ""
    conv = updates[-1][1]
    assert conv.messages[-1] == {"role": "assistant", "content": ""}


def test_a_page_that_goes_away_while_the_model_loads_keeps_no_wait(handlers, request_, monkeypatch):
    answering(monkeypatch, [LOADING, "never read"])
    run = handlers.send("Hello?", MODEL, 0.0, 1.0, 16, "", None, "en", request_)
    while "Loading" not in (update := next(run))[0][-1]["content"]:
        pass
    run.close()
    assert update[1].messages[-1] == {"role": "assistant", "content": ""}


def test_each_update_follows_a_language_switch_made_while_the_answer_runs(handlers, request_, monkeypatch):
    switch = lambda: handlers.set_language("en", request_)  # noqa: E731 - the user presses English mid-answer
    answering(monkeypatch, [LOADING, switch, QUEUED, "Paris"])
    updates = ask(handlers, request_, "zh")
    shown = bubbles(updates)
    assert any(text.startswith("⏳ 正在加载模型") for text in shown)
    assert f"⏳ Waiting for {MODEL}: 2 request(s) ahead" in shown
    statuses = [update[2] for update in updates if isinstance(update[2], str)]
    assert "first token" in statuses[-1] and "首字" not in statuses[-1], statuses


def test_the_stop_buttons_are_bright_only_while_a_run_goes_on(handlers, request_, monkeypatch):
    answering(monkeypatch, [LOADING, "Paris"])
    run = handlers.with_stop(handlers.send, 5)
    updates = list(run("Hello?", MODEL, 0.0, 1.0, 16, "", None, "en", request_))
    first, last = updates[0][-2:], updates[-1][-2:]
    assert all(b.interactive and b.variant == "stop" for b in first)
    assert all(b.interactive is False and b.variant == "secondary" for b in last)
    assert all(len(update) == 7 for update in updates)
    assert updates[-1][:5] == updates[-2][:5]  # the run's last update again: what an API caller gets

    other = handlers.begin(request_)  # another run of the same page still goes on: Stop stays bright
    try:
        last = list(run("Hello?", MODEL, 0.0, 1.0, 16, "", None, "en", request_))[-1][-2:]
        assert all(b.interactive and b.variant == "stop" for b in last)
    finally:
        handlers.end(request_, other)

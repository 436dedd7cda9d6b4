"""The web page in real Chromium, against `python main.py` talking to real llama-server, Ollama and the built-in model.

Screenshots land in artifacts/web/.
"""

from __future__ import annotations

import re
import sqlite3
import time
from pathlib import Path

import httpx
import pytest

from tests.support.servers.running import free_port
from tests.support.webapp import (
    LLAMA,
    OLLAMA,
    answers,
    app_settings,
    last_answer,
    open_page,
    pick_model,
    running_app,
    send,
    set_max_length,
    set_setting,
    shot,
    wait_for_status,
)

DONE = r"tok/s|首字"


@pytest.fixture(scope="module")
def app(tmp_path_factory, llama_server, ollama_server):
    folder = tmp_path_factory.mktemp("web")
    with running_app(folder, app_settings(llama_server, ollama_server)) as running:
        yield running


def _stored(app) -> list[tuple[str, str, str]]:
    with sqlite3.connect(app.data / "conversations.sqlite3") as db:
        return db.execute("SELECT user, messages, history FROM conversations").fetchall()


def test_an_answer_streams_in_and_the_figures_follow(app, context):
    page = open_page(context, app.url)
    pick_model(page, LLAMA)
    set_max_length(page, 96)
    set_setting(page, "temperature", 0)  # sampled, this base model may end at once with nothing to show
    send(page, "Count from 1 to 30, separated by commas.")
    seen = set()
    deadline = time.monotonic() + 120
    while not re.search(DONE, page.inner_text("#status")) and time.monotonic() < deadline:
        if text := last_answer(page):
            seen.add(text)
        page.wait_for_timeout(30)
    status = wait_for_status(page, DONE, timeout=5)
    assert len(seen) >= 3, f"the answer arrived in {len(seen)} piece(s), not streamed"
    assert "首字" in status and "tok/s" in status and "上下文" in status
    assert last_answer(page).strip()
    shot(page, "answer")


def test_stop_ends_the_answer_and_the_server_goes_idle(app, context, llama_server):
    page = open_page(context, app.url)
    pick_model(page, LLAMA)
    send(page, "Write a very long story about a lighthouse keeper, with many chapters.")
    deadline = time.monotonic() + 60
    while len(last_answer(page)) < 40 and time.monotonic() < deadline:
        page.wait_for_timeout(50)
    assert llama_server.busy_slots(), "the server should be generating before Stop"
    page.click("#stop-btn")
    status = wait_for_status(page, "已停止", timeout=10)
    assert llama_server.wait_idle(5), "llama-server still generating 5 s after Stop"
    kept = last_answer(page)
    assert len(kept) >= 40, "the partial answer was lost"
    page.wait_for_timeout(1000)
    assert last_answer(page) == kept, "text kept arriving after Stop"
    assert "tok/s" in status or "首字" in status


def test_a_function_button_wraps_the_text_in_its_prompt(app, context):
    page = open_page(context, app.url)
    pick_model(page, LLAMA)
    set_max_length(page, 64)
    page.fill("#user-input textarea", "The results shows that the method work well on small datasets.")
    page.click("#fn-grammar")
    wait_for_status(page, DONE)
    shown = page.locator("#chatbot .user-row").last.inner_text()
    assert "查找语法错误" in shown and "The results shows" in shown
    assert last_answer(page).strip()
    sent = [history for _, _, history in _stored(app) if "The results shows" in history]
    assert sent and "Markdown table" in sent[-1], "the model was not sent the function's prompt"


def test_an_error_is_one_clear_line_in_the_chat(tmp_path, context, llama_server):
    closed = f"http://127.0.0.1:{free_port()}"
    settings = {"OLLAMA_API_BASE": closed, "AVAIL_LLM_MODELS": [OLLAMA], "LLM_MODEL": OLLAMA}
    with running_app(tmp_path, settings) as down:
        page = open_page(context, down.url)
        option = page.locator("#model-select input").input_value()
        assert OLLAMA in option and "服务未启动" in option, f"stopped server's model not marked: {option!r}"
        note = page.locator("#model-note")
        note.filter(has_text="ollama serve").wait_for(timeout=30_000)
        assert note.inner_text().startswith("⚠ 服务未启动"), note.inner_text()
        page.locator("#lang-select").get_by_text("English").click()
        note.filter(has_text="server not running").wait_for(timeout=30_000)
        page.locator("#lang-select").get_by_text("中文").click()
        note.filter(has_text="服务未启动").wait_for(timeout=30_000)
        send(page, "Hello")
        page.wait_for_function("() => (document.querySelector('#chatbot .bot-row')?.innerText || '').includes('⚠')")
        text = last_answer(page)
        assert "Ollama" in text and "ollama serve" in text and "Traceback" not in text
        assert len(text.strip().splitlines()) <= 2
        shot(page, "error")


def test_ollama_models_found_on_a_running_server_are_offered(app, context):
    page = open_page(context, app.url)
    page.click("#model-select input")
    options = page.get_by_role("option").all_inner_texts()
    found = [o for o in options if o.startswith(OLLAMA)]
    assert found and "⚠" not in found[0] and "Ollama" in found[0], options
    page.get_by_role("option", name=re.compile("^" + re.escape(OLLAMA) + r"\s")).first.click()
    set_max_length(page, 32)
    send(page, "Say hello.")
    wait_for_status(page, DONE)
    assert last_answer(page).strip()


def test_a_reload_keeps_the_conversation_which_exports_and_deletes(app, context):
    page = open_page(context, app.url)
    pick_model(page, LLAMA)
    set_max_length(page, 32)
    send(page, "Remember the word marmalade-4711.")
    wait_for_status(page, DONE)
    page.reload()
    page.wait_for_function("() => document.querySelector('#chatbot')?.innerText.includes('marmalade-4711')")
    page.click("#export-chat")
    page.wait_for_selector("#export-file a")
    exported = list(app.data.glob("users/*/exports/*/*.md"))
    assert len(exported) == 1 and "marmalade-4711" in exported[0].read_text(encoding="utf-8")
    with page.expect_download() as download:  # the browser that owns it may download it (its sealed cookie)
        page.click("#export-file a")
    assert "marmalade-4711" in Path(download.value.path()).read_text(encoding="utf-8")
    page.click("#history-list input")
    assert any("marmalade-4711" in o for o in page.get_by_role("option").all_inner_texts())
    page.get_by_role("option", name=re.compile("marmalade-4711")).first.click()
    page.click("#delete-chat")
    page.wait_for_function("() => !document.querySelector('#chatbot')?.innerText.includes('marmalade-4711')")
    assert not [m for _, m, _ in _stored(app) if "marmalade-4711" in m]
    assert not list(app.data.glob("users/*/exports/*/*.md")), "the export outlived its conversation"


def test_two_browsers_never_see_each_others_conversations(app, browser):
    first = browser.new_context()
    second = browser.new_context()
    try:
        page_a = open_page(first, app.url)
        pick_model(page_a, LLAMA)
        set_max_length(page_a, 32)
        send(page_a, "private-note-aa91")
        wait_for_status(page_a, DONE)
        page_b = open_page(second, app.url)
        assert "private-note-aa91" not in page_b.inner_text("#chatbot")
        page_b.click("#history-list input")
        assert not any("private-note-aa91" in o for o in page_b.get_by_role("option").all_inner_texts())
        pick_model(page_b, LLAMA)
        set_max_length(page_b, 32)
        send(page_b, "other-note-bb52")
        wait_for_status(page_b, DONE)
        page_a.reload()
        page_a.wait_for_function("() => document.querySelector('#chatbot')?.innerText.includes('private-note-aa91')")
        assert "other-note-bb52" not in page_a.inner_text("#chatbot")
    finally:
        first.close()
        second.close()
    owners = {user for user, messages, _ in _stored(app) if "private-note-aa91" in messages or "other-note-bb52" in messages}
    assert len(owners) == 2 and all(owner.startswith("browser:") for owner in owners)


def test_shift_enter_starts_a_new_line_and_enter_sends_in_both_boxes(app, context):
    page = open_page(context, app.url)
    pick_model(page, LLAMA)
    set_max_length(page, 16)
    box = page.locator("#user-input textarea")
    box.click()
    page.keyboard.type("first line kb41")
    page.keyboard.press("Shift+Enter")
    page.keyboard.type("second line kb41")
    page.wait_for_timeout(700)  # long enough for a send to show in the chat
    assert box.input_value() == "first line kb41\nsecond line kb41"
    assert "kb41" not in page.inner_text("#chatbot")
    page.keyboard.press("Enter")
    page.wait_for_function("() => (document.querySelector('#chatbot')?.innerText || '').includes('second line kb41')")
    wait_for_status(page, DONE)
    assert box.input_value() == ""
    asked = page.locator("#chatbot .user-row").all_inner_texts()  # the answer may echo the question: not counted
    assert len(asked) == 1 and "first line kb41\nsecond line kb41" in asked[0], asked  # one message, two lines

    pick_model(page, f"{LLAMA}&{OLLAMA}")  # fills the compare tab
    page.get_by_role("tab", name="多模型对比").click()
    compare = page.locator("#compare-input textarea")
    compare.click()
    page.keyboard.type("colour kb42")
    page.keyboard.press("Shift+Enter")
    page.keyboard.type("and a fruit")
    page.wait_for_timeout(700)
    assert compare.input_value() == "colour kb42\nand a fruit"
    assert not page.locator("#compare-answer-0").is_visible()  # nothing was sent
    page.keyboard.press("Enter")
    page.wait_for_function("() => (document.querySelector('#compare-figures-0')?.innerText || '').includes('tok/s')")


def test_compare_streams_two_models_side_by_side(app, context):
    page = open_page(context, app.url)
    pick_model(page, f"{LLAMA}&{OLLAMA}")  # an A&B identifier fills the compare tab
    set_max_length(page, 48)
    set_setting(page, "temperature", 0)  # at the default temperature the tiny model may stop at once
    page.get_by_role("tab", name="多模型对比").click()
    page.fill("#compare-input textarea", "Name three colours.")
    page.click("#compare-btn")
    for i in range(2):
        page.wait_for_function(f"() => (document.querySelector('#compare-figures-{i}')?.innerText || '').includes('tok/s')")
    first, second = page.inner_text("#compare-answer-0"), page.inner_text("#compare-answer-1")
    assert first.startswith(LLAMA) and second.startswith(OLLAMA)
    assert len(first) > len(LLAMA) + 2 and len(second) > len(OLLAMA) + 2, (first, second)
    assert not page.locator("#compare-answer-2").is_visible()
    shot(page, "compare")


def _statuses_until_done(pages, timeout: float = 600) -> list[list[str]]:
    """Every status line each page shows, watched side by side, until all of them show their figures."""
    seen: list[list[str]] = [[] for _ in pages]
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for page, lines in zip(pages, seen, strict=True):
            text = page.inner_text("#status")
            if not lines or lines[-1] != text:
                lines.append(text)
        if all(lines and re.search(DONE, lines[-1]) for lines in seen):
            return seen
        pages[0].wait_for_timeout(30)
    raise AssertionError(f"no answer in {timeout} s; statuses: {seen}")


def test_the_builtin_default_model_loads_queues_and_answers_from_the_page(app, browser):
    first, second = browser.new_context(), browser.new_context()
    try:
        page_a, page_b = open_page(first, app.url), open_page(second, app.url)
        assert page_a.locator("#model-select input").input_value().startswith("builtin-gemma3-270m")
        for page in (page_a, page_b):
            set_max_length(page, 24)
            set_setting(page, "temperature", 0)
        send(page_a, "Question: What is the capital of France?\nAnswer:")
        send(page_b, "Question: What is the capital of Italy?\nAnswer:")
        seen_a, seen_b = _statuses_until_done([page_a, page_b])
        answer_a = last_answer(page_a)
    finally:
        shot(page_b, "builtin")
        first.close()
        second.close()
    assert any("正在加载模型" in text for text in seen_a + seen_b), (seen_a, seen_b)
    assert any("排队中：前面还有 1 个请求" in text for text in seen_a + seen_b), (seen_a, seen_b)  # one waited for the other
    assert "Paris" in answer_a


def test_english_is_one_click_away(app, context):
    page = open_page(context, app.url)
    assert page.inner_text("#submit-btn").strip() == "提交"
    page.get_by_label("English").check()
    page.wait_for_function("() => document.querySelector('#submit-btn')?.innerText?.trim() === 'Send'")
    assert page.inner_text("#fn-polish").strip() == "Polish (academic)"
    page.reload()
    page.wait_for_function("() => document.querySelector('#submit-btn')?.innerText?.trim() === 'Send'")


def test_uploads_are_kept_per_user_and_over_the_limit_refused(tmp_path, context, llama_server, ollama_server):
    small, big = tmp_path / "notes.txt", tmp_path / "big.bin"
    small.write_text("hello", encoding="utf-8")
    big.write_bytes(b"x" * (2 * 1024 * 1024))
    with running_app(tmp_path / "app", app_settings(llama_server, ollama_server, MAX_UPLOAD_MB=1)) as limited:
        page = open_page(context, limited.url)
        page.get_by_text("上传文件").click()
        page.set_input_files("#file-upload input[type=file]", str(small))
        page.wait_for_function("() => document.querySelector('#upload-note')?.innerText.includes('notes.txt')")
        kept = list((limited.data / "users").glob("*/uploads/notes.txt"))
        assert len(kept) == 1 and kept[0].read_text() == "hello"
        page.set_input_files("#file-upload input[type=file]", str(big))
        page.wait_for_timeout(2000)
        assert not list((limited.data / "users").glob("*/uploads/big.bin"))


def test_no_route_serves_other_files_of_the_server(app):
    for target in ("/etc/passwd", str(app.data / "conversations.sqlite3"), str(app.data / "page.secret"), "config.py"):
        for route in ("gradio_api/file=", "file="):
            response = httpx.get(app.url + route + target, timeout=5)
            assert response.status_code in (403, 404), f"{route}{target} answered {response.status_code}"


def test_sign_in_is_required_when_configured(tmp_path, context, llama_server, ollama_server):
    settings = app_settings(llama_server, ollama_server, AUTHENTICATION=[["alice", "a-long-password"]])
    with running_app(tmp_path, settings) as guarded:
        assert httpx.get(guarded.url + "config", timeout=5).status_code in (401, 403)
        page = context.new_page()
        page.goto(guarded.url)
        page.wait_for_selector("input[type=password]")
        assert page.locator("#chatbot").count() == 0
        page.fill("input[type=text]", "alice")
        page.fill("input[type=password]", "wrong")
        page.keyboard.press("Enter")
        page.wait_for_timeout(1500)
        assert page.locator("#chatbot").count() == 0
        page.fill("input[type=text]", "alice")
        page.fill("input[type=password]", "a-long-password")
        page.keyboard.press("Enter")
        page.wait_for_selector("#chatbot", timeout=30000)
        page.wait_for_timeout(1500)
        pick_model(page, LLAMA)
        set_max_length(page, 32)
        send(page, "signed-in-note-cc13")
        wait_for_status(page, DONE)
        users = {user for user, messages, _ in _stored(guarded) if "signed-in-note-cc13" in messages}
        assert users == {"user:alice"}


def test_a_restart_reopens_the_last_conversation(tmp_path, context, llama_server, ollama_server):
    settings = app_settings(llama_server, ollama_server)
    with running_app(tmp_path, settings) as first:
        page = open_page(context, first.url)
        pick_model(page, LLAMA)
        set_max_length(page, 32)
        send(page, "restart-note-dd24")
        wait_for_status(page, DONE)
        answered = last_answer(page)
    with running_app(tmp_path, settings, port=first.port) as second:
        page = open_page(context, second.url)
        page.wait_for_function("() => document.querySelector('#chatbot')?.innerText.includes('restart-note-dd24')")
        assert answers(page)[-1] == answered
        assert page.locator("#model-select input").input_value().startswith(LLAMA)

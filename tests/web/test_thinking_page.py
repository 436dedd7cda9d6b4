"""A reasoning model on the page and the command line: the thinking folded above the answer, the answer alone
in the bubble's text, in the stored history and on stdout. The model is a real llama-server made to think
inline by a grammar (tests/support/servers/fixtures.py)."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys

import pytest

from tests.support.webapp import (
    ROOT,
    open_page,
    pick_model,
    running_app,
    send,
    set_max_length,
    set_setting,
    shot,
    wait_for_status,
)

MODEL = "llamacpp-gemma-270m"


@pytest.fixture(scope="module")
def app(tmp_path_factory, thinking_llama):
    folder = tmp_path_factory.mktemp("thinking")
    settings = {"LOCAL_SERVER_URLS": {"llamacpp": f"{thinking_llama.base_url}/v1"}, "AVAIL_LLM_MODELS": [MODEL]}
    with running_app(folder, settings) as running:
        yield running


def test_the_thinking_is_folded_above_the_answer_and_never_stored_as_history(app, context):
    page = open_page(context, app.url)
    pick_model(page, MODEL)
    set_setting(page, "temperature", 0)  # the same answer every run
    set_max_length(page, 120)
    send(page, "Say hello.")
    wait_for_status(page, r"tok/s|首字")
    bubble = page.locator("#chatbot .bot-row").last
    details = bubble.locator("details")
    assert details.count() == 1 and "思考过程" in details.locator("summary").inner_text()
    assert details.get_attribute("open") is None, "the thinking stays open after the answer began"
    shot(page, "thinking-folded")
    with sqlite3.connect(app.data / "conversations.sqlite3") as db:
        (history,) = db.execute("SELECT history FROM conversations").fetchone()
    prompt, answer = json.loads(history)
    assert prompt == "Say hello." and answer.strip() and "think" not in answer.lower() and "details" not in answer
    assert " ".join(answer.split()) in " ".join(bubble.inner_text().split())  # the page collapses runs of spaces
    page.get_by_label("English").check()
    send(page, "Say goodbye.")
    page.wait_for_function(
        "() => [...document.querySelectorAll('#chatbot .bot-row')].length === 2"
        " && /tok\\/s/.test(document.querySelector('#status')?.innerText || '')"
        " && !document.querySelector('#status').innerText.includes('…')",
        timeout=60_000,
    )
    summary = page.locator("#chatbot .bot-row").last.locator("details summary")
    assert summary.count() == 1 and summary.inner_text().startswith("Thinking (")


def test_ask_prints_the_answer_to_stdout_and_the_thinking_to_stderr(thinking_llama, tmp_path):
    private = tmp_path / "config_private.py"
    private.write_text(f'LOCAL_SERVER_URLS = {{"llamacpp": "{thinking_llama.base_url}/v1"}}\n', encoding="utf-8")
    env = {**os.environ, "LOCALSCHOLAR_CONFIG": str(private), "LANG": "C.UTF-8"}
    command = [sys.executable, "-m", "request_llms", "ask", MODEL, "Say hello.", "--max-tokens", "120", "--temperature", "0"]
    done = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() and "think" not in done.stdout.lower()
    assert len(done.stderr.strip()) >= 20 and "\033[" not in done.stderr  # not a terminal: not dimmed
    quiet = subprocess.run([*command, "--no-thinking"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert quiet.returncode == 0 and quiet.stdout == done.stdout and not quiet.stderr.strip()


def test_check_reports_the_first_thought_apart_from_the_first_answer_token(thinking_llama, tmp_path):
    private = tmp_path / "config_private.py"
    private.write_text(f'LOCAL_SERVER_URLS = {{"llamacpp": "{thinking_llama.base_url}/v1"}}\n', encoding="utf-8")
    env = {**os.environ, "LOCALSCHOLAR_CONFIG": str(private), "LANG": "C.UTF-8"}
    command = [sys.executable, "-m", "request_llms", "check", MODEL, "--json", "--concurrency", "1"]
    done = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    probe = json.loads(done.stdout)["probes"][0]
    assert probe["time_to_first_thought"] > 0  # the check's 32-token answers may end inside the thought
    assert probe["time_to_first_token"] is None or probe["time_to_first_token"] > probe["time_to_first_thought"]
    assert "think" not in probe["answer"].lower()

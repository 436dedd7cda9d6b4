"""The knowledge-base plugins in real Chromium against `python main.py`: upload a paper, add it to a base with
the progress shown, ask it, and open a citation to read its passage."""

from __future__ import annotations

import re

import pytest

from tests.support.documents import make_paper
from tests.support.webapp import LLAMA, app_settings, last_answer, open_page, pick_model, running_app, set_max_length, shot


@pytest.fixture(scope="module")
def app(tmp_path_factory, llama_server, ollama_server):
    folder = tmp_path_factory.mktemp("web-knowledge")
    with running_app(folder, app_settings(llama_server, ollama_server)) as running:
        yield running


def _run_plugin(page, label: str, base: str) -> None:
    """Picks the plugin and fills its base field once the pick has redrawn the fields (the redraw empties them, and
    the previous knowledge-base plugin's description also says 知识库, so the sync point is a changed description)."""
    before = page.inner_text("#plugin-about")
    page.click("#plugin-select input")
    page.get_by_role("option", name=re.compile(re.escape(label))).first.click()
    page.wait_for_function(
        "before => { const about = document.querySelector('#plugin-about')?.innerText || '';"
        " return about !== before && about.includes('知识库'); }",
        arg=before,
    )
    page.fill("#plugin-field-0 textarea", base)
    page.click("#plugin-run-btn")


def test_a_paper_is_added_asked_and_its_citation_opens(app, context, tmp_path):
    page = open_page(context, app.url)
    pick_model(page, LLAMA)
    set_max_length(page, 48)
    paper = make_paper(tmp_path / "slots.pdf")
    page.get_by_text("上传文件").click()
    page.set_input_files("#file-upload input[type=file]", str(paper))
    page.wait_for_function("() => document.querySelector('#upload-note')?.innerText.includes('slots.pdf')")

    _run_plugin(page, "知识库：添加文件", "论文")
    page.wait_for_function("() => (document.querySelector('#chatbot')?.innerText || '').includes('新增 1')", timeout=180_000)
    assert "失败 0" in last_answer(page)

    page.fill("#user-input textarea", "How many slots did the server have?")
    _run_plugin(page, "知识库：提问", "论文")
    page.wait_for_selector("#chatbot details summary", timeout=180_000)
    summary = page.locator("#chatbot details summary").first
    assert re.search(r"\[1\] slots\.pdf · 第 1 页 · 2\.1 Setup", summary.inner_text())
    summary.click()
    page.wait_for_function(
        "() => [...document.querySelectorAll('#chatbot details[open]')].some(d => d.innerText.includes('The server had four slots.'))"
    )
    shot(page, "knowledge-base-answer")

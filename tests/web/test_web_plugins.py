"""The plugin menu in real Chromium against `python main.py`: upload, run, download; Stop keeps the finished
notes; a path typed in the box is refused."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.support.documents import make_docx
from tests.support.webapp import (
    LLAMA,
    app_settings,
    last_answer,
    open_page,
    pick_model,
    running_app,
    set_max_length,
    set_setting,
    shot,
)


@pytest.fixture(scope="module")
def app(tmp_path_factory, llama_server, ollama_server):
    folder = tmp_path_factory.mktemp("web-plugins")
    with running_app(folder, app_settings(llama_server, ollama_server)) as running:
        yield running


def _prepare(page, upload) -> None:
    pick_model(page, LLAMA)
    set_max_length(page, 48)
    set_setting(page, "temperature", 0)
    page.get_by_text("上传文件").click()
    page.set_input_files("#file-upload input[type=file]", str(upload))
    page.wait_for_function(f"() => document.querySelector('#upload-note')?.innerText.includes('{upload.name}')")


def _pick_plugin(page, label: str, described_by: str = ".docx") -> None:
    page.click("#plugin-select input")
    page.get_by_role("option", name=re.compile(re.escape(label))).first.click()
    page.wait_for_function("text => (document.querySelector('#plugin-about')?.innerText || '').includes(text)", arg=described_by)


def test_a_word_summary_runs_from_the_menu_and_its_file_downloads(app, context, tmp_path):
    page = open_page(context, app.url)
    _prepare(page, make_docx(tmp_path / "report.docx"))
    _pick_plugin(page, "Word 文档总结")
    assert ".docx" in page.inner_text("#plugin-about")
    page.click("#plugin-run-btn")
    page.wait_for_function("() => (document.querySelector('#chatbot')?.innerText || '').includes('共 ')", timeout=60_000)
    page.wait_for_selector("#plugin-outputs a", timeout=240_000)
    assert "report-summary.md" in last_answer(page)
    with page.expect_download() as download:
        page.locator('#plugin-outputs a[download="report-summary.md"]').click()
    text = Path(download.value.path()).read_text(encoding="utf-8")
    assert text.startswith("# 总结: report") and "## 各部分笔记" in text
    assert "插件完成" in page.inner_text("#status")
    shot(page, "plugin-word-summary")


def test_stop_keeps_the_finished_notes_and_offers_them(app, context, tmp_path):
    page = open_page(context, app.url)
    _prepare(page, make_docx(tmp_path / "long.docx", sections=10))
    _pick_plugin(page, "Word 文档总结")
    page.click("#plugin-run-btn")
    page.wait_for_function("() => /完成 [1-9]/.test(document.querySelector('#chatbot')?.innerText || '')", timeout=240_000)
    page.click("#stop-btn")
    page.wait_for_selector("#plugin-outputs a", timeout=60_000)
    assert "已停止" in last_answer(page)
    kept = list((app.data / "users").glob("*/outputs/*/long-summary*.md"))
    assert kept and "未完成" in kept[-1].read_text(encoding="utf-8")


def test_a_path_typed_in_the_box_is_refused(app, context, tmp_path):
    page = open_page(context, app.url)
    _prepare(page, make_docx(tmp_path / "mine.docx"))
    _pick_plugin(page, "Word 文档总结")
    page.fill("#user-input textarea", "../../config_private.py")
    page.click("#plugin-run-btn")
    page.wait_for_function("() => (document.querySelector('#chatbot')?.innerText || '').includes('只读取你上传的文件')")
    assert not page.locator("#plugin-outputs a").count()

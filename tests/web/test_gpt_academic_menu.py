"""GPT Academic-style plugins brought in through CUSTOM_PLUGINS and run from the menu of `python main.py`,
over HTTP as the page's own script calls it, against the real llama-server and Ollama of the test session.

The plugins (tests/support/gpt_academic/academic_plugins.py) use GPT Academic's names as its plugins do:
the folder in `txt`, model_info, breakdown_txt, input_clipping, handle_token_exceed, get_conf keys, `a&b`.
"""

from __future__ import annotations

import re
import zipfile

import pytest
from gradio_client import Client, handle_file

from tests.support.documents import make_paper
from tests.support.webapp import LLAMA, OLLAMA, app_settings, running_app

PLUGINS = {
    "批量总结文本": "tests.support.gpt_academic.academic_plugins:批量总结文本",
    "多模型同时询问": "tests.support.gpt_academic.academic_plugins:多模型同时询问",
    "长文本提问": "tests.support.gpt_academic.academic_plugins:长文本提问",
    "论文报告": "tests.support.gpt_academic.academic_plugins:论文报告",
    "按指令处理文件": "tests.support.gpt_academic.academic_plugins:按指令处理文件",
}
SUMMARY, MULTI, LONG, REPORT, INSTRUCTED = (f"custom-{i}" for i in range(5))


@pytest.fixture(scope="module")
def app(tmp_path_factory, llama_server, ollama_server):
    folder = tmp_path_factory.mktemp("gpt-academic-menu")
    settings = app_settings(llama_server, ollama_server, CUSTOM_PLUGINS=PLUGINS, MULTI_QUERY_LLM_MODELS=f"{LLAMA}&{OLLAMA}")
    settings["AVAIL_LLM_MODELS"] = [LLAMA, OLLAMA]
    with running_app(folder, settings) as running:
        yield running


def _page(app) -> Client:
    page = Client(app.url, download_files=False, verbose=False)
    page.predict("zh", api_name="/on_load")
    return page


def _run(page: Client, key: str, text: str = "", lang: str = "zh"):
    """Run a plugin as the menu does, on the newest upload; returns (chat messages, status line, offered file names)."""
    ran = page.predict(key, "", "", "", [], text, LLAMA, 0.0, 1.0, 48, "", lang, api_name="/plugin")
    files = ran[4].get("value") if isinstance(ran[4], dict) else None
    offered = [item.get("orig_name") or item["path"] for item in files or []]
    return ran[0], ran[1], offered


def _text(message) -> str:
    """A chat message's text (Gradio sends it as a list of parts)."""
    content = message["content"]
    return content if isinstance(content, str) else "".join(part.get("text", "") for part in content)


def _answers(messages) -> list[str]:
    return [_text(m) for m in messages if m["role"] == "assistant"]


def test_a_text_summary_plugin_gets_the_upload_folder_in_txt_and_offers_its_report(app, tmp_path):
    page = _page(app)
    project = tmp_path / "notes.zip"
    with zipfile.ZipFile(project, "w") as bundle:
        bundle.writestr("notes.txt", "Cats sleep for most of the day. " * 40)
        bundle.writestr("docs/README.md", "# Tool\n\nThe tool converts units of length. " * 5)
    page.predict([handle_file(str(project))], "zh", api_name="/upload")  # nothing picked: the newest upload
    messages, status, offered = _run(page, SUMMARY)
    answers = _answers(messages)
    assert "插件完成" in status, status
    assert not any("空空如也" in a or "找不到" in a for a in answers), answers
    pieces = [
        _text(m)
        for m in messages
        if m["role"] == "user"
        and re.match(r"(notes\.zip\.extract/notes\.txt|notes\.zip\.extract/docs/README\.md) \(\d+/\d+\)", _text(m))
    ]
    assert any(p.startswith("notes.zip.extract/notes.txt") for p in pieces) and any(
        p.startswith("notes.zip.extract/docs/README.md") for p in pieces
    )
    assert [name for name in offered if re.fullmatch(r"summary-[\d-]+\.md", name.rsplit("/", 1)[-1])], offered
    assert not list((app.data / "users").glob("*/runs/*")), "the folder handed to the run outlived it"


def test_a_path_outside_the_users_folders_is_refused_before_the_plugin_runs(app):
    page = _page(app)
    for path in ("/etc", str(app.data), "../../"):
        messages, status, _ = _run(page, SUMMARY, text=path, lang="en")
        assert status.startswith("⚠") and "only your own uploads are read" in status.lower(), status
        assert not isinstance(messages, list)  # the chat is left as it was: nothing ran


def test_the_multi_model_plugin_asks_each_model_of_the_configured_list(app):
    messages, status, _ = _run(_page(app), MULTI, text="Name one fruit.")
    last = _answers(messages)[-1]
    assert f"**{LLAMA}**" in last and f"**{OLLAMA}**" in last, last
    for block in last.split("---"):
        assert block.split("**", 2)[-1].strip(), f"a model's answer is empty: {last!r}"


def test_a_text_too_long_for_the_window_is_clipped_with_a_notice_or_reported_never_empty(app):
    messages, status, _ = _run(_page(app), LONG, lang="en")
    by_question = {}
    question = None
    for m in messages:
        if m["role"] == "user":
            question = _text(m)
        else:
            by_question.setdefault(question, _text(m))  # the first answer after it (the batch's progress follows)
    assert re.fullmatch(r"\d+ -> \d+", by_question["input_clipping"]), by_question
    before, after = map(int, by_question["input_clipping"].split(" -> "))
    assert after <= 1024 // 4 < before  # the test llama-server's window per slot is 1024 tokens
    clipped = by_question["handle_token_exceed=True"]
    assert clipped.startswith("⚠ The input did not fit the model's context window; about") and len(clipped) > 100, clipped
    refused = by_question["handle_token_exceed=False"]
    assert refused.startswith("⚠") and "context" in refused.lower(), refused
    batch = next(a for a in _answers(messages) if a.startswith("2 pieces"))
    assert "1 failed" in batch and "- 2: The prompt is about" in batch, batch  # the piece that cannot fit, reported
    assert status.startswith("Plugin finished"), status


def test_a_paper_report_reads_the_pdf_handed_over_and_offers_a_report_and_a_zip(app, tmp_path):
    page = _page(app)
    page.predict([handle_file(str(make_paper(tmp_path / "paper.pdf")))], "zh", api_name="/upload")
    messages, status, offered = _run(page, REPORT)
    assert "插件完成" in status, status
    names = [name.rsplit("/", 1)[-1] for name in offered]
    assert any(name.startswith("report-") and name.endswith(".tsv") for name in names), names
    assert any(name.endswith("-result.zip") for name in names), names
    assert any("读取 paper.pdf" in a for a in _answers(messages))


def test_an_instruction_typed_after_an_upload_reaches_the_plugin_with_the_upload_again_and_again(app, tmp_path):
    page = _page(app)
    (tmp_path / "sales.csv").write_text("month,sales\n1,10\n", encoding="utf-8")
    page.predict([handle_file(str(tmp_path / "sales.csv"))], "zh", api_name="/upload")
    for instruction in ("画出销量曲线", "Sum the sales column"):  # the upload stays the most recent one
        messages, status, _ = _run(page, INSTRUCTED, instruction)
        assert _answers(messages)[-1] == f"指令：{instruction}；文件：sales.csv", status

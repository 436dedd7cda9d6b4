"""Word summary, several models at once and the conversation export, on the real test servers."""

from __future__ import annotations

from crazy_functions.export_chat import export_chat
from crazy_functions.multi_model import multi_model
from crazy_functions.runtime.parallel import DONE
from crazy_functions.word_summary import word_summary
from tests.support.documents import SENTENCE, make_docx
from tests.support.plugin_support import LLAMA, LLAMA_SLOT_TOKENS, OLLAMA, drive, make_chatbot


def test_a_word_document_is_summarised_in_pieces_that_fit_the_window(llama_kwargs, tmp_path):
    paper = make_docx(tmp_path / "report.docx")
    chatbot = make_chatbot(tmp_path, [paper])
    drive(word_summary, "", llama_kwargs, chatbot)
    notes = [p for p in chatbot.requests if "Section" in p.prompt or "第" in p.prompt]
    assert len(chatbot.requests) >= 4, "the document was not cut into several pieces"
    assert all(p.state == DONE for p in chatbot.requests), [p.error for p in chatbot.requests]
    for piece in chatbot.requests:
        assert piece.prompt_tokens + piece.max_tokens <= LLAMA_SLOT_TOKENS
    assert any("41.2" in p.prompt for p in notes), "the table's text did not reach the model"
    [saved] = chatbot.outputs
    assert saved.name == "report-summary.md" and saved.parent == tmp_path / "out"
    text = saved.read_text(encoding="utf-8")
    assert text.startswith("# 总结: report") and "## 各部分笔记" in text and "未完成" not in text
    assert "📄 report-summary.md" in chatbot[-1][1]


def test_stop_during_a_word_summary_keeps_the_finished_notes(llama_kwargs, tmp_path):
    paper = make_docx(tmp_path / "long.docx", sections=8)
    chatbot = make_chatbot(tmp_path, [paper], lang="en")
    drive(word_summary, "", llama_kwargs, chatbot, stop_when=lambda cb: any(p.state == DONE for p in cb.requests))
    done = [p for p in chatbot.requests if p.state == DONE]
    assert done and len(done) < len(chatbot.requests)
    text = chatbot.outputs[0].read_text(encoding="utf-8")
    assert "Not finished" in text and all(p.answer.strip() in text for p in done)
    assert chatbot[-1][1].startswith("Stopped")


def test_a_typed_path_is_refused_and_nothing_is_read(llama_kwargs, tmp_path):
    chatbot = make_chatbot(tmp_path, [make_docx(tmp_path / "mine.docx")])
    drive(word_summary, "/etc/passwd", llama_kwargs, chatbot)
    assert "只读取你上传的文件" in chatbot[-1][1]
    assert chatbot.requests == [] and chatbot.outputs == []


def test_a_file_that_is_not_a_docx_gets_one_clear_line(llama_kwargs, tmp_path):
    fake = tmp_path / "notes.docx"
    fake.write_text("plain text, not a Word file", encoding="utf-8")
    chatbot = make_chatbot(tmp_path, [fake])
    drive(word_summary, "", llama_kwargs, chatbot)
    assert "不是可读的 .docx 文件" in chatbot[-1][1] and "Traceback" not in chatbot[-1][1]


def test_several_models_answer_at_once_with_a_table_of_figures(llama_kwargs, ollama_server, monkeypatch, tmp_path):
    monkeypatch.setenv("OLLAMA_API_BASE", ollama_server.base_url)
    from request_llms.config_loader import get_config

    get_config.cache_clear()
    chatbot = make_chatbot(tmp_path, lang="en")
    drive(multi_model, "Name a primary colour.", llama_kwargs, chatbot, {"models": f"{LLAMA}, {OLLAMA}"})
    answer = chatbot[-1][1]
    assert f"| {LLAMA} |" in answer and f"| {OLLAMA} |" in answer and "tok/s" in answer
    assert answer.count("| done |") == 2, answer
    assert chatbot.outputs[0].read_text(encoding="utf-8").count("### ") == 2


def test_one_model_is_not_enough_for_the_multi_model_plugin(llama_kwargs, tmp_path):
    chatbot = make_chatbot(tmp_path)
    drive(multi_model, "Hello", llama_kwargs, chatbot)
    assert "2 到 6 个模型" in chatbot[-1][1]


def test_the_conversation_exports_as_markdown_and_escaped_html(tmp_path):
    chatbot = make_chatbot(tmp_path)
    chatbot.extend([["What is <b>x</b>?", "x is $x^2$"], ["second", "answer"]])
    drive(export_chat, "", {"llm_model": LLAMA}, chatbot)
    drive(export_chat, "", {"llm_model": LLAMA}, chatbot, {"format": "html"})
    markdown, page = chatbot.outputs
    assert markdown.suffix == ".md" and "What is <b>x</b>?" in markdown.read_text(encoding="utf-8")
    html_text = page.read_text(encoding="utf-8")
    assert page.suffix == ".html" and "&lt;b&gt;x&lt;/b&gt;" in html_text and "<b>x</b>" not in html_text


def test_a_pdf_paper_is_summarised_without_its_references(llama_kwargs, tmp_path):
    from crazy_functions.pdf_summary import pdf_summary
    from tests.support.documents import REFERENCES, make_paper

    paper = make_paper(tmp_path / "paper.pdf", prose=SENTENCE * 3)
    chatbot = make_chatbot(tmp_path, [paper], lang="en")
    drive(pdf_summary, "", llama_kwargs, chatbot)
    assert len(chatbot.requests) >= 2 and all(p.state == DONE for p in chatbot.requests)
    assert not any(REFERENCES[0] in p.prompt for p in chatbot.requests), "the references were sent to the model"
    assert any("3 Results" in p.prompt for p in chatbot.requests)
    for piece in chatbot.requests:
        assert piece.prompt_tokens + piece.max_tokens <= LLAMA_SLOT_TOKENS
    text = chatbot.outputs[0].read_text(encoding="utf-8")
    assert chatbot.outputs[0].name == "paper-summary.md" and text.startswith("# Summary: paper")
    titles = [line[4:] for line in text.split("\n") if line.startswith("### ")]
    assert titles and all(any(name in title for name in ("Introduction", "Method", "Results")) for title in titles), titles

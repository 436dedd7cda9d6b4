"""Translating an uploaded Markdown file or PDF paper on the real llama-server (4 slots of 1024 tokens) and Ollama.

The test model's translations are poor; what is checked is the structure: code, front matter, links and
maths come back exactly, every request fits the window, Stop keeps the finished pieces, a typed path is
refused, the PDF translation writes a bilingual Markdown file and a two-column HTML page.
"""

from __future__ import annotations

import re

from crazy_functions.documents.split import split_text
from crazy_functions.documents.translation import (
    LOST_HEADINGS,
    LOST_MARKUP,
    SYSTEM,
    Translation,
    answer_fault,
    outcome_note,
    protect,
    settle_answer,
    target_language,
    translation_prompt,
    translation_sizer,
)
from crazy_functions.markdown_translate import markdown_translate, translate_markdown
from crazy_functions.pdf_translate import Bilingual, bilingual_html, bilingual_markdown, pdf_translate, sections_of
from crazy_functions.runtime.parallel import DONE, STOPPED, Piece
from request_llms.messages import MESSAGE_OVERHEAD
from request_llms.tokens import ESTIMATE
from tests.support.documents import REFERENCES, RUNNING_HEADER, make_paper
from tests.support.plugin_support import LLAMA_SLOT_TOKENS, drive, make_chatbot

FRONT = '---\ntitle: "Reading papers"\ntags: [llm, local]\n---\n'
CODE_1 = '```python\ndef cut(text, limit):\n    """Keep `limit`; $x$ stays."""\n    return [text[:limit]]\n```'
CODE_2 = "~~~bash\ncurl https://example.org/api?q=1 | jq .\n~~~"
PROSE = "Small models run on a laptop, but their context window is short. "
DOCUMENT = f"""{FRONT}
# Reading papers with small models

{PROSE}Install it with `pip install localscholar` and read [the guide](https://example.org/guide "Guide").

## Energy

The energy is $x^2$ and the display form is below.

$$
E = m c^2
$$

{CODE_1}

## Pieces

{PROSE * 2}

{CODE_2}

## Limits

{PROSE * 2}
"""


def _run_core(chatbot, llm_kwargs, text, language):
    runner = translate_markdown(chatbot, [], llm_kwargs, text, language, "doc.md")
    while True:
        try:
            next(runner)
        except StopIteration as finished:
            return finished.value


def test_markup_survives_protection_and_a_dropped_placeholder_is_caught():
    protected = protect(DOCUMENT)
    assert protected.front_matter == FRONT
    assert protected.front_matter + protected.restore(protected.text) == DOCUMENT
    for kept in (CODE_1, CODE_2, "$x^2$", "`pip install localscholar`", '(https://example.org/guide "Guide")', "E = m c^2"):
        assert kept not in protected.text
    assert "[the guide]" in protected.text and "Energy" in protected.text
    tricky = "Marks such as ⟦0⟧ appear here.\n\n```\nx = '⟦1⟧'\n```\n"
    protected = protect(tricky)
    assert protected.restore(protected.text) == tricky
    source = "Run ⟦1⟧ and see ⟦2⟧.\n"
    assert settle_answer(source, "运行 ⟦1⟧ 并查看 ⟦ 2 ⟧。", set()) == "运行 ⟦1⟧ 并查看 ⟦2⟧。\n"
    assert settle_answer(source, "运行 ⟦1⟧。", set()) is None
    assert settle_answer(source, "运行 ⟦1⟧ ⟦1⟧ ⟦2⟧", set()) is None
    assert settle_answer("Text ⟦0⟧ more", "文字 ⟦0⟧ 更多", {0}) == "文字\n\n⟦0⟧\n\n更多"
    assert target_language("", "zh").code == "zh" and target_language("", "en").code == "en"
    assert target_language("日语", "en").code == "ja" and target_language("English", "zh").code == "en"


def test_a_translation_that_loses_a_heading_keeps_the_original_with_a_notice(tmp_path):
    source = protect("## Install\n\nRun `make`.\n\n## License\n\nMIT, see [the file](LICENSE).\n").text
    kept = "## 安装\n\n运行 ⟦0⟧。\n\n## 许可证\n\nMIT，见 [文件]⟦1⟧。"
    lost = "## 安装\n\n运行 ⟦0⟧。\n\n许可证\n\nMIT，见 [文件]⟦1⟧。"
    demoted = "## 安装\n\n运行 ⟦0⟧。\n\n### 许可证\n\nMIT，见 [文件]⟦1⟧。"
    added = "# 译文\n\n" + kept
    assert answer_fault(source, kept) is None and settle_answer(source, kept, set()) == kept + "\n"
    for answer in (lost, demoted, added):
        assert answer_fault(source, answer) == LOST_HEADINGS and settle_answer(source, answer, set()) is None
    assert answer_fault(source, "## 安装\n\n运行。\n\n## 许可证\n\nMIT。") == LOST_MARKUP
    in_code = "## 安装\n\n运行 ⟦0⟧。\n\n```\n# not a heading\n```\n\n## 许可证\n\nMIT，见 [文件]⟦1⟧。"
    assert answer_fault(source, in_code) is None

    pieces = [Piece("", state=DONE, answer=kept), Piece("", state=DONE, answer=lost)]
    result = Translation([source, source], [kept, source], pieces, lost_headings=[2], done_parts={0})
    for lang, words in (
        ("en", "In piece(s) 2 the translation did not keep the original's headings"),
        ("zh", "第 2 段的译文与原文的标题"),
    ):
        assert words in outcome_note(result, make_chatbot(tmp_path, lang=lang), "doc.zh.md")


def test_markdown_is_translated_in_pieces_with_its_markup_byte_identical(llama_kwargs, tmp_path):
    chatbot = make_chatbot(tmp_path, lang="en")
    translated, result = _run_core(chatbot, llama_kwargs, DOCUMENT, target_language("Chinese", "en"))
    sent = result.sent
    assert len(sent) >= 3, f"only {len(sent)} pieces"
    assert all(piece.state == DONE for piece in sent)
    for piece in sent:
        assert piece.prompt_tokens is not None and piece.prompt_tokens + piece.max_tokens <= LLAMA_SLOT_TOKENS
        assert "```" not in piece.prompt and "https://" not in piece.prompt and "$x^2$" not in piece.prompt
    assert translated.startswith(FRONT)
    for kept in (CODE_1, CODE_2, "$x^2$", "https://example.org/guide", "$$\nE = m c^2\n$$"):
        assert translated.count(kept) == 1, kept
    assert "⟦" not in translated
    # The tiny model often drops a marker or a heading; such a piece keeps its source and is named, never half-restored.
    assert result.translated + len(result.lost_markup) + len(result.lost_headings) == len(sent)
    sent_parts = [i for i, piece in enumerate(result.pieces) if piece is not None]
    kept = [n for n, i in enumerate(sent_parts, 1) if i not in result.done_parts]
    assert kept == sorted(result.lost_markup + result.lost_headings)
    for i in set(range(len(result.pieces))) - result.done_parts:
        assert result.texts[i] == result.sources[i]


def test_with_no_answer_limit_the_longest_piece_and_its_answer_still_fit_the_window(llama_kwargs, tmp_path):
    chatbot = make_chatbot(tmp_path)
    language = target_language("Chinese", "en")
    sizer, limit = translation_sizer(llama_kwargs | {"max_length": None}, chatbot.config, language)
    assert sizer.window == LLAMA_SLOT_TOKENS and sizer.counter.exact
    assert sizer.answer_tokens >= 1.2 * limit, "no room to answer with a translation as long as the piece"
    parts = split_text("\n\n".join(f"## Part {i}\n\n{PROSE * (i % 7 + 1)}" for i in range(40)), limit, sizer.counter)
    longest = max(sizer.counter(SYSTEM["zh"]) + sizer.counter(translation_prompt(language, part)) for part in parts)
    assert longest + 3 * MESSAGE_OVERHEAD + sizer.answer_tokens <= LLAMA_SLOT_TOKENS


def test_stop_after_the_first_piece_writes_the_finished_translation_and_the_untranslated_rest(llama_kwargs, tmp_path):
    source = tmp_path / "notes.md"  # paragraphs, no headings: the tiny model drops or invents headings
    text = "\n\n".join(f"Part {i}: {PROSE}" for i in range(12)) + f"\n\n{CODE_1}\n"
    source.write_text(text, encoding="utf-8")
    chatbot = make_chatbot(tmp_path, files=[source], lang="en")
    drive(
        markdown_translate,
        "",
        llama_kwargs | {"max_length": 32},
        chatbot,
        {"language": "Chinese"},
        stop_when=lambda cb: re.search(r": [1-9]\d* done", cb[-1][1] or "") is not None,
    )
    written = (tmp_path / "out" / "notes.zh.md").read_text(encoding="utf-8")
    assert "Stopped after" in chatbot[-1][1] and "notes.zh.md" in chatbot[-1][1]
    untranslated = [i for i in range(12) if f"Part {i}: {PROSE.strip()}" in written]
    assert 0 < len(untranslated) < 12, "no piece was translated, or none was left for later"
    assert written.endswith(CODE_1 + "\n") and f"Part 11: {PROSE.strip()}" in written


def test_a_typed_path_is_refused_and_nothing_is_read(llama_kwargs, tmp_path):
    uploaded = tmp_path / "notes.md"
    uploaded.write_text(f"# Notes\n\n{PROSE}\n", encoding="utf-8")
    chatbot = make_chatbot(tmp_path, files=[uploaded], lang="zh")
    drive(markdown_translate, "/etc/passwd", llama_kwargs, chatbot)
    assert "输入框里的路径不会被打开" in chatbot[-1][1]
    assert not (tmp_path / "out").exists(), "a file was written: something was read and translated"
    chatbot = make_chatbot(tmp_path, lang="en")
    drive(pdf_translate, "translate /etc/passwd please", llama_kwargs, chatbot)
    assert "a path typed in the box is refused" in chatbot[-1][1]
    assert "root:" not in str(chatbot) and not (tmp_path / "out").exists()


def test_a_markdown_file_on_ollama_defaults_to_chinese_for_a_chinese_page(ollama_kwargs, tmp_path):
    source = tmp_path / "readme.md"
    source.write_text(f"# Usage\n\n{PROSE}\n\n{CODE_2}\n\nSee `cut()` for $x^2$.\n", encoding="utf-8")
    chatbot = make_chatbot(tmp_path, files=[source], lang="zh")
    drive(markdown_translate, "", ollama_kwargs, chatbot)
    written = (tmp_path / "out" / "readme.zh.md").read_text(encoding="utf-8")
    assert CODE_2 in written and "`cut()`" in written and "$x^2$" in written
    assert "已翻译" in chatbot[-1][1] and "readme.zh.md" in chatbot[-1][1]


def test_a_pdf_paper_becomes_a_bilingual_markdown_file_and_a_two_column_page(llama_kwargs, tmp_path):
    paper = make_paper(tmp_path / "paper.pdf", prose="Small models read papers on a laptop. ")
    chatbot = make_chatbot(tmp_path, files=[paper], lang="en")
    drive(pdf_translate, "", llama_kwargs, chatbot, {"language": "中文"})
    markdown = (tmp_path / "out" / "paper.zh.md").read_text(encoding="utf-8")
    page = (tmp_path / "out" / "paper.zh.html").read_text(encoding="utf-8")
    assert "paper.zh.md" in chatbot[-1][1] and "paper.zh.html" in chatbot[-1][1]
    for heading in ("# Small Models for Reading Papers", "## 1 Introduction", "## 2 Method", "## 3 Results"):
        assert f"\n{heading}\n" in f"\n{markdown}"
    assert "Small models read papers on a laptop." in markdown and "\n> " in markdown  # original, then translation
    assert markdown.rstrip().endswith(REFERENCES[-1]) and RUNNING_HEADER not in markdown
    assert markdown.index("## References") > markdown.index("## 3 Results")
    assert page.startswith("<!doctype html>") and page.count('<div class="row">') >= 3
    assert "<h2>1 Introduction</h2>" in page and "a &lt; b and b &gt; c" in page and "a < b" not in page
    assert page.rstrip().endswith("</html>") and REFERENCES[0] in page


def test_a_stopped_pdf_translation_keeps_the_finished_piece_in_both_files():
    protected = protect("# Title\n\n## 1 Intro\n\nFirst part, <done>.\n\n## 2 Method\n\nSecond part.\n")
    sections = sections_of(protected.text, 200, ESTIMATE)
    parts = [part for section in sections for part in section.parts]
    pieces = [Piece("", state=DONE, answer="第一部分。"), Piece("", state=STOPPED)]
    result = Translation(parts, ["第一部分。\n", parts[1]], pieces, done_parts={0})
    paper = Bilingual(
        sections,
        protected,
        result,
        "## References\n\n[1] A <b>.\n",
        {"source": "Original", "target": "中文", "missing": "(not translated)"},
    )
    markdown = bilingual_markdown(paper)
    assert markdown == (
        "# Title\n\n## 1 Intro\n\nFirst part, <done>.\n\n> 第一部分。\n\n## 2 Method\n\nSecond part.\n\n*(not translated)*\n\n"
        "## References\n\n[1] A <b>.\n"
    )
    page = bilingual_html(paper, "zh-CN")
    assert "<p>First part, &lt;done&gt;.</p></div><div><p>第一部分。</p>" in page
    assert '<p>Second part.</p></div><div><p class="missing">(not translated)</p>' in page
    assert "[1] A &lt;b&gt;." in page and "<b>" not in page


def test_a_pdf_without_text_gets_a_clear_line_in_the_chat(llama_kwargs, tmp_path):
    import pymupdf

    doc = pymupdf.open()
    doc.new_page().draw_rect(pymupdf.Rect(72, 72, 300, 300), color=(0, 0, 0))
    doc.save(tmp_path / "scan.pdf")
    chatbot = make_chatbot(tmp_path, files=[tmp_path / "scan.pdf"], lang="zh")
    drive(pdf_translate, "", llama_kwargs, chatbot)
    assert "没有文字层" in chatbot[-1][1] and "OCR" in chatbot[-1][1]
    assert "Traceback" not in chatbot[-1][1]

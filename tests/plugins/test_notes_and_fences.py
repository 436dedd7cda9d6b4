"""What the plugins write around a model's answers: notes on a paper titled by its sections, and a code fence an
answer leaves open closed before the next part of the file, so the rest of the file is not code."""

from __future__ import annotations

from pathlib import Path

from markdown_it import MarkdownIt

from crazy_functions.documents.document_summary import _report
from crazy_functions.documents.pdf_text import read_pdf, split_references
from crazy_functions.documents.split import split_text
from crazy_functions.documents.summarise import Summary, headings_of
from crazy_functions.documents.tidy import close_fences
from crazy_functions.runtime.parallel import DONE, Piece
from crazy_functions.source_code import Project, SourceFile, render
from request_llms.messages import estimate_tokens
from tests.support.documents import make_paper

OPEN_FENCE = "- Purpose: the entry point.\n\n```python\ndef main():\n    run()"


def _headings(markdown: str) -> list[str]:
    """The headings a Markdown renderer sees (text inside code is not one)."""
    tokens = MarkdownIt().parse(markdown)
    return [tokens[i + 1].content for i, token in enumerate(tokens) if token.type == "heading_open"]


def _summary(parts: list[str], answers: list[str]) -> Summary:
    pieces = [Piece(part, state=DONE, answer=answer) for part, answer in zip(parts, answers, strict=True)]
    return Summary(pieces=pieces, sections=headings_of(parts), synthesis="All in all: small is enough.", complete=True)


def test_notes_on_a_paper_are_titled_by_the_sections_of_their_pieces(tmp_path):
    body, _ = split_references(read_pdf(make_paper(tmp_path / "paper.pdf")))
    parts = split_text(body, 100, estimate_tokens)
    assert len(parts) >= 4
    report = _report(_summary(parts, [f"Note {i}." for i in range(len(parts))]), "paper", "llamacpp-x", "en")
    titles = [title for title in _headings(report) if title not in ("Summary: paper", "Notes on each part")]
    assert len(titles) == len(parts)
    assert titles[0].startswith("Small Models for Reading Papers")
    assert any(title.startswith("1 Introduction") for title in titles)
    assert any(title.startswith("2 Method") for title in titles)
    assert "3 Results" in titles
    assert "1 Introduction (continued)" in titles, "a piece that goes on with a section does not say which"
    assert not [title for title in titles if title.isdigit()], "a note is titled by its number though it has a section"
    plain = _report(_summary(["Just text.\n", "More text.\n"], ["A.", "B."]), "memo", "llamacpp-x", "zh")
    assert "### 1\n" in plain and "### 2\n" in plain


def test_an_open_fence_in_a_note_does_not_turn_the_rest_of_the_summary_into_code(tmp_path):
    parts = ["## 1 Introduction\n\nText.\n", "## 2 Method\n\nMore.\n"]
    report = _report(_summary(parts, [OPEN_FENCE, "The method has two steps."]), "paper", "llamacpp-x", "en")
    assert "2 Method" in _headings(report)
    assert "The method has two steps." in report.split("```", 2)[2]


def test_an_open_fence_in_a_files_note_does_not_turn_the_rest_of_the_overview_into_code():
    project = Project("calc", Path("."))
    for path, answer in (("calc/cli.py", OPEN_FENCE), ("calc/core.py", "- Purpose: arithmetic."), ("web/app.js", "- UI.")):
        project.files.append(SourceFile(path, "python", [Piece("", state=DONE, answer=answer)]))
    headings = _headings(render(project, "llamacpp-x", zh=False))
    assert {"`calc/cli.py`", "`calc/core.py`", "`web/app.js`"} <= set(headings), headings


def test_close_fences_closes_only_what_is_open():
    assert close_fences("text\n```py\nx = 1") == "text\n```py\nx = 1\n```"
    assert close_fences("~~~~\ncode\n~~~\nstill code") == "~~~~\ncode\n~~~\nstill code\n~~~~"
    for balanced in ("no code", "```\ncode\n```\nafter", "inline ```x``` only", "````\n```\n````"):
        assert close_fences(balanced) == balanced

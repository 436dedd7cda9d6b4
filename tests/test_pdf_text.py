"""A paper's PDF read as Markdown-ish text: headings found, running headers and page numbers gone,
lines joined into paragraphs, references cut off; scanned, damaged and locked PDFs refused clearly."""

from __future__ import annotations

from pathlib import Path

import pytest

from crazy_functions.documents.pdf_text import read_pdf, split_references
from crazy_functions.runtime.errors import PluginInputError

TITLE = "Small Models for Reading Papers"
RUNNING_HEADER = "Preprint. Under review at a workshop."
PROSE = (
    "Language models that run on a laptop must read long papers through a short context window. "
    "We cut each paper into pieces that fit the window, leaving room for the answer, and read the "
    "pieces in parallel on the slots of one local server. "
)


def _sections(prose: str) -> dict[int, list[tuple[str, float, str]]]:
    """Per page: (heading, its font size, the text under it); the subsection is bold at the body's size."""
    return {
        1: [
            ("1 Introduction", 14, prose * 2 + "The central block is a trans-\nformer with a < b and b > c in its notation."),
            ("2 Method", 14, prose),
            ("2.1 Setup", 10, "The server had four slots."),
        ],
        2: [("3 Results", 14, prose * 2 + "\n\nA second paragraph ends the results.")],
    }


REFERENCES = ["[1] A. Author. Reading with small models. 2021.", "[2] B. Author. Windows and slots. 2022."]


def make_paper(path: Path, outline: bool = False, prose: str = PROSE) -> Path:
    """A two-page paper: title, numbered sections in a larger bold font, a running header, page numbers, references."""
    import pymupdf

    doc = pymupdf.open()
    for number in (1, 2):
        page = doc.new_page()
        page.insert_text((72, 40), RUNNING_HEADER, fontsize=8)
        page.insert_text((300, 780), str(number), fontsize=8)
        y = 80
        if number == 1:
            page.insert_text((72, y), TITLE, fontsize=20, fontname="hebo")
            y += 40
        for heading, size, text in _sections(prose)[number]:
            page.insert_text((72, y), heading, fontsize=size, fontname="hebo")
            spare = page.insert_textbox(pymupdf.Rect(72, y + 8, 520, y + 200), text, fontsize=10)
            y += 200 - spare + 30
        if number == 2:
            page.insert_text((72, y), "Notes on the setup", fontsize=10)
            page.insert_textbox(pymupdf.Rect(72, y + 8, 520, y + 60), "Each slot held 1024 tokens.", fontsize=10)
            y += 80
            page.insert_text((72, y), "References", fontsize=14, fontname="hebo")
            page.insert_textbox(pymupdf.Rect(72, y + 8, 520, y + 100), "\n".join(REFERENCES), fontsize=10)
    if outline:
        doc.set_toc(
            [
                [1, "1 Introduction", 1],
                [1, "2 Method", 1],
                [1, "3 Results", 2],
                [2, "Notes on the setup", 2],
                [1, "References", 2],
            ]
        )
    doc.save(path)
    return path


def test_a_paper_becomes_markdown_with_headings_and_without_running_headers(tmp_path):
    text = read_pdf(make_paper(tmp_path / "paper.pdf"))
    lines = text.split("\n")
    assert lines[0] == f"# {TITLE}"
    for heading in ("## 1 Introduction", "## 2 Method", "### 2.1 Setup", "## 3 Results", "## References"):
        assert heading in lines
    assert RUNNING_HEADER not in text
    assert not [line for line in lines if line.strip().isdigit()], "a page number was kept"
    assert "transformer with a < b" in text and "trans-" not in text
    intro = text.split("## 1 Introduction\n\n", 1)[1].split("\n\n", 1)[0]
    assert intro.startswith("Language models") and intro.endswith("notation."), "a paragraph's lines were not joined"
    results = text.split("## 3 Results\n\n", 1)[1]
    assert results.split("\n\n")[:2] == [(PROSE * 2).strip(), "A second paragraph ends the results."]


def test_the_outline_gives_headings_the_fonts_do_not_show(tmp_path):
    plain = read_pdf(make_paper(tmp_path / "plain.pdf"))
    outlined = read_pdf(make_paper(tmp_path / "outlined.pdf", outline=True))
    assert "## Notes on the setup" not in plain
    assert "### Notes on the setup" in outlined
    assert "## 1 Introduction" in outlined and "## References" in outlined and "### 2.1 Setup" in outlined


def test_references_are_split_off_and_appendices_stay_in_the_body(tmp_path):
    body, references = split_references(read_pdf(make_paper(tmp_path / "paper.pdf")))
    assert references.startswith("## References")
    assert all(entry in references for entry in REFERENCES)
    assert "[1] A. Author" not in body and "## 3 Results" in body
    body, references = split_references("# T\n\nText.\n\n## References\n\n[1] X.\n\n## Appendix A\n\nMore.\n")
    assert references == "## References\n\n[1] X.\n"
    assert body == "# T\n\nText.\n\n## Appendix A\n\nMore.\n"
    assert split_references("# T\n\n## 参考文献\n\n[1] 张三。\n")[1].startswith("## 参考文献")
    assert split_references("No bibliography here.\n") == ("No bibliography here.\n", "")


def test_a_scanned_pdf_without_text_is_refused_in_both_languages(tmp_path):
    import pymupdf

    doc = pymupdf.open()
    page = doc.new_page()
    picture = pymupdf.Pixmap(pymupdf.csRGB, pymupdf.IRect(0, 0, 60, 80), False)
    picture.clear_with(200)
    page.insert_image(pymupdf.Rect(72, 72, 400, 600), pixmap=picture)
    doc.save(tmp_path / "scan.pdf")
    with pytest.raises(PluginInputError) as caught:
        read_pdf(tmp_path / "scan.pdf")
    assert "OCR" in caught.value.text("en") and "text layer" in caught.value.text("en")
    assert "OCR" in caught.value.text("zh") and "文字层" in caught.value.text("zh")


def test_a_damaged_or_locked_pdf_is_refused_in_both_languages(tmp_path):
    import pymupdf

    broken = tmp_path / "broken.pdf"
    broken.write_bytes(b"%PDF-1.7\nthis is not really a PDF")
    with pytest.raises(PluginInputError) as caught:
        read_pdf(broken)
    assert "not a readable PDF" in caught.value.text("en") and "不是可读的 PDF" in caught.value.text("zh")

    doc = pymupdf.open()
    doc.new_page().insert_text((72, 72), PROSE, fontsize=10)
    doc.save(tmp_path / "locked.pdf", encryption=pymupdf.PDF_ENCRYPT_AES_256, user_pw="secret", owner_pw="owner")
    with pytest.raises(PluginInputError) as caught:
        read_pdf(tmp_path / "locked.pdf")
    assert "password" in caught.value.text("en") and "密码" in caught.value.text("zh")

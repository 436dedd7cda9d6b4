"""A paper's PDF read as Markdown-ish text: headings found, running headers and page numbers gone,
lines joined into paragraphs (single- or double-spaced), words cut at line ends made whole, debris of
the text layer dropped, references cut off; scanned, damaged and locked PDFs refused clearly."""

from __future__ import annotations

import re

import pytest

from crazy_functions.documents.pdf_text import read_pdf, split_references
from crazy_functions.documents.tidy import clean_text
from crazy_functions.runtime.errors import PluginInputError
from tests.support.documents import (
    MANUSCRIPT,
    PROSE,
    REFERENCES,
    RUNNING_HEADER,
    TITLE,
    make_manuscript,
    make_paper,
    make_pdf_with_debris,
)


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


def test_a_double_spaced_manuscript_reads_as_its_paragraphs_with_whole_words(tmp_path):
    import pymupdf

    path = make_manuscript(tmp_path / "manuscript.pdf")
    with pymupdf.open(path) as doc:
        layer = "".join(page.get_text() for page in doc)
    cut = re.findall(r"([a-z]+)-\n([a-z]+)", layer)
    assert len(cut) >= 5 and "Llama-2-\n7B" in layer, "the PDF does not hyphenate words at line ends"
    text = read_pdf(path)
    paragraphs = text.strip().split("\n\n")
    assert paragraphs[0] == "## 2 Methods"
    assert paragraphs[1:] == MANUSCRIPT, "the lines were not joined into their paragraphs, or a word stayed cut"
    assert all(f"{head}{tail}" in text for head, tail in cut)
    assert "state-of-the-art" in text and "Llama-2-7B" in text and "GPT-4" in text


def test_debris_of_a_broken_text_layer_does_not_reach_the_text(tmp_path):
    text = read_pdf(make_pdf_with_debris(tmp_path / "debris.pdf"))
    assert "Control codes of an old encoder stay out of the text." in text
    assert "A bullet mapped into the private use area, and an efficient ligature." in text
    assert not re.search("[\x00-\x08\x0b-\x1f\x7f-\x9f\ufffd\ue000-\uf8ff\ufb00-\ufb06]", text)
    assert clean_text("a\ufffdb\x85c\td\ne\ufb01") == "abc\td\nefi"


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


def _pdf_with_a_huge_picture(path) -> None:
    """A real PDF of one page: a line of text and a 20000×20000 grey picture, its pixels deflated to ~400 KB."""
    import zlib

    packer, row = zlib.compressobj(9), bytes(20000)
    picture = b"".join(packer.compress(row) for _ in range(20000)) + packer.flush()
    text = b"BT /F1 12 Tf 72 720 Td (Glaciers retreated 412 metres in the last survey of the valley.) Tj ET q 200 0 0 200 72 400 cm /Im1 Do Q"
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R "
        b"/Resources << /Font << /F1 5 0 R >> /XObject << /Im1 6 0 R >> >> >>",
        b"<< /Length %d >>\nstream\n" % len(text) + text + b"\nendstream",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
        b"<< /Type /XObject /Subtype /Image /Width 20000 /Height 20000 /ColorSpace /DeviceGray /BitsPerComponent 8 "
        b"/Filter /FlateDecode /Length %d >>\nstream\n" % len(picture) + picture + b"\nendstream",
    ]
    out, offsets = bytearray(b"%PDF-1.4\n"), []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    table = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % at for at in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, table)
    path.write_bytes(bytes(out))


def test_a_small_pdf_holding_a_huge_picture_is_read_without_decoding_it(tmp_path):
    import subprocess
    import sys

    path = tmp_path / "picture.pdf"
    _pdf_with_a_huge_picture(path)
    assert path.stat().st_size < 1_000_000
    code = (  # the peak from here on: a child's ru_maxrss starts at its parent's size, so the peak is reset first
        "import re, sys\n"
        "from pathlib import Path\n"
        "from crazy_functions.documents.pdf_text import read_pdf\n"
        "Path('/proc/self/clear_refs').write_text('5')\n"
        "text = read_pdf(Path(sys.argv[1]))\n"
        "peak = int(re.search(r'VmHWM:\\s+(\\d+)', Path('/proc/self/status').read_text()).group(1)) // 1024\n"
        "print(int('412 metres' in text), peak)\n"
    )
    done = subprocess.run([sys.executable, "-c", code, str(path)], capture_output=True, text=True, timeout=120, check=True)
    found, peak_mib = map(int, done.stdout.split())
    assert found == 1 and peak_mib < 300, f"peak {peak_mib} MiB"  # decoding the picture alone takes 381 MiB

"""Documents made the way real ones are, for the plugin tests: a paper as a PDF (fonts for headings, a running
header, page numbers, references, optionally an outline) and a report as a Word file (headings, a table)."""

from __future__ import annotations

import struct
import zipfile
from pathlib import Path

import docx

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


SENTENCE = (
    "We measure how quantisation to four bits changes the accuracy of small language models on reading "
    "comprehension, and find that the loss stays below two points for models above one billion parameters. "
)


def make_docx(path: Path, sections: int = 4, sentences: int = 14) -> Path:
    document = docx.Document()
    document.add_heading("Quantised small models in the lab", level=0)
    for i in range(sections):
        document.add_heading(f"{i + 1} Section {i + 1}", level=1)
        document.add_paragraph(SENTENCE * sentences)
    table = document.add_table(rows=2, cols=2)
    table.cell(0, 0).text, table.cell(0, 1).text = "model", "accuracy"
    table.cell(1, 0).text, table.cell(1, 1).text = "gemma-270m", "41.2"
    document.save(str(path))
    return path


def lying_zip(path, real_size: int, claimed: int) -> None:
    """A zip whose one member says it holds `claimed` bytes and really inflates to `real_size`."""
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as bundle:
        bundle.writestr("big.txt", b"\0" * real_size)
    data = bytearray(path.read_bytes())
    for signature, offset in ((b"PK\x03\x04", 22), (b"PK\x01\x02", 24)):  # local header, central directory
        at = data.find(signature)
        data[at + offset : at + offset + 4] = struct.pack("<I", claimed)
    path.write_bytes(bytes(data))


MANUSCRIPT_SENTENCES = (
    "Reviewers write their comments between the lines, which is why journals still ask for double spacing.",
    "The improvements they suggest most often concern the experimental methodology rather than the presentation.",
    "We compare GPT-4 with Llama-2-7B and two state-of-the-art quantised models on reading comprehension.",
    "Quantisation to four bits keeps the accuracy within two points for models above one billion parameters.",
    "Reproducibility requires the exact prompts, the sampling temperature and the version of every tokenizer.",
    "Understandably, practitioners prefer configurations that run comfortably on commodity laptops.",
    "Measurements were repeated five times; the variance between repetitions was negligible throughout.",
)
MANUSCRIPT = [" ".join(MANUSCRIPT_SENTENCES[(k + i) % 7] for i in range(4)) for k in range(10)]


def _wrap(text: str, width: float, indent: float, size: float) -> list[str]:
    """`text` set in lines of `width` points (the first indented), as a typesetter does: a word that does not fit is
    hyphenated (after a compound's own hyphen, or between letters with a hyphen added) or goes to the next line."""
    import pymupdf

    def fits(line: str, room: float) -> bool:
        return pymupdf.get_text_length(line, fontname="helv", fontsize=size) <= room

    lines, current, room = [], "", width - indent
    for word in text.split():
        if fits(f"{current} {word}".strip(), room):
            current = f"{current} {word}".strip()
            continue
        cuts = {k + 1 for k, c in enumerate(word[:-1]) if c == "-"}  # after a compound's hyphen
        cuts |= {k for k in range(3, len(word) - 2) if word[:k].isalpha() and word[k:].rstrip(".,;").isalpha()}
        heads = [(k, word[:k] if word[k - 1] == "-" else word[:k] + "-") for k in sorted(cuts, reverse=True)]
        k, head = next(((k, h) for k, h in heads if fits(f"{current} {h}".strip(), room)), (0, ""))
        lines.append(f"{current} {head}".strip())
        current, room = word[k:], width
    lines.append(current)
    return lines


def make_manuscript(path: Path, paragraphs: list[str] = MANUSCRIPT) -> Path:
    """A manuscript as journals ask for it: 11 pt text double-spaced (22 pt from baseline to baseline), paragraphs
    marked only by an indented first line, words hyphenated at line ends, a bold section heading."""
    import pymupdf

    doc = pymupdf.open()
    page, y = doc.new_page(), 72.0
    page.insert_text((72, y), "2 Methods", fontsize=11, fontname="hebo")
    y += 22
    for paragraph in paragraphs:
        for i, line in enumerate(_wrap(paragraph, 442, 36, 11)):
            if y > 760:
                page, y = doc.new_page(), 72.0
            page.insert_text((72 + (36 if i == 0 else 0), y), line, fontsize=11)
            y += 22
    doc.save(path)
    return path


DEBRIS_FONT = "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"


def make_pdf_with_debris(path: Path) -> Path:
    """A page whose text layer carries what broken PDFs carry: control codes from a simple font's encoding (as old
    TeX fonts without a character map give), a glyph whose ToUnicode entry points into the private use area, and a
    ligature character."""
    import re

    import pymupdf

    doc = pymupdf.open()
    page = doc.new_page()
    page.insert_text((72, 72), "Con\x07trol codes\x00 of an old\x1b encoder stay out of the text.", fontsize=11)
    page.insert_font(fontname="dejavu", fontfile=DEBRIS_FONT)
    page.insert_text((72, 90), "A bullet• mapped into the private use area, and an e\ufb03cient ligature.", fontsize=11,
                     fontname="dejavu")  # fmt: skip
    bullet = pymupdf.Font(fontfile=DEBRIS_FONT).has_glyph(ord("•"))
    for xref in range(1, doc.xref_length()):
        found = re.search(r"/ToUnicode (\d+) 0 R", doc.xref_object(xref))
        if found:
            cmap = doc.xref_stream(int(found.group(1))).decode()
            cmap = cmap.replace("endcmap", f"1 beginbfchar\n<{bullet:04x}> <E001>\nendbfchar\nendcmap")
            doc.update_stream(int(found.group(1)), cmap.encode())
    doc.save(path)
    return path


def make_results_tables(path: Path, pages: int = 6) -> Path:
    """An appendix of results tables: on each page a caption and 50 rows of 8 measured values, every cell its own
    text object, so the text layer comes in hundreds of tiny blocks per page."""
    import random

    import pymupdf

    values = random.Random(7)
    doc = pymupdf.open()
    for number in range(1, pages + 1):
        page = doc.new_page()
        page.insert_text((72, 100), f"Table {number}: accuracy per layer and bit width.", fontsize=10)
        for row in range(50):
            for column in range(8):
                page.insert_text((72 + 58 * column, 120 + 13 * row), f"{values.uniform(0, 100):.2f}", fontsize=9)
    doc.save(path)
    return path

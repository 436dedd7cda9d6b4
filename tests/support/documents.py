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

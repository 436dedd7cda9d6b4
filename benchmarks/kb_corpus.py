"""Real open documents found on this machine, made into the files a user would add to a knowledge base.

Used by kb_retrieval.py. Each source is a plain-text document that Debian or the GPT Academic checkout ships
(licences under /usr/share/common-licenses, the man-db manual, the Debian Python Policy, the sed FAQ, dpkg's
triggers spec, GPT Academic's README). Each is parsed into a title, headings and paragraphs, then written
either as a multi-page PDF (pymupdf: US Letter, Times 10.5 pt body, headings in larger Helvetica Bold, a running
header and a page number on every page) or as Markdown (`#` headings). The layout is fixed here, so the same
pymupdf renders the same pages and the question set's expected pages stay right; `locate()` checks that.
"""

from __future__ import annotations

import gzip
import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

LICENSES = Path("/usr/share/common-licenses")
DOCS = Path("/usr/share/doc")
GPT_ACADEMIC = next(
    (
        p
        for p in (Path(__file__).resolve().parents[2] / "shared" / "gpt_academic", Path("/work/shared/gpt_academic"))
        if p.is_dir()
    ),
    Path("/work/shared/gpt_academic"),
)  # the GPT Academic checkout in shared/, beside this repository

Element = tuple[str, str]  # (kind, text): kind is title, h1, h2, p or pre


def _read(path: Path) -> str:
    data = gzip.decompress(path.read_bytes()) if path.suffix == ".gz" else path.read_bytes()
    return data.decode("utf-8", errors="replace")


def _blocks(text: str) -> list[list[str]]:
    """Runs of non-blank lines."""
    blocks, current = [], []
    for line in text.splitlines():
        if line.strip():
            current.append(line.rstrip())
        elif current:
            blocks.append(current)
            current = []
    if current:
        blocks.append(current)
    return blocks


def _join(lines: list[str]) -> str:
    return " ".join(" ".join(lines).split())


# ---------------------------------------------------------------- parsers, one per kind of source

_NUMBERED_TITLE = re.compile(r"^\s*(\d+|[A-Z])\.\s+[A-Z][^a-z]*$|^\s*\d+\.\s+[A-Z][\w'\- ,]{1,70}\.$")


def licence(text: str) -> list[Element]:
    """GPL, LGPL, GFDL: a centred title, centred or numbered headings, paragraphs between blank lines."""
    out: list[Element] = []
    for block in _blocks(text):
        joined = _join(block)
        centred = len(block) <= 3 and all(len(line) - len(line.lstrip()) >= 8 for line in block)
        if not out and centred:
            out.append(("title", joined))
        elif (centred and len(joined) < 80) or (len(block) == 1 and _NUMBERED_TITLE.match(block[0])):
            out.append(("h1", joined))
        else:
            out.append(("p", joined))
    return out


_APACHE_SECTION = re.compile(r"^(\d+)\.\s+([A-Z][^.]*\.)\s*(.*)$")


def apache(text: str) -> list[Element]:
    """The Apache licence: a section's title opens its first paragraph ("2. Grant of Copyright License. Subject ...")."""
    out: list[Element] = []
    for element in licence(text):
        kind, body = element
        match = _APACHE_SECTION.match(body) if kind in ("p", "h1") else None
        if match:
            out.append(("h1", f"{match.group(1)}. {match.group(2)}"))
            if match.group(3):
                out.append(("p", match.group(3)))
        else:
            out.append(element)
    return out


def mpl(text: str) -> list[Element]:
    """The MPL 2.0: headings underlined with = or -, numbered sub-headings alone on a line, definitions."""
    out: list[Element] = []
    for block in _blocks(text):
        if len(block) == 2 and set(block[1].strip()) <= {"=", "-", "*"}:
            out.append(("title" if not out else "h1", block[0].strip()))
        elif len(block) == 1 and re.match(r"^\d+\.\d+\.\s+\S", block[0]) and not block[0].rstrip().endswith("."):
            out.append(("h2", block[0].strip()))
        elif set("".join(block).strip()) <= {"-", "*", " "}:
            continue
        else:
            out.append(("p", _join(block)))
    return out


_ANSI = re.compile(r"\x1b\[[0-9;]*m")
_MANDB_HEADING = re.compile(r"^(\d+(?:\.\d+)*)\.\s+\S")


def man_db(text: str) -> list[Element]:
    """The man-db manual, as groff typeset it for a terminal: page footers, footnotes and hyphenation undone."""
    text = re.sub(r"_\x08|\x08_", "", _ANSI.sub("", text)).replace("+\x08o", "-")  # underlined letters, bullets
    lines = re.sub(r"(.)\x08\1", r"\1", text).splitlines()  # letters struck twice (bold)
    start = next(i for i, line in enumerate(lines) if line.startswith("1.  Introduction"))
    kept, footnote = [], False
    for line in lines[start:]:
        stripped = line.strip()
        if stripped.startswith("man-db ") and "v2." in stripped:  # running header
            continue
        if re.fullmatch(r"\d{1,3}", stripped):  # page number
            footnote = False
            kept.append("")
            continue
        if stripped.startswith("_____"):
            footnote = True
            continue
        if footnote:
            continue
        kept.append(line)
    out: list[Element] = [("title", "man-db - the database cached manual pager suite")]
    for block in _blocks("\n".join(kept)):
        match = _MANDB_HEADING.match(block[0])
        if len(block) == 1 and match and len(block[0]) < 70:
            out.append(("h1" if match.group(1).count(".") < 1 else "h2", " ".join(block[0].split())))
            continue
        if block[0].startswith("     ") and all(line.startswith("  ") for line in block):
            out.append(("pre", "\n".join(line[4:] for line in block)))
            continue
        merged = ""
        for line in block:
            line = line.strip()
            if merged.endswith("-") and re.search(r"[a-z]-$", merged) and re.match(r"[a-z]", line):
                merged = merged[:-1] + line  # a word hyphenated at the line's end
            else:
                merged = f"{merged} {line}" if merged else line
        out.append(("p", " ".join(merged.split())))
    return out


def python_policy(text: str) -> list[Element]:
    """The Debian Python Policy as its HTML's text: headings end with a pilcrow, paragraphs are not spaced."""
    lines = text.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("2. Completing the move"))
    end = next(i for i, line in enumerate(lines) if line.startswith("Indices and tables"))
    out: list[Element] = [("title", "Debian Python Policy")]
    for block in _blocks("\n".join(lines[start:end])):
        if len(block) == 1 and block[0].endswith("¶"):
            title = block[0].rstrip("¶").strip()
            number = title.split(" ", 1)[0]
            out.append(("h1" if number.count(".") <= 1 else "h2", title))
            continue
        if all(line.startswith("  ") for line in block) and ":" in block[0] and len(block) > 1 and "Depends" in block[0]:
            out.append(("pre", "\n".join(line.strip() for line in block)))
            continue
        paragraph: list[str] = []
        for line in block:
            starts_item = re.match(r"^\s*(\d+\.|\*)\s", line) is not None
            ended = paragraph and paragraph[-1].rstrip().endswith((".", ":")) and len(paragraph[-1]) < 72
            if paragraph and (starts_item or ended):
                out.append(("p", _join(paragraph)))
                paragraph = []
            paragraph.append(line)
        if paragraph:
            out.append(("p", _join(paragraph)))
    return out


_SED_HEADING = re.compile(r"^\d+(\.\d+)*\.\s+\S")


def sed_faq(text: str) -> list[Element]:
    """The sed FAQ: numbered headings at column 0 (a long one runs on), answers indented, scripts indented more."""
    lines = text.splitlines()
    body = [i for i, line in enumerate(lines) if line.strip() == "1. GENERAL INFORMATION"][1]
    out: list[Element] = [("title", "The sed FAQ: Frequently Asked Questions about sed, the stream editor")]
    for block in _blocks("\n".join(lines[body:])):
        if _SED_HEADING.match(block[0]) and all(not line.startswith(" ") for line in block):
            title = _join(block)
            out.append(("h1" if re.match(r"^\d+\.\s", title) else "h2", title))
        elif set(_join(block)) <= {"-", "="}:
            continue
        elif min(len(line) - len(line.lstrip()) for line in block) >= 5 or any(
            line.lstrip().startswith(("#", "sed ", "gsed ", "ssed ")) for line in block
        ):  # a script, or a one-liner under its comment
            out.append(("pre", "\n".join(line[3:] for line in block)))
        else:
            out.append(("p", _join(block)))
    return out


def underlined(text: str) -> list[Element]:
    """Plain text with headings underlined by === (the title) or --- (sections), as dpkg's specs are."""
    out: list[Element] = []
    lines = text.splitlines()
    cleaned: list[str] = []
    headings: dict[int, str] = {}
    for i, line in enumerate(lines):
        if i + 1 < len(lines) and line.strip() and re.fullmatch(r"[=\-]{3,}", lines[i + 1].strip() or "x"):
            headings[len(cleaned)] = "title" if lines[i + 1].strip()[0] == "=" else "h1"
            cleaned += ["", f"\0{line.strip()}", ""]
        elif re.fullmatch(r"[=\-]{3,}", line.strip() or "x"):
            continue
        else:
            cleaned.append(line)
    for block in _blocks("\n".join(cleaned)):
        if block[0].startswith("\0"):
            out.append(("title" if not out else "h1", block[0][1:]))
        elif block[0].startswith((" ", "\t")) and not block[0].lstrip().startswith("*"):
            out.append(("pre", "\n".join(block)))
        else:
            out.append(("p", _join(block)))
    return out


# ---------------------------------------------------------------- the corpus


@dataclass(frozen=True)
class Source:
    name: str  # the file's name in the base
    path: Path
    parse: Callable[[str], list[Element]] | None  # None: the file's own Markdown, as it is
    short: str  # the running header of a PDF

    @property
    def pdf(self) -> bool:
        return self.name.endswith(".pdf")


SOURCES = [
    Source("gpl-3.0.pdf", LICENSES / "GPL-3", licence, "GNU General Public License v3"),
    Source("apache-2.0.pdf", LICENSES / "Apache-2.0", apache, "Apache License 2.0"),
    Source("mpl-2.0.pdf", LICENSES / "MPL-2.0", mpl, "Mozilla Public License 2.0"),
    Source("man-db-manual.pdf", DOCS / "man-db/man-db-manual.txt.gz", man_db, "man-db manual"),
    Source("debian-python-policy.pdf", DOCS / "python3/python-policy.txt.gz", python_policy, "Debian Python Policy"),
    Source("gfdl-1.3.md", LICENSES / "GFDL-1.3", licence, ""),
    Source("lgpl-2.1.md", LICENSES / "LGPL-2.1", licence, ""),
    Source("sed-faq.md", DOCS / "sed/sedfaq.txt.gz", sed_faq, ""),
    Source("dpkg-triggers.md", DOCS / "dpkg/spec/triggers.txt", underlined, ""),
    Source("gpt-academic-readme.md", GPT_ACADEMIC / "README.md", None, ""),
]


def missing() -> list[str]:
    return [str(source.path) for source in SOURCES if not source.path.is_file()]


def elements(source: Source) -> list[Element]:
    assert source.parse is not None
    return source.parse(_read(source.path))


def markdown(items: list[Element]) -> str:
    marks = {"title": "# ", "h1": "## ", "h2": "### "}
    parts = []
    for kind, text in items:
        if kind in marks:
            parts.append(marks[kind] + text)
        elif kind == "pre":
            parts.append("\n".join("    " + line for line in text.splitlines()))
        else:
            parts.append(text)
    return "\n\n".join(parts) + "\n"


# ---------------------------------------------------------------- PDF layout

PAGE_W, PAGE_H, MARGIN = 612.0, 792.0, 72.0
STYLE = {  # kind: (font, size, leading, space before, space after)
    "title": ("hebo", 18.0, 22.0, 0.0, 16.0),
    "h1": ("hebo", 14.0, 17.0, 12.0, 6.0),
    "h2": ("hebo", 12.0, 15.0, 8.0, 4.0),
    "p": ("tiro", 10.5, 13.5, 0.0, 6.0),
    "pre": ("cour", 9.0, 11.0, 0.0, 6.0),
}
_ASCII = str.maketrans({"“": '"', "”": '"', "‘": "'", "’": "'", "–": "-", "—": "--", "…": "...", "•": "-", "\u00a0": " "})


def _latin(text: str) -> str:
    """What the PDF's base-14 fonts can show: Latin-1, typographic quotes and dashes as ASCII."""
    text = unicodedata.normalize("NFC", text.translate(_ASCII))
    return "".join(c if ord(c) < 256 else "?" for c in text)


def _wrap(text: str, font: str, size: float, width: float) -> list[str]:
    """Words into lines no wider than `width` (base-14 widths add up: no kerning)."""
    import pymupdf

    space = pymupdf.get_text_length(" ", fontname=font, fontsize=size)
    lines, line, used = [], [], 0.0
    for word in text.split():
        key = (word, font, size)
        if key not in _WIDTHS:
            _WIDTHS[key] = pymupdf.get_text_length(word, fontname=font, fontsize=size)
        wide = _WIDTHS[key]
        if line and used + space + wide > width:
            lines.append(" ".join(line))
            line, used = [], 0.0
        used += (space if line else 0.0) + wide
        line.append(word)
    return [*lines, " ".join(line)] if line else lines


_WIDTHS: dict[tuple[str, str, float], float] = {}


def write_pdf(items: list[Element], short: str, path: Path) -> int:
    """`items` laid out as a PDF at `path`; returns its pages."""
    import pymupdf

    doc = pymupdf.open()
    width = PAGE_W - 2 * MARGIN
    page, y = None, 0.0

    def new_page():
        nonlocal page, y
        page = doc.new_page(width=PAGE_W, height=PAGE_H)
        number = len(doc)
        page.insert_text((MARGIN, 40), short, fontname="tiit", fontsize=8.5)
        label = str(number)
        x = (PAGE_W - pymupdf.get_text_length(label, fontname="tiro", fontsize=9)) / 2
        page.insert_text((x, PAGE_H - 40), label, fontname="tiro", fontsize=9)
        y = MARGIN

    new_page()
    for kind, text in items:
        font, size, leading, before, after = STYLE[kind]
        text = _latin(text)
        if kind == "pre":
            lines = [line[:95] for line in text.splitlines()]
        else:
            lines = _wrap(text, font, size, width)
        heading = kind in ("title", "h1", "h2")
        need = leading * (len(lines) + (3 if heading else 0))  # a heading keeps a few lines of its text with it
        if heading and y + before + need > PAGE_H - MARGIN:
            new_page()
        elif y > MARGIN:
            y += before
        for line in lines:
            if y + leading > PAGE_H - MARGIN:
                new_page()
            y += leading
            x = MARGIN
            if kind == "title":
                x = (PAGE_W - pymupdf.get_text_length(line, fontname=font, fontsize=size)) / 2
            page.insert_text((x, y - (leading - size) / 2), line, fontname=font, fontsize=size)
        y += after
    doc.set_metadata({"title": short, "producer": "LocalScholar benchmarks (pymupdf)"})
    pages = len(doc)
    doc.save(path, garbage=3, deflate=True)
    doc.close()
    return pages


def build(folder: Path) -> dict[str, int]:
    """Every source written into `folder`; returns the pages of each PDF (0 for Markdown)."""
    folder.mkdir(parents=True, exist_ok=True)
    pages = {}
    for source in SOURCES:
        target = folder / source.name
        if source.parse is None:
            target.write_text(_read(source.path), encoding="utf-8")
            pages[source.name] = 0
        elif source.pdf:
            pages[source.name] = write_pdf(elements(source), source.short, target)
        else:
            target.write_text(markdown(elements(source)), encoding="utf-8")
            pages[source.name] = 0
    return pages


def _squash(text: str) -> str:
    return " ".join(_latin(text).split()).lower()


def locate(path: Path, anchor: str) -> list[int]:
    """The pages (from 1) of the PDF at `path` whose text holds `anchor` (whitespace and case aside)."""
    import pymupdf

    wanted = _squash(anchor)
    with pymupdf.open(path) as doc:
        return [number for number, page in enumerate(doc, start=1) if wanted in _squash(page.get_text())]


def sections_holding(path: Path, anchor: str) -> list[str]:
    """The headings of a Markdown file under which `anchor` stands (whitespace and case aside)."""
    wanted, found, section = _squash(anchor), [], None
    for paragraph in re.split(r"\n\s*\n", path.read_text(encoding="utf-8")):
        heading = re.match(r"^(#{1,6})\s+(.+)$", paragraph.strip())
        if heading:
            section = heading.group(2).strip()
        elif wanted in _squash(paragraph) and section not in found:
            found.append(section)
    return found

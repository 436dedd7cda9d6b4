"""A paper's text from its PDF, as Markdown-ish text: headings marked, running headers and page numbers gone.

`read_pdf` reads the text layer with PyMuPDF. Headings come from the PDF's outline where it has one,
else from the fonts: lines clearly larger than the body text, or short bold numbered lines such as
"2.1 Method". Lines repeated at the top or bottom of most pages (running headers, footers) and bare
page numbers are dropped; a paragraph's lines are joined (words hyphenated at a line end made whole)
and paragraphs are separated by a blank line. A new paragraph starts where the space above a line is
clearly larger than the page's usual space between lines (measured, so double-spaced manuscripts read
as single-spaced papers do), or at an indented line or after a short one that ends a sentence. Control
characters and other debris of the text layer are dropped (tidy.clean_text). `split_references` cuts
off the bibliography.
"""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from dataclasses import dataclass
from itertools import pairwise
from pathlib import Path
from statistics import median

from ..runtime.errors import PluginInputError
from .tidy import clean_text

MARGIN = 0.1  # running headers and footers sit in the top and bottom tenth of a page
REPEATED_SHARE = 0.4  # ... and come back on at least this share of the pages (two at least)
HEADING_SCALE = 1.15  # a heading's font is at least this much larger than the body's
MIN_CHARS_PER_PAGE = 20  # less text than this per page on average: a scan without a text layer
MAX_HEADING_CHARS = 150
MIN_GAPS = 4  # line pairs a page needs to measure its own line spacing; fewer: the document's is used

_NUMBERED = re.compile(r"^((?:\d+\.)*\d+|[IVX]{1,5}|[A-H])\.?\s+\S")
_SECTION_NAMES = re.compile(
    r"^(abstract|introduction|related work|background|conclusions?|discussion|acknowledge?ments?|references|"
    r"bibliography|appendix.*|摘要|引言|结论|致谢|参考文献)$",
    re.IGNORECASE,
)
_PAGE_NUMBER = re.compile(r"^(page\s*)?[-–—\s]*(\d{1,4}|[ivxlc]{1,6})[-–—\s]*((of|/)\s*\d{1,4})?$", re.IGNORECASE)
_HYPHENATED = re.compile(r"[^\W\d_][-\xad]$")  # a word cut at the line's end
_SENTENCE_END = re.compile(r"[.!?:;。！？：；”\"']$")
_ITEM = re.compile(r"^(\[\d{1,3}\]|[•▪◦‣∙·–-]\s|\(?\d{1,3}[.)]\s)")  # a reference or list entry
_CJK = re.compile(r"[\u3000-\u9fff\uff00-\uffef]")
_REFERENCES = re.compile(
    r"^(#{1,6})[ \t]+(?:[\dIVX]+\.?[ \t]*)?(references|bibliography|works cited|literature cited|参考文献|參考文獻)"
    r"[ \t]*:?[ \t]*$",
    re.IGNORECASE | re.MULTILINE,
)
_REFERENCES_PLAIN = re.compile(r"^(?:[\dIVX]+\.?[ \t]*)?(references|bibliography|参考文献)[ \t]*$", re.IGNORECASE | re.MULTILINE)
_HEADING = re.compile(r"^(#{1,6})[ \t]", re.MULTILINE)


@dataclass
class _Line:
    page: int
    block: int
    text: str
    size: float
    bold: bool
    x0: float
    y0: float
    x1: float
    y1: float
    block_right: float
    page_height: float
    level: int = 0  # heading level; 0: body text

    @property
    def height(self) -> float:
        return max(self.y1 - self.y0, 1.0)

    @property
    def in_margin(self) -> bool:
        return self.y0 < MARGIN * self.page_height or self.y1 > (1 - MARGIN) * self.page_height

    @property
    def key(self) -> str:
        """The line as it repeats from page to page: digits (page numbers) left out."""
        return f"{round(self.size)}|{re.sub(r'[0-9]+', '', self.text).strip().lower()}"


def _normal(text: str) -> str:
    return re.sub(r"[\W_]+", "", text).lower()


def read_pdf(path: Path) -> str:
    """The text of the PDF at `path` as Markdown-ish text; raises PluginInputError if it cannot be read."""
    return "\n\n".join(text for _, text in read_pdf_paragraphs(path)) + "\n"


def read_pdf_paragraphs(path: Path) -> list[tuple[int, str]]:
    """(page, paragraph) of the PDF at `path`, pages counted from 1; headings are paragraphs starting with `#`."""
    import pymupdf

    try:
        doc = pymupdf.open(path)
    except Exception as exc:  # PyMuPDF raises several types for a damaged or foreign file
        raise PluginInputError(
            en=f"{path.name} is not a readable PDF (damaged, or not a PDF): export it again and upload it.",
            zh=f"{path.name} 不是可读的 PDF（文件损坏或并非 PDF）：请重新导出后再上传。",
        ) from exc
    with doc:
        if doc.needs_pass and not doc.authenticate(""):
            raise PluginInputError(
                en=f"{path.name} is password-protected: save a copy without the password and upload that.",
                zh=f"{path.name} 有密码保护：请另存一份不带密码的副本后上传。",
            )
        pages = [_page_lines(page, number) for number, page in enumerate(doc)]
        toc = doc.get_toc(simple=True)
    chars = sum(len(line.text.strip()) for lines in pages for line in lines)
    if chars < MIN_CHARS_PER_PAGE * max(1, len(pages)):
        raise PluginInputError(
            en=f"{path.name} has no text layer (a scanned PDF?): OCR is not supported. Upload a PDF whose text can be selected.",
            zh=f"{path.name} 没有文字层（可能是扫描件）：暂不支持 OCR。请上传可以选中文字的 PDF。",
        )
    lines = _drop_running_lines(pages)
    _mark_headings(lines, toc)
    return _paragraphs(lines)


def _page_lines(page, number: int) -> list[_Line]:
    """The page's horizontal text lines with their font size, boldness and position."""
    lines = []
    height = page.rect.height or 1.0
    import pymupdf

    # text only: with images kept, PyMuPDF decodes each (a 20000×20000 picture in a 400 KB file is 400 MB)
    flags = pymupdf.TEXTFLAGS_DICT & ~pymupdf.TEXT_PRESERVE_IMAGES
    for block_no, block in enumerate(page.get_text("dict", flags=flags)["blocks"]):
        if block.get("type") != 0:
            continue
        right = block["bbox"][2]
        for line in block["lines"]:
            if abs(line["dir"][1]) > 0.1:  # rotated text: margin stamps, rotated tables
                continue
            spans = [span for span in line["spans"] if span["text"]]
            text = clean_text("".join(span["text"] for span in spans).replace("\xa0", " ")).strip()
            if not text:
                continue
            weights = Counter()
            for span in spans:
                weights[round(span["size"], 1)] += len(span["text"].strip())
            visible = [span for span in spans if clean_text(span["text"]).strip()]
            bold = all(span["flags"] & 16 or re.search(r"bold|black|heavy", span["font"], re.I) for span in visible)
            x0, y0, x1, y1 = line["bbox"]
            size = weights.most_common(1)[0][0]
            lines.append(_Line(number, block_no, text, size, bool(bold), x0, y0, x1, y1, right, height))
    return lines


def _drop_running_lines(pages: list[list[_Line]]) -> list[_Line]:
    """All lines in reading order, without running headers/footers and bare page numbers."""
    seen = Counter()
    for lines in pages:
        seen.update({line.key for line in lines if line.in_margin})
    least = max(2, REPEATED_SHARE * len(pages))
    repeated = {key for key, n in seen.items() if n >= least}
    kept = []
    for lines in pages:
        alone = Counter(line.block for line in lines)
        for line in lines:
            if line.in_margin and line.key in repeated:
                continue
            if _PAGE_NUMBER.match(line.text) and (line.in_margin or alone[line.block] == 1):
                continue
            kept.append(line)
    return kept


def _body_size(lines: list[_Line]) -> float:
    sizes = Counter()
    for line in lines:
        sizes[line.size] += len(line.text)
    return sizes.most_common(1)[0][0] if sizes else 10.0


def _looks_like_heading(line: _Line, body: float) -> bool:
    text = line.text
    if len(text) > MAX_HEADING_CHARS or len(text.split()) > 15 or not re.search(r"[^\W\d_]", text):
        return False
    if line.size >= body * HEADING_SCALE:
        return True
    short_bold = line.bold and len(text) <= 80 and not text.endswith((".", ",", ";"))
    return short_bold and bool(_NUMBERED.match(text) or _SECTION_NAMES.match(text.rstrip(":")))


def _numbered_level(text: str) -> int:
    """ "2 Method" -> 2, "2.1 Setup" -> 3 (the title is 1); 0 when the heading has no section number."""
    match = re.match(r"^(\d+(?:\.\d+)*)\.?\s", text)
    return min(2 + match.group(1).count("."), 4) if match else 0


def _mark_headings(lines: list[_Line], toc: list) -> None:
    """Set `level` on heading lines: from the outline where it matches the text, then from numbers and fonts."""
    body = _body_size(lines)
    first_page = [line for line in lines if line.page == 0 and line.size >= body * HEADING_SCALE]
    title_size = max((line.size for line in first_page), default=0.0)
    for line in first_page:
        if line.size == title_size and len(line.text) <= MAX_HEADING_CHARS:
            line.level = 1
    if toc:
        _mark_from_outline(lines, toc)
    found = [line for line in lines if line.level == 0 and _looks_like_heading(line, body)]
    for line in found:
        line.level = _numbered_level(line.text)
    by_size: dict[float, Counter] = {}  # the levels seen at each font size, to place unnumbered headings
    for line in lines:
        if line.level > 1:
            by_size.setdefault(line.size, Counter())[line.level] += 1
    deepest = max((level for levels in by_size.values() for level in levels), default=1)
    for line in found:
        if line.level == 0:
            known = by_size.get(line.size)
            smaller = all(line.size < size for size in by_size)
            line.level = known.most_common(1)[0][0] if known else min(deepest + 1, 4) if smaller and by_size else 2


def _mark_from_outline(lines: list[_Line], toc: list) -> None:
    """Headings from the PDF's outline, unless fewer than half its entries are found in the text (a stale outline)."""
    top = [entry for entry in toc if entry[0] == 1]
    shift = 0 if len(top) == 1 and top[0][2] == 1 and len(toc) > 1 else 1  # a lone top entry is the title
    wanted = {}
    for level, title, page in toc:
        wanted.setdefault((page - 1, _normal(title)), min(level + shift, 4))
    found = []  # (index, level, whether the title runs onto the next line)
    for i, line in enumerate(lines):
        own = (line.page, _normal(line.text))
        if own in wanted:
            found.append((i, wanted.pop(own), False))
        elif i + 1 < len(lines) and (joined := (line.page, own[1] + _normal(lines[i + 1].text))) in wanted:
            found.append((i, wanted.pop(joined), True))
    if len(found) * 2 < len(toc):
        return
    for i, level, wrapped in found:
        lines[i].level = level
        if wrapped:
            lines[i].text, lines[i + 1].text = f"{lines[i].text} {lines[i + 1].text}", ""


def _join(left: str, right: str) -> str:
    """Two lines of one paragraph as one: "improve-" "ments" -> "improvements"; "GPT-" "4", "Llama-2-" "7B" and
    "state-of-the-" "art" keep their hyphen (a capital or a digit beside it, or a compound); CJK joins without a space."""
    if left.endswith("\xad"):
        return left[:-1] + right
    if re.search(r"[^\W_]-$", left) and right[:1].isalnum():
        word = left[:-1].rsplit(None, 1)[-1]
        if left[-2].islower() and right[:1].islower() and "-" not in word:
            return left[:-1] + right
        return left + right
    if _CJK.search(left[-1:]) and _CJK.search(right[:1]):
        return left + right
    return f"{left} {right}"


def _usual_gaps(lines: list[_Line]) -> dict[tuple[int, float], float]:
    """The usual space between two lines of one paragraph, per page and font size: the median over the lines that
    follow each other in one column (single spacing: about 0; double spacing: most of a line's height)."""
    gaps: dict[tuple[int, float], list[float]] = defaultdict(list)
    for prev, line in pairwise(lines):
        if line.level or prev.level or line.page != prev.page or line.size != prev.size:
            continue
        gap = line.y0 - prev.y1
        if -0.5 * prev.height <= gap < 2 * prev.height and abs(line.x0 - prev.x0) < 6 * prev.size:
            gaps[(line.page, line.size)].append(gap)
    by_size: dict[float, list[float]] = defaultdict(list)
    for (_, size), found in gaps.items():
        by_size[size] += found
    usual = {key: median(found) for key, found in gaps.items() if len(found) >= MIN_GAPS}
    for page, size in {(line.page, line.size) for line in lines} - usual.keys():  # few lines on the page: the document's
        if by_size.get(size):
            usual[(page, size)] = median(by_size[size])
    return usual


def _starts_paragraph(prev: _Line, line: _Line, usual_gap: float = 0.0) -> bool:
    """Whether `line` begins a new paragraph after `prev`, `usual_gap` being the page's space between lines."""
    if _HYPHENATED.search(prev.text) and line.text[:1].islower():
        return False  # a word goes on
    ended = bool(_SENTENCE_END.search(prev.text))
    flowing = line.page == prev.page and -0.5 * prev.height <= line.y0 - prev.y1 and abs(line.x0 - prev.x0) < 6 * prev.size
    if not flowing:  # a new page or column: the paragraph goes on if its sentence does
        return ended or not (line.text[:1].islower() or prev.text.endswith(("-", ",")))
    gap, usual = line.y0 - prev.y1, max(usual_gap, 0.0)
    if gap > max(0.7 * prev.height, usual + 0.5 * prev.height):
        return True
    if line.block != prev.block and gap > max(0.3 * prev.height, usual + 0.3 * prev.height):
        return True
    indented = line.x0 > prev.x0 + 0.8 * prev.size
    short = prev.x1 < max(prev.block_right, line.block_right) - 3 * prev.size
    return ended and (indented or short or bool(_ITEM.match(line.text)))


def _paragraphs(lines: list[_Line]) -> list[tuple[int, str]]:
    """(page, paragraph) in reading order; a paragraph's page is the one it starts on, counted from 1."""
    usual = _usual_gaps(lines)
    paragraphs: list[tuple[int, str]] = []
    current, page, prev = "", 0, None
    for line in lines:
        if not line.text.strip():
            continue
        if line.level:
            if prev is not None and prev.level == line.level and prev.page == line.page and prev.block == line.block:
                paragraphs[-1] = (paragraphs[-1][0], _join(paragraphs[-1][1], line.text))  # a heading wrapped onto a second line
            else:
                if current:
                    paragraphs.append((page, current))
                paragraphs.append((line.page + 1, f"{'#' * line.level} {line.text}"))
            current, prev = "", line
            continue
        if current and prev is not None and not _starts_paragraph(prev, line, usual.get((prev.page, prev.size), 0.0)):
            current = _join(current, line.text)
        else:
            if current:
                paragraphs.append((page, current))
            current = "\\" + line.text if line.text.startswith("#") else line.text  # "# x" in the text is no heading
            page = line.page + 1
        prev = line
    if current:
        paragraphs.append((page, current))
    return paragraphs


def split_references(text: str) -> tuple[str, str]:
    """(body, references): the bibliography cut at its heading; sections after it (appendices) stay in the body."""
    headings = list(_REFERENCES.finditer(text))
    if headings:
        start, level = headings[-1].start(), len(headings[-1].group(1))
        after = headings[-1].end()
        end = next((m.start() for m in _HEADING.finditer(text, after) if len(m.group(1)) <= level), len(text))
    else:
        plain = list(_REFERENCES_PLAIN.finditer(text))
        if not plain or plain[-1].start() < len(text) // 3:
            return text, ""
        start, end = plain[-1].start(), len(text)
    body = text[:start].rstrip() + "\n"
    if end < len(text):
        body += "\n" + text[end:]
    return body, text[start:end].strip() + "\n"

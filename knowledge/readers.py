"""What goes into a base: the documents found in the paths given, each read as blocks that know their place.

A path is a file, a folder (read through, hidden and build folders left out) or a zip (unpacked member by
member with the plugins' limits: no absolute paths, `..` or links; sizes counted as they really unpack).
The `.tex` files of a folder or zip are LaTeX projects: each main file (with \\documentclass) and the files
it \\input make one document, read in LaTeX's order. A block is a paragraph (or a window of source code)
with the page it starts on (PDFs), the heading it sits under, and whether it is itself a heading. A PDF's
bibliography is left out: titles of other papers would answer questions about them.
"""

from __future__ import annotations

import hashlib
import re
import tempfile
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path

from crazy_functions.documents.code_files import LANGUAGES, SKIP_DIRS
from crazy_functions.documents.docx_text import read_docx
from crazy_functions.documents.pdf_text import read_pdf_paragraphs
from crazy_functions.latex.latex_project import _group_end, _live, find_main, inlined, plain_text, reading_order
from crazy_functions.runtime.errors import PluginInputError
from crazy_functions.runtime.files import read_text, unpack_zip

TEXT_SUFFIXES = {".txt", ".md", ".markdown", ".rst"}
DOCUMENT_SUFFIXES = {".pdf", ".docx", ".tex", *TEXT_SUFFIXES}
CODE_LINES = 60  # lines of source code a block
MAX_FILES = 5000  # documents one add may bring
_HEADING = re.compile(r"^(#{1,6})\s+(.+)$")
_REFERENCES = re.compile(
    r"^(?:[\dIVX]+\.?\s*)?(references|bibliography|works cited|literature cited|参考文献|參考文獻)\s*:?$", re.IGNORECASE
)
_LATEX_SECTION = re.compile(r"\\(part|chapter|section|subsection|subsubsection|paragraph)\*?\s*(\[[^\]]*\])?\s*(?=\{)")
_MACRO = re.compile(r"\\(?:re)?newcommand\*?\s*(?:\{\\([A-Za-z@]+)\}|\\([A-Za-z@]+))\s*\{")  # no [n]: no arguments
MAX_MACRO_BODY = 200
MAX_MACROS = 200
_LATEX_LEVEL = {"part": 1, "chapter": 1, "section": 2, "subsection": 3, "subsubsection": 4, "paragraph": 5}


@dataclass(frozen=True)
class Block:
    text: str
    page: int | None
    section: str | None
    heading: bool = False


@dataclass
class Source:
    """One document to index: its name in the base, the bytes that identify it, and how to read it."""

    name: str
    digest: str
    size: int
    read: Callable[[], list[Block]]


def supported(path: Path) -> bool:
    return path.suffix.lower() in DOCUMENT_SUFFIXES or path.suffix.lower() in LANGUAGES


def sources(paths: list[Path], stack: ExitStack) -> Iterator[Source]:
    """The documents in `paths`, each named by its place under the path given (a zip's members under its name)."""
    for path in paths:
        if path.is_dir():
            yield from _folder(path, path.name, stack)
        elif path.suffix.lower() == ".zip":
            yield from _zip(path, path.name, stack)
        elif path.suffix.lower() == ".tex":
            yield _tex_file(path)
        elif supported(path):
            yield _file(path, path.name)
        else:
            raise _not_indexed(path)


def check_kind(path: Path) -> None:
    """Raise PluginInputError for a file of a kind that is not indexed, before anything is read or made."""
    if path.is_file() and path.suffix.lower() != ".zip" and not supported(path):
        raise _not_indexed(path)


def _not_indexed(path: Path) -> PluginInputError:
    return PluginInputError(
        en=f"{path.name}: this kind of file is not indexed (PDF, Word .docx, Markdown, LaTeX, text, source "
        "code, or a zip of them).",
        zh=f"{path.name}：不支持此类文件（可添加 PDF、Word .docx、Markdown、LaTeX、纯文本、源代码，或它们的 zip）。",
    )


def _zip(path: Path, prefix: str, stack: ExitStack) -> Iterator[Source]:
    target = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="localscholar-kb-")))
    unpack_zip(path, target)
    yield from _folder(target, prefix, stack, in_zip=True)


def _wanted(root: Path) -> Iterator[tuple[Path, Path]]:
    """(path, path under root) of the files under `root` worth reading: no hidden, build or vendored folders, no links."""
    for path in sorted(root.rglob("*")):
        rel = path.relative_to(root)
        if any(part.startswith(".") or part in SKIP_DIRS for part in rel.parts):
            continue
        if path.is_file() and not path.is_symlink():
            yield path, rel


def _folder(root: Path, prefix: str, stack: ExitStack, in_zip: bool = False) -> Iterator[Source]:
    """A folder's documents; a zip in a folder is read too (a zip in a zip is not: one level of unpacking)."""
    found, tex = 0, {}
    for path, rel in _wanted(root):
        is_zip = path.suffix.lower() == ".zip" and not in_zip
        if not (supported(path) or is_zip):
            continue
        found += 1
        if found > MAX_FILES:
            raise PluginInputError(
                en=f"{prefix} holds more than {MAX_FILES} documents: add it in parts.",
                zh=f"{prefix} 中的文档超过 {MAX_FILES} 个：请分批添加。",
            )
        if is_zip:
            yield from _zip(path, f"{prefix}/{rel.as_posix()}", stack)
        elif path.suffix.lower() == ".tex":
            tex[rel] = read_text(path)
        else:
            yield _file(path, f"{prefix}/{rel.as_posix()}")
    yield from _latex(tex, prefix)


def _file(path: Path, name: str) -> Source:
    data = path.read_bytes()
    suffix = path.suffix.lower()
    reader = {".pdf": _pdf, ".docx": _docx}.get(suffix) or (_text if suffix in TEXT_SUFFIXES else _code)
    return Source(name, hashlib.sha256(data).hexdigest(), len(data), lambda: reader(path))


def _tex_file(path: Path) -> Source:
    """A .tex file given alone; a main file (with \\documentclass) brings the files it \\inputs from its folder."""
    main = Path(path.name)
    texts = {main: read_text(path)}
    if find_main(texts) is not None:
        for other, rel in _wanted(path.parent):
            if other.suffix.lower() == ".tex" and rel != main and len(texts) < MAX_FILES:
                texts[rel] = read_text(other)
    return _latex_source(inlined(main, texts), path.name)


def _latex(texts: dict[Path, str], prefix: str) -> Iterator[Source]:
    """Each LaTeX project among `texts` as one document; .tex files no main file reads, each alone."""
    left = dict(texts)
    while left and (main := find_main(left)) is not None:
        order = reading_order(main, left)
        yield _latex_source(inlined(main, left), f"{prefix}/{main.as_posix()}".lstrip("/"))
        for rel in order:
            left.pop(rel, None)
    for rel, text in left.items():
        yield _latex_source(text, f"{prefix}/{rel.as_posix()}".lstrip("/"))


def _latex_source(text: str, name: str) -> Source:
    data = text.encode("utf-8")
    return Source(name, hashlib.sha256(data).hexdigest(), len(data), lambda: _blocks(_latex_paragraphs(text)))


def _latex_paragraphs(text: str) -> Iterator[tuple[None, str]]:
    for paragraph in plain_text(_marked_sections(_expanded(text))).split("\n\n"):
        yield None, paragraph


def _expanded(text: str) -> str:
    """The document's own argument-less macros (\\newcommand{\\method}{\\textsc{SpectraNet}}) replaced by their
    text, so a name the paper writes as a macro is found by its words."""
    found = {}
    for match in _MACRO.finditer(text):
        if not _live(text, match.start()):
            continue
        end = _group_end(text, match.end() - 1)
        if 0 < end - match.end() <= MAX_MACRO_BODY:
            body = " ".join(plain_text(text[match.end() : end - 1]).split())
            if re.search(r"[^\W\d_]{2}", body) and "\\" not in body:  # words, not a symbol such as \\R
                found[match.group(1) or match.group(2)] = body
    if not found:
        return text
    names = "|".join(re.escape(name) for name in sorted(found, key=len, reverse=True)[:MAX_MACROS])
    use = re.compile(rf"\\({names})(?![A-Za-z@])(?:\s*\{{\}})?")
    return use.sub(lambda m: found[m.group(1)], text)


def _marked_sections(text: str) -> str:
    """\\section{Title} and its kin as Markdown headings, which plain_text keeps as prose."""
    out, cursor = [], 0
    for match in _LATEX_SECTION.finditer(text):
        if match.start() < cursor or not _live(text, match.start()):
            continue
        end = _group_end(text, match.end())
        if end < 0:
            continue
        title = " ".join(text[match.end() + 1 : end - 1].split())
        out += [text[cursor : match.start()], f"\n\n{'#' * _LATEX_LEVEL[match.group(1)]} {title}\n\n"]
        cursor = end
    out.append(text[cursor:])
    return "".join(out)


def _pdf(path: Path) -> list[Block]:
    return _blocks(read_pdf_paragraphs(path))


def _docx(path: Path) -> list[Block]:
    return _blocks((None, paragraph) for paragraph in read_docx(path).split("\n\n"))


def _text(path: Path) -> list[Block]:
    text = read_text(path)
    markdown = path.suffix.lower() in {".md", ".markdown"}
    paragraphs = re.split(r"\n\s*\n", text)
    return _blocks(((None, p) for p in (_fenced(paragraphs) if markdown else paragraphs)), headings=markdown)


def _fenced(paragraphs: list[str]) -> Iterator[str]:
    """Markdown paragraphs, with a `#` line inside a ``` or ~~~ code block kept as code, not read as a heading."""
    inside = False
    for paragraph in paragraphs:
        starts_inside = inside
        for line in paragraph.splitlines():
            if re.match(r"\s*(```|~~~)", line):
                inside = not inside
        yield "\\" + paragraph.lstrip() if starts_inside and paragraph.lstrip().startswith("#") else paragraph


def _code(path: Path) -> list[Block]:
    lines = read_text(path).splitlines()
    blocks = []
    for start in range(0, len(lines), CODE_LINES):
        window = "\n".join(lines[start : start + CODE_LINES]).strip()
        if window:
            last = min(start + CODE_LINES, len(lines))
            blocks.append(Block(window, None, f"L{start + 1}–{last}"))
    return blocks


def _blocks(paragraphs, headings: bool = True) -> list[Block]:
    """Paragraphs (page, text) as blocks under their headings; a bibliography's paragraphs are left out."""
    blocks: list[Block] = []
    section, skipping_level = None, 0
    for page, paragraph in paragraphs:
        text = paragraph.strip()
        if not text:
            continue
        heading = _HEADING.match(text) if headings else None
        if heading:
            level, title = len(heading.group(1)), heading.group(2).strip()
            if skipping_level and level > skipping_level:
                continue
            skipping_level = level if _REFERENCES.match(title) else 0
            if not skipping_level:
                section = title
                blocks.append(Block(title, page, section, heading=True))
            continue
        if not skipping_level:
            blocks.append(Block(text[1:] if text.startswith("\\#") else text, page, section))  # "\\# x": no heading
    return blocks

"""A LaTeX project as the LaTeX plugins see it: the uploaded .tex files or zipped project, its main file and
the files it \\input, and its text with the markup protected from the model.

Protection replaces everything that is not prose (the preamble, comments, maths, citations and references,
figures and tables, verbatim text, command names) by short markers such as ⟦3⟧. The model rewrites the
prose around the markers; an answer that loses, repeats or alters a marker, writes LaTeX of its own or
unbalances the braces is not used, and that piece keeps its original text. So every command and every
formula of the input is in the output, exactly as it was.
"""

from __future__ import annotations

import itertools
import re
import shutil
import tempfile
import zipfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from ..runtime.errors import PluginInputError
from ..runtime.files import files_of_type, read_text, unpack_zip

OPEN, CLOSE = "⟦", "⟧"
MARKER = re.compile(r"⟦(\d+)⟧")
MAIN_NAMES = ("main", "paper", "ms", "manuscript", "article", "thesis")

# environments kept whole: maths, floats and their tables and pictures, verbatim text, the bibliography
MATH_ENVS = {"equation", "align", "gather", "multline", "eqnarray", "flalign", "alignat", "math", "displaymath", "dmath"}
FLOAT_ENVS = {
    "figure", "table", "wrapfigure", "wraptable", "subfigure", "algorithm", "algorithmic", "tabular", "tabularx",
    "longtable", "tikzpicture", "thebibliography",
}  # fmt: skip
VERBATIM_ENVS = {"verbatim", "Verbatim", "lstlisting", "minted", "comment"}
KEPT_ENVS = {name + star for name in MATH_ENVS | FLOAT_ENVS | VERBATIM_ENVS for star in ("", "*")}

# commands whose arguments are names, keys, addresses or code, never prose: the whole call is kept
ARGUMENT_COMMANDS = {
    "cite", "citep", "citet", "citealp", "citealt", "citeauthor", "citeyear", "nocite", "parencite", "textcite",
    "autocite", "footcite", "ref", "eqref", "pageref", "autoref", "cref", "Cref", "nameref", "label", "url",
    "includegraphics", "input", "include", "subfile", "bibliography", "bibliographystyle", "addbibresource",
    "usepackage", "documentclass", "newenvironment", "renewenvironment", "DeclareMathOperator", "setlength",
    "addtolength", "setcounter", "addtocounter", "vspace", "hspace", "graphicspath", "hypersetup", "newtheorem",
    "pagestyle", "thispagestyle",
}  # fmt: skip

DEFINITIONS = {"newcommand", "renewcommand", "providecommand", "def", "gdef", "edef", "xdef"}
CONTROL_SEQUENCE = re.compile(r"\s*\\(?:[A-Za-z@]+|.)")
PARAMETERS = re.compile(r"[^{}\n%]*")  # [2][x] or #1#2 before a definition's body

# what a span of protected text is (plain_text drops or keeps each kind)
COMMENT, MATH, DISPLAY, BLOCK, ARGUMENT, COMMAND, ENVIRONMENT, SYMBOL = (
    "comment", "math", "display", "block", "argument", "command", "environment", "symbol",
)  # fmt: skip
SECTIONS = {"part", "chapter", "section", "subsection", "subsubsection", "paragraph"}


# ---------------------------------------------------------------- the project


@dataclass
class Project:
    """The project's files in a working folder; `order` is main and what it includes, in reading order."""

    name: str  # stem for the outputs' names
    root: Path
    tex_files: list[Path]  # relative to root
    main: Path | None
    order: list[Path]
    zipped: bool
    skipped: list[Path] = field(default_factory=list)  # .tex files main never includes: left alone

    def read(self, rel: Path) -> str:
        return read_text(self.root / rel)

    def write(self, rel: Path, text: str) -> None:
        (self.root / rel).write_text(text, encoding="utf-8")

    def package(self, chatbot, suffix: str) -> list[Path]:
        """Offer the project for download: the whole folder zipped when a zip came in, else each .tex rewritten."""
        if not self.zipped:
            return [chatbot.add_output(self.root / rel, f"{rel.stem}-{suffix}.tex") for rel in self.order]
        target = chatbot.output_path(f"{self.name}-{suffix}.zip")
        with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as bundle:
            for path in sorted(self.root.rglob("*")):
                if path.is_file():
                    bundle.write(path, path.relative_to(self.root).as_posix())
        return [chatbot.add_output(target)]


@contextmanager
def working_folder(chatbot) -> Iterator[Path]:
    """A scratch folder inside the user's output folder, removed afterwards."""
    chatbot.out_dir.mkdir(parents=True, exist_ok=True)
    folder = Path(tempfile.mkdtemp(prefix=".latex-", dir=chatbot.out_dir))
    try:
        yield folder
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def load_project(chatbot, txt: str, work: Path) -> Project:
    """The project from the user's uploads: the first .zip unpacked into `work`, else the .tex files copied there."""
    uploads = files_of_type(chatbot, (".tex", ".zip"), txt)
    archives = [path for path in uploads if path.suffix.lower() == ".zip"]
    if archives:
        unpack_zip(archives[0], work)
        name, zipped = archives[0].stem, True
    else:
        for path in uploads:
            target = work / path.name
            n = 1
            while target.exists():
                n += 1
                target = work / f"{path.stem}-{n}{path.suffix}"
            shutil.copyfile(path, target)
        name, zipped = "", False
    tex_files = sorted(
        path.relative_to(work)
        for path in work.rglob("*")
        if path.suffix.lower() == ".tex" and path.is_file() and not _macos_metadata(path.relative_to(work))
    )
    if not tex_files:
        raise PluginInputError(
            en=f"{archives[0].name} holds no .tex file: zip the folder with your LaTeX sources and upload it again.",
            zh=f"{archives[0].name} 里没有 .tex 文件：请把 LaTeX 源文件所在的文件夹压缩后重新上传。",
        )
    texts = {rel: read_text(work / rel) for rel in tex_files}
    main = find_main(texts)
    order = reading_order(main, texts) if main else tex_files
    skipped = [rel for rel in tex_files if rel not in order]
    return Project(name or (main or tex_files[0]).stem, work, tex_files, main, order, zipped, skipped)


def _macos_metadata(rel: Path) -> bool:
    """Finder's __MACOSX/ folder and ._name files: binary metadata a Mac adds to zips, never LaTeX."""
    return rel.parts[0] == "__MACOSX" or rel.name.startswith("._")


def _uncommented(text: str) -> str:
    return re.sub(r"(?<!\\)%.*", "", text)


def find_main(texts: dict[Path, str]) -> Path | None:
    """The file with \\documentclass (and \\begin{document}); None when no file has one."""

    def score(rel: Path) -> tuple:
        text = _uncommented(texts[rel])
        has_class = "\\documentclass" in text
        has_body = re.search(r"\\begin\s*\{document\}", text) is not None
        return (has_class and has_body, has_class, rel.stem.lower() in MAIN_NAMES, -len(rel.parts), len(text))

    best = max(texts, key=score, default=None)
    return best if best is not None and score(best)[1] else None


INPUT = re.compile(r"\\(?:input|include|subfile)\s*\{([^}]+)\}")


def resolve_input(name: str, current: Path, main: Path, texts: dict[Path, str]) -> Path | None:
    """The project file that `\\input{name}` in `current` names (relative to the main file's folder, then to
    `current`'s, with or without .tex); None when the project has no such file or the name climbs out."""
    name = name.strip()
    for base in (main.parent, current.parent):
        for candidate in (base / name, base / f"{name}.tex"):
            parts = [part for part in candidate.as_posix().split("/") if part not in ("", ".")]
            if parts and ".." not in parts and Path(*parts) in texts:
                return Path(*parts)
    return None


def reading_order(main: Path, texts: dict[Path, str]) -> list[Path]:
    """Main first, then each file it \\input or \\include, depth first, as LaTeX reads them."""
    order: list[Path] = []

    def visit(rel: Path) -> None:
        if rel in order or len(order) > 500:
            return
        order.append(rel)
        for match in INPUT.finditer(_uncommented(texts[rel])):
            target = resolve_input(match.group(1), rel, main, texts)
            if target is not None:
                visit(target)

    visit(main)
    return order


def inlined(main: Path, texts: dict[Path, str]) -> str:
    """The main file's text with each file it \\input or \\include in place of the command, as LaTeX reads it
    (nested; each file once; a command in a comment is left alone)."""
    seen: set[Path] = set()

    def text_of(rel: Path) -> str:
        seen.add(rel)
        text, out, cursor = texts[rel], [], 0
        for match in INPUT.finditer(text):
            target = resolve_input(match.group(1), rel, main, texts)
            if target is None or target in seen or len(seen) > 500 or not _live(text, match.start()):
                continue
            out += [text[cursor : match.start()], "\n", text_of(target), "\n"]
            cursor = match.end()
        out.append(text[cursor:])
        return "".join(out)

    return text_of(main)


# ---------------------------------------------------------------- reading the markup


def _unescaped(text: str, token: str, start: int) -> int:
    """Index of the next `token` at or after `start` not escaped by a backslash; -1 when none."""
    i = text.find(token, start)
    while i >= 0:
        slashes = 0
        while i - slashes > 0 and text[i - slashes - 1] == "\\":
            slashes += 1
        if slashes % 2 == 0:
            return i
        i = text.find(token, i + 1)
    return -1


def _group_end(text: str, i: int) -> int:
    """text[i] opens a {group} or an [option]: the index just past its end; -1 when it never closes."""
    closing = "}" if text[i] == "{" else "]"
    depth, j = 0, i
    while j < len(text):
        char = text[j]
        if char == "\\":
            j += 2
            continue
        if char == "{":
            depth += 1
        elif char == "}":
            depth -= 1
            if closing == "}" and depth == 0:
                return j + 1
        elif char == "]" and closing == "]" and depth == 0:
            return j + 1
        j += 1
    return -1


def _arguments(text: str, j: int, limit: int | None = None, braces: bool = True) -> int:
    """Past the [options] (and {arguments} when `braces`) that follow at j, up to `limit` of them."""
    taken = 0
    while j < len(text) and (limit is None or taken < limit):
        if text[j] == "[" or (braces and text[j] == "{"):
            end = _group_end(text, j)
            if end < 0:
                break
            j, taken = end, taken + 1
        else:
            break
    return j


def _environment_end(text: str, start: int, name: str) -> int:
    """Just past the \\end{name} that closes the environment whose body begins at `start`; len(text) when unclosed."""
    pattern = re.escape(name)
    if name.rstrip("*") in VERBATIM_ENVS:
        match = re.compile(r"\\end\s*\{" + pattern + r"\}").search(text, start)
        return match.end() if match else len(text)
    depth = 1
    for match in re.compile(r"\\(begin|end)\s*\{" + pattern + r"\}").finditer(text, start):
        depth += 1 if match.group(1) == "begin" else -1
        if depth == 0:
            return match.end()
    return len(text)


ENV_NAME = re.compile(r"\s*\{([^{}]*)\}")
NAME = re.compile(r"[A-Za-z]+")


def _command(text: str, i: int) -> tuple[int, str]:
    """text[i] is a backslash: the end of what it starts and the kind of span."""
    name = NAME.match(text, i + 1)
    if name is None:
        follower = text[i + 1 : i + 2]
        if follower in ("(", "["):
            closing = _unescaped(text, "\\)" if follower == "(" else "\\]", i + 2)
            return (len(text) if closing < 0 else closing + 2), (MATH if follower == "(" else DISPLAY)
        if follower == "\\":  # a line break, maybe \\* or \\[2pt]
            j = i + 2 + (text[i + 2 : i + 3] == "*")
            return _arguments(text, j, 1, braces=False), SYMBOL
        return min(i + 2, len(text)), SYMBOL
    word, j = name.group(), name.end()
    if word in ("begin", "end"):
        env = ENV_NAME.match(text, j)
        if env is None:
            return j, COMMAND
        if word == "begin" and env.group(1) in KEPT_ENVS:
            return _environment_end(text, env.end(), env.group(1)), BLOCK
        j = _arguments(text, env.end(), 1, braces=False) if word == "begin" else env.end()
        if word == "begin" and env.group(1) in ("minipage", "multicols"):
            j = _arguments(text, j, 1)
        return j, ENVIRONMENT
    j += text[j : j + 1] == "*"
    if word == "verb" and j < len(text):
        closing = text.find(text[j], j + 1)
        return (len(text) if closing < 0 else closing + 1), ARGUMENT
    if word in DEFINITIONS:  # \newcommand{\a}[1]{..}, \newcommand\a[1]{..}, \def\a#1{..}
        name = CONTROL_SEQUENCE.match(text, j)
        if name:
            j = PARAMETERS.match(text, name.end()).end()
        return _arguments(text, j), ARGUMENT
    if word in ARGUMENT_COMMANDS:
        return _arguments(text, j), ARGUMENT
    if word == "href":
        return _arguments(text, j, 1), ARGUMENT
    return _arguments(text, j, 1, braces=False), COMMAND


def spans(text: str) -> list[tuple[int, int, str]]:
    """The protected spans of `text`, in order: (start, end, kind)."""
    found, i, n = [], 0, len(text)
    while i < n:
        char = text[i]
        if char == "%":
            end = text.find("\n", i)
            found.append((i, n if end < 0 else end, COMMENT))
        elif char == "$":
            if text.startswith("$$", i):
                closing = _unescaped(text, "$$", i + 2)
                found.append((i, n if closing < 0 else closing + 2, DISPLAY))
            else:
                closing = _unescaped(text, "$", i + 1)
                found.append((i, i + 1 if closing < 0 else closing + 1, MATH))
        elif char == "\\":
            end, kind = _command(text, i)
            found.append((i, end, kind))
        elif char in (OPEN, CLOSE):
            found.append((i, i + 1, SYMBOL))
        else:
            i += 1
            continue
        i = found[-1][1]
    return found


BEGIN_DOCUMENT, END_DOCUMENT = re.compile(r"\\begin\s*\{document\}"), re.compile(r"\\end\s*\{document\}")


def _live(text: str, i: int) -> bool:
    """Whether position i is not inside a comment."""
    line = text[text.rfind("\n", 0, i) + 1 : i]
    return _unescaped(line, "%", 0) < 0


def body_spans(text: str) -> tuple[int, int, list[tuple[int, int, str]]]:
    """Where the body starts and ends (between \\begin{document} and \\end{document}; the whole of a file
    without them; nothing of a preamble without a body) and the protected spans inside it."""
    begin = next((m for m in BEGIN_DOCUMENT.finditer(text) if _live(text, m.start())), None)
    if begin is None:
        start = len(text) if "\\documentclass" in _uncommented(text) else 0
    else:
        start = begin.end()
    found, end = [], len(text)
    for a, b, kind in spans(text[start:]):
        if kind == ENVIRONMENT and END_DOCUMENT.fullmatch(text, a + start, b + start):
            end = a + start
            break
        found.append((a + start, b + start, kind))
    return start, end, found


# ---------------------------------------------------------------- protecting and restoring


@dataclass
class Masked:
    """A file's text with its body's markup replaced by ⟦n⟧ markers; the preamble and the end stay aside."""

    head: str
    body: str
    tail: str
    originals: list[str]  # marker n stands for originals[n - 1]

    def restore(self, body: str) -> str:
        """The file's text from a body with markers (as `body`, or rewritten around its markers)."""

        def original(match: re.Match) -> str:
            text = self.originals[int(match.group(1)) - 1]
            follower = body[match.end() : match.end() + 1]
            if follower.isalpha() and re.search(r"\\[A-Za-z]+$", text):
                text += " "  # a letter right after \name would lengthen the command's name
            elif follower not in ("", "\n") and _ends_in_comment(text):
                text += "\n"  # text moved onto a comment's line would be commented out
            return text

        return self.head + MARKER.sub(original, body) + self.tail


def _ends_in_comment(text: str) -> bool:
    found = spans(text) if "%" in text else []
    return bool(found) and found[-1][2] == COMMENT and found[-1][1] == len(text)


def protect(text: str) -> Masked:
    """Mask every piece of markup in the body; neighbours with only spaces (no blank line) between share a marker."""
    start, end, found = body_spans(text)
    merged: list[list[int]] = []
    for a, b, _ in found:
        if merged and re.fullmatch(r"[ \t]*\n?[ \t]*", text[merged[-1][1] : a]):
            merged[-1][1] = b
        else:
            merged.append([a, b])
    pieces, originals, cursor = [], [], start
    for a, b in merged:
        originals.append(text[a:b])
        pieces += [text[cursor:a], f"{OPEN}{len(originals)}{CLOSE}"]
        cursor = b
    pieces.append(text[cursor:end])
    return Masked(text[:start], "".join(pieces), text[end:], originals)


EDGE = r"(?:\s|⟦\d+⟧)*"
LEAD, TRAIL = re.compile("^" + EDGE), re.compile(EDGE + "$")


@dataclass
class Part:
    """One piece of a masked body: `core` goes to the model with its markers numbered from 1 (`ids` maps
    them back); the markers and spaces at its edges stay out. `core` is empty when there is no prose."""

    lead: str
    core: str
    trail: str
    ids: list[int]

    def masked(self, answer: str | None = None) -> str:
        """This part of the body, with markers numbered as in the file, holding the answer or the original."""
        text = self.core if answer is None else answer
        return self.lead + MARKER.sub(lambda m: f"{OPEN}{self.ids[int(m.group(1)) - 1]}{CLOSE}", text) + self.trail


def _numbered_from_one(text: str) -> str:
    numbers = itertools.count(1)
    return MARKER.sub(lambda _: f"{OPEN}{next(numbers)}{CLOSE}", text)


def parts_of(body: str, split: Callable[[str], list[str]]) -> list[Part]:
    """The body cut by `split` (the model's sizer), each cut trimmed to the prose between its edges."""
    parts = []
    for chunk in split(body):
        lead = LEAD.match(chunk).end()
        trail = lead + TRAIL.search(chunk[lead:]).start()
        core = chunk[lead:trail]
        if not re.search(r"[^\W\d_]", MARKER.sub("", core)):
            parts.append(Part(chunk, "", "", []))
            continue
        ids = [int(m.group(1)) for m in MARKER.finditer(core)]
        parts.append(Part(chunk[:lead], _numbered_from_one(core), chunk[trail:], ids))
    return parts


ESCAPES = {"%": r"\%", "&": r"\&", "#": r"\#", "_": r"\_"}
FENCE = re.compile(r"^```[A-Za-z]*\n(.*?)\n?```$", re.S)


def checked_answer(core: str, answer: str) -> tuple[str | None, str]:
    """The model's answer for `core` ready to put back, or None and why it cannot be used
    ("empty", "markers", "latex", "braces")."""
    text = answer.strip()
    fenced = FENCE.match(text)
    if fenced:
        text = fenced.group(1).strip()
    if not text:
        return None, "empty"
    expected = sorted(int(n) for n in MARKER.findall(core))
    found = sorted(int(n) for n in MARKER.findall(text))
    if found != expected or text.count(OPEN) != len(expected) or text.count(CLOSE) != len(expected):
        return None, "markers"
    if any(char in text and char not in core for char in "\\$^"):
        return None, "latex"
    if text.count("{") != core.count("{") or text.count("}") != core.count("}"):
        return None, "braces"
    for char, escaped in ESCAPES.items():
        if char not in core:  # special in LaTeX: the model meant the character itself
            text = text.replace(char, escaped)
    return text, ""


# ---------------------------------------------------------------- plain text


def _plain_span(text: str, kind: str) -> str:
    if kind == MATH:
        return text
    if kind == SYMBOL:
        return {"\\\\": "\n", "\\%": "%", "\\&": "&", "\\_": "_", "\\#": "#", "\\$": "$"}.get(text[:2], "")
    if kind == COMMAND and text[1:].rstrip("*") in SECTIONS:
        return "\n\n"
    return ""


def plain_text(text: str) -> str:
    """The body's prose: comments, commands, references, floats and display maths removed; inline maths kept."""
    start, end, found = body_spans(text)
    out, cursor = [], start
    for a, b, kind in found:
        out += [text[cursor:a], _plain_span(text[a:b], kind)]
        cursor = b
    out.append(text[cursor:end])
    prose = re.sub(r"[{}]", "", "".join(out)).replace("~", " ")
    prose = re.sub(r"[ \t]+", " ", prose)
    prose = re.sub(r" +([.,;:!?)])", r"\1", prose)
    return re.sub(r"\s*\n\s*\n\s*", "\n\n", prose).strip()


def document_title(text: str) -> str:
    """The \\title{...} of a main file as plain text; empty when it has none."""
    for a, b, kind in spans(text):
        if kind == COMMAND and re.match(r"\\title(?![A-Za-z])", text[a:b]) and text[b : b + 1] == "{":
            end = _group_end(text, b)
            if end > 0:
                title = re.sub(r"\\\\", " ", text[b + 1 : end - 1])
                return " ".join(plain_text(title).split())
    return ""

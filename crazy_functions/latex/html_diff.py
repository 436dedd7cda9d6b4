"""A self-contained HTML page showing, word by word, what a plugin changed in each file.

Lines are matched first; changed runs of lines are then compared word by word (each CJK character is a
word). Deletions are red and struck through, insertions green. All text is escaped.
"""

from __future__ import annotations

import difflib
import html
import re
from collections.abc import Sequence

CJK = "\u2e80-\u9fff\uac00-\ud7af\uf900-\ufaff\uff00-\uffef"
WORDS = re.compile(rf"[{CJK}]|\s+|[^\W{CJK}]+|[^\w\s]")
WORD_DIFF_LIMIT = 6000  # tokens per side; longer changed runs are shown as one deletion and one insertion

STYLE = """
body { font: 15px/1.6 system-ui, sans-serif; margin: 2em auto; max-width: 60em; padding: 0 1em; color: #222; }
h1 { font-size: 1.4em; } h2 { font-size: 1.1em; margin-top: 2em; border-bottom: 1px solid #ccc; }
.stats { color: #666; font-size: 0.9em; }
pre { white-space: pre-wrap; word-wrap: break-word; font: 13px/1.5 ui-monospace, monospace;
      background: #fafafa; border: 1px solid #eee; padding: 1em; }
del { background: #ffe0e0; color: #b00020; text-decoration: line-through; }
ins { background: #dcf5dc; color: #006400; text-decoration: none; }
"""


def _words(text: str) -> list[str]:
    return WORDS.findall(text)


def _mark(tag: str, tokens: Sequence[str]) -> str:
    return f"<{tag}>{html.escape(''.join(tokens))}</{tag}>" if tokens else ""


def _word_diff(before: str, after: str, counts: list[int]) -> str:
    a, b = _words(before), _words(after)
    if len(a) > WORD_DIFF_LIMIT or len(b) > WORD_DIFF_LIMIT:
        counts[0] += sum(1 for t in a if not t.isspace())
        counts[1] += sum(1 for t in b if not t.isspace())
        return _mark("del", a) + _mark("ins", b)
    out = []
    for op, i1, i2, j1, j2 in difflib.SequenceMatcher(None, a, b, autojunk=False).get_opcodes():
        if op == "equal":
            out.append(html.escape("".join(a[i1:i2])))
            continue
        counts[0] += sum(1 for t in a[i1:i2] if not t.isspace())
        counts[1] += sum(1 for t in b[j1:j2] if not t.isspace())
        out += [_mark("del", a[i1:i2]), _mark("ins", b[j1:j2])]
    return "".join(out)


def diff_html(before: str, after: str) -> tuple[str, int, int]:
    """The marked-up text of one file, and how many words were deleted and inserted."""
    old, new = before.splitlines(keepends=True), after.splitlines(keepends=True)
    out, counts = [], [0, 0]
    for op, i1, i2, j1, j2 in difflib.SequenceMatcher(None, old, new, autojunk=False).get_opcodes():
        if op == "equal":
            out.append(html.escape("".join(old[i1:i2])))
        else:
            out.append(_word_diff("".join(old[i1:i2]), "".join(new[j1:j2]), counts))
    return "".join(out), counts[0], counts[1]


def diff_page(title: str, files: Sequence[tuple[str, str, str]], lang: str) -> str:
    """The page for (name, before, after) of each file."""
    sections = []
    for name, before, after in files:
        body, deleted, inserted = diff_html(before, after)
        if before == after:
            stats = "未改动" if lang == "zh" else "unchanged"
        elif lang == "zh":
            stats = f"删除 {deleted} 词 · 插入 {inserted} 词"
        else:
            stats = f"{deleted} words deleted · {inserted} words inserted"
        sections.append(f'<h2>{html.escape(name)}</h2>\n<p class="stats">{stats}</p>\n<pre>{body}</pre>')
    legend = (
        "<del>红色删除线</del>：删去的文字；<ins>绿色</ins>：新写的文字。"
        if lang == "zh"
        else "<del>red, struck through</del>: removed; <ins>green</ins>: added."
    )
    return (
        f'<!DOCTYPE html>\n<html lang="{"zh" if lang == "zh" else "en"}">\n<head>\n<meta charset="utf-8">\n'
        f"<title>{html.escape(title)}</title>\n<style>{STYLE}</style>\n</head>\n<body>\n"
        f"<h1>{html.escape(title)}</h1>\n<p>{legend}</p>\n" + "\n".join(sections) + "\n</body>\n</html>\n"
    )

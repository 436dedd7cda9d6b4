"""Small repairs of text on its way to a model or into a file.

`clean_text` drops what a PDF's text layer carries besides text (control characters, U+FFFD for glyphs
without a character, private-use codes of ligatures) and spells out the ligature characters.
`close_fences` closes a code fence a model's answer left open, so it cannot turn the rest of a
Markdown file into code. `heading_levels` lists the Markdown headings outside code, to check that a
translation kept them.
"""

from __future__ import annotations

import re
import unicodedata

_JUNK = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\ufffd\ue000-\uf8ff]")  # \t and \n stay
_LIGATURES = re.compile("[\ufb00-\ufb06]")  # ﬀ ﬁ ﬂ ﬃ ﬄ ﬅ ﬆ
_FENCE = re.compile(r"^ {0,3}(`{3,}|~{3,})(.*)$")
_ATX_HEADING = re.compile(r"^ {0,3}(#{1,6})(?:[ \t]|$)")


def clean_text(text: str) -> str:
    """`text` without control characters, replacement characters and private-use codes; ligatures spelt out."""
    text = _JUNK.sub("", text)
    return _LIGATURES.sub(lambda m: unicodedata.normalize("NFKC", m.group(0)), text)


def _outside_code(text: str) -> tuple[list[str], str]:
    """The lines of `text` outside fenced code, and the fence still open at its end ("" when none)."""
    outside, open_mark = [], ""
    for line in text.split("\n"):
        fence = _FENCE.match(line)
        if open_mark:
            if (
                fence
                and fence.group(1)[0] == open_mark[0]
                and len(fence.group(1)) >= len(open_mark)
                and not fence.group(2).strip()
            ):
                open_mark = ""
        elif fence and not (fence.group(1)[0] == "`" and "`" in fence.group(2)):  # ```x``` is inline code
            open_mark = fence.group(1)
        else:
            outside.append(line)
    return outside, open_mark


def close_fences(text: str) -> str:
    """`text` with a code fence it leaves open closed at its end."""
    _, open_mark = _outside_code(text)
    return f"{text.rstrip()}\n{open_mark}" if open_mark else text


def heading_levels(text: str) -> list[int]:
    """The levels of the Markdown headings (`#` to `######` at a line's start) outside fenced code, in order."""
    lines, _ = _outside_code(text)
    return [len(match.group(1)) for line in lines if (match := _ATX_HEADING.match(line))]

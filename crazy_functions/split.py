"""Cut a long text into pieces that fit a token limit, at the strongest boundary available.

Section headings first (Markdown `#`, LaTeX `\\section`), then blank lines, then lines, then sentences,
then words, then characters. Each part is counted once with the model's own counter; packed pieces
are counted again and cut further if joining made one too long, so no piece exceeds the limit.
"""

from __future__ import annotations

import re
from collections.abc import Callable

_LEVELS = (  # each match ends where a cut may go; the matched text stays with the part before the cut
    re.compile(r"\n(?=#{1,6} |\\(?:sub)*section\*?\{|\\chapter\*?\{)"),  # before a heading
    re.compile(r"\n[ \t]*\n\s*"),  # blank lines
    re.compile(r"\n"),  # lines
    re.compile(r"[.!?;]\s+|[。！？；]\s*"),  # sentences
    re.compile(r"\s+"),  # words
)


def _parts(text: str, level: int) -> list[str]:
    if level >= len(_LEVELS):
        return list(text)  # characters: the last resort
    cuts = [0, *(m.end() for m in _LEVELS[level].finditer(text) if 0 < m.end() < len(text)), len(text)]
    return [text[a:b] for a, b in zip(cuts, cuts[1:], strict=False) if b > a]


def _pack(parts: list[str], sizes: list[int], limit: int) -> list[str]:
    pieces, current, used = [], "", 0
    for part, size in zip(parts, sizes, strict=True):
        if current and used + size > limit:
            pieces.append(current)
            current, used = "", 0
        current += part
        used += size
    if current:
        pieces.append(current)
    return pieces


def split_text(text: str, limit: int, count: Callable[[str], int], level: int = 0) -> list[str]:
    """Pieces of `text`, in order, each at most `limit` tokens by `count`; joined they give `text` back."""
    if limit < 1:
        raise ValueError("the token limit must be at least 1")
    if count(text) <= limit:
        return [text] if text else []
    while level <= len(_LEVELS):
        parts = _parts(text, level)
        if len(parts) > 1:
            break
        level += 1
    pieces: list[str] = []
    sizes = [count(part) for part in parts]
    small_parts, small_sizes = [], []
    for part, size in zip(parts, sizes, strict=True):
        if size > limit:  # too big alone: cut it at the next level down, in its place
            pieces += _pack(small_parts, small_sizes, limit)
            small_parts, small_sizes = [], []
            pieces += split_text(part, limit, count, level + 1)
        else:
            small_parts.append(part)
            small_sizes.append(size)
    pieces += _pack(small_parts, small_sizes, limit)
    checked: list[str] = []
    for piece in pieces:  # joining can add a token at a seam: check each piece once more
        checked += [piece] if count(piece) <= limit else split_text(piece, limit, count, level + 1)
    return checked

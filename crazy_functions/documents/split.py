"""Cut a long text into pieces that fit a token limit, at the strongest boundary available.

Section headings first (Markdown `#`, LaTeX `\\section`), then blank lines, then lines, then sentences,
then words, then characters. A part too big for one piece is cut at the next level, and the short
pieces on either side of it are packed with its ends, so there are few half-empty pieces. Each part is
counted with the model's own counter; packed pieces are counted again and cut further if joining made
one too long, so no piece exceeds the limit.
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
        if size <= limit:
            small_parts.append(part)
            small_sizes.append(size)
            continue
        # Too big alone: cut it at the next level down, in its place. A short piece before it goes along
        # (so a page's last lines and the next page's first are one piece, not two half-empty ones), and
        # its own short tail stays open for the parts after it.
        packed = _pack(small_parts, small_sizes, limit)
        head = packed.pop() if packed and count(packed[-1]) < limit // 2 else ""
        pieces += packed
        cut = split_text(head + part, limit, count, level + 1)
        pieces += cut[:-1]
        small_parts, small_sizes = cut[-1:], [count(piece) for piece in cut[-1:]]
    pieces += _pack(small_parts, small_sizes, limit)
    checked: list[str] = []
    for piece in pieces:  # joining can add a token at a seam: check each piece once more
        checked += [piece] if count(piece) <= limit else split_text(piece, limit, count, level + 1)
    return checked

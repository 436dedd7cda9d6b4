"""Cut a long text into pieces that fit a token limit, at the strongest boundary available.

Section headings first (Markdown `#`, LaTeX `\\section`), then blank lines, then lines, then sentences,
then words, then characters. A part too big for one piece is cut at the next level, and the short
pieces on either side of it are packed with its ends, so there are few half-empty pieces.

Counting may be a request to the model's server (/tokenize), so it is spent where it matters: a part
big enough to matter is counted alone; small parts (table cells, the fragments of a PDF whose text
comes in tiny blocks) are counted a piece's worth at a time, the count shared out by their estimates;
each packed piece is counted once more as a whole, and parts move on to the next piece when it is
over. The calls grow with the number of pieces, not of parts, and no piece exceeds the limit.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from request_llms.messages import estimate_tokens

_LEVELS = (  # each match ends where a cut may go; the matched text stays with the part before the cut
    re.compile(r"\n(?=#{1,6} |\\(?:sub)*section\*?\{|\\chapter\*?\{)"),  # before a heading
    re.compile(r"\n[ \t]*\n\s*"),  # blank lines
    re.compile(r"\n"),  # lines
    re.compile(r"[.!?;]\s+|[。！？；]\s*"),  # sentences
    re.compile(r"\s+"),  # words
)
SMALL = 4  # a part estimated at less than 1/SMALL of the limit is counted together with its neighbours


def _parts(text: str, level: int) -> list[str]:
    if level >= len(_LEVELS):
        return list(text)  # characters: the last resort
    cuts = [0, *(m.end() for m in _LEVELS[level].finditer(text) if 0 < m.end() < len(text)), len(text)]
    return [text[a:b] for a, b in zip(cuts, cuts[1:], strict=False) if b > a]


def _sizes(parts: list[str], limit: int, count: Callable[[str], int]) -> list[float]:
    """Each part's tokens: counted alone when it is big enough to matter, else its share of a run of small parts
    counted together (at most about a piece's worth), shared out by their estimates."""
    estimates = [estimate_tokens(part) for part in parts]
    sizes = [0.0] * len(parts)
    runs: list[list[int]] = []
    total = limit + 1  # the estimate of the last run; over the limit: the next small part starts a new run
    for i, estimate in enumerate(estimates):
        if estimate * SMALL >= limit:
            sizes[i] = count(parts[i])
            total = limit + 1
        elif total + estimate > limit:
            runs.append([i])
            total = estimate
        else:
            runs[-1].append(i)
            total += estimate
    for run in runs:
        tokens, estimated = count("".join(parts[i] for i in run)), sum(estimates[i] for i in run) or 1
        for i in run:
            sizes[i] = estimates[i] * tokens / estimated
    return sizes


def _pack(parts: list[str], sizes: list[float], limit: int, count: Callable[[str], int], level: int) -> list[str]:
    """The parts joined in order into pieces: filled by `sizes`, then each piece counted as a whole (a seam can add
    a token, a shared-out size can be low) and its last parts moved to the next piece while it is over the limit."""
    pieces, i = [], 0
    while i < len(parts):
        j, used = i + 1, sizes[i]
        while j < len(parts) and used + sizes[j] <= limit:
            used += sizes[j]
            j += 1
        while True:
            piece = "".join(parts[i:j])
            tokens = count(piece)
            if tokens <= limit or j == i + 1:
                break
            over = tokens - limit
            while j > i + 1 and over > 0:
                j -= 1
                over -= sizes[j]
        pieces += [piece] if tokens <= limit else split_text(piece, limit, count, level + 1)
        i = j
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
    else:
        return [text]  # one character the tokenizer makes longer than the limit: nothing left to cut
    pieces: list[str] = []
    small_parts: list[str] = []
    small_sizes: list[float] = []
    for part, size in zip(parts, _sizes(parts, limit, count), strict=True):
        if size <= limit:
            small_parts.append(part)
            small_sizes.append(size)
            continue
        # Too big alone: cut it at the next level down, in its place. A short piece before it goes along
        # (so a page's last lines and the next page's first are one piece, not two half-empty ones), and
        # its own short tail stays open for the parts after it.
        packed = _pack(small_parts, small_sizes, limit, count, level)
        head = packed.pop() if packed and count(packed[-1]) < limit // 2 else ""
        pieces += packed
        cut = split_text(head + part, limit, count, level + 1)
        pieces += cut[:-1]
        small_parts, small_sizes = cut[-1:], [count(piece) for piece in cut[-1:]]
    return pieces + _pack(small_parts, small_sizes, limit, count, level)

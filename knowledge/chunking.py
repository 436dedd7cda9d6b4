"""A document's blocks as chunks: consecutive paragraphs of one section, about CHUNK_WORDS words each.

A chunk never spans two sections: a heading starts a new one, and the heading's words become the
chunk's `section`. A paragraph longer than a chunk is cut at sentence ends (at words, when a sentence
is itself too long). Each chunk keeps the page it starts and ends on and its character span in the
document's text (its blocks joined by blank lines), so a citation can point at the passage.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from .readers import Block
from .store import Chunk

CHUNK_WORDS = 160  # about 210 tokens of English for the built-in model, which reads 256
_WORD = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]|[^\s\u3400-\u9fff\uf900-\ufaff]+")
_SENTENCE = re.compile(r"(?<=[.!?。！？；;])\s+|(?<=[。！？；])")


def words(text: str) -> int:
    """Words as the chunks count them: a Chinese character counts as one."""
    return len(_WORD.findall(text))


def chunk_blocks(blocks: list[Block], size: int = CHUNK_WORDS) -> list[Chunk]:
    chunks: list[Chunk] = []
    pending: list[tuple[Block, int, str]] = []  # (block, start offset, text) of the chunk being filled
    offset = 0

    def flush() -> None:
        if pending:
            first, start, _ = pending[0]
            last, last_start, last_text = pending[-1]
            text = "\n\n".join(piece for _, _, piece in pending)
            chunks.append(Chunk(len(chunks), first.page, last.page, first.section, start, last_start + len(last_text), text))
            pending.clear()

    for block in blocks:
        start = offset
        offset += len(block.text) + 2
        if block.heading:
            flush()
            continue
        for piece_start, piece in _pieces(block.text, size):
            here = start + piece_start
            if pending and (pending[-1][0].section != block.section or words(_joined(pending)) + words(piece) > size):
                flush()
            pending.append((block, here, piece))
    flush()
    return chunks


def _joined(pending: list[tuple[Block, int, str]]) -> str:
    return " ".join(piece for _, _, piece in pending)


def _pieces(text: str, size: int) -> Iterator[tuple[int, str]]:
    """(offset, text) of a block cut to at most `size` words: at sentence ends where it can be."""
    if words(text) <= size:
        yield 0, text
        return
    start, current = 0, ""
    cursor = 0
    for sentence in _sentences(text):
        at = text.index(sentence, cursor)
        cursor = at + len(sentence)
        if current and words(current) + words(sentence) > size:
            yield start, current
            current = ""
        if not current:
            start = at
        if words(sentence) > size:
            yield from _by_words(sentence, at, size)
            continue
        current = text[start:cursor]
    if current:
        yield start, current


def _sentences(text: str) -> list[str]:
    return [s for s in _SENTENCE.split(text) if s and s.strip()]


def _by_words(text: str, at: int, size: int) -> Iterator[tuple[int, str]]:
    found = list(_WORD.finditer(text))
    for i in range(0, len(found), size):
        group = found[i : i + size]
        yield at + group[0].start(), text[group[0].start() : group[-1].end()]

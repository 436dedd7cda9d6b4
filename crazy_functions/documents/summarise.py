"""Summarising a long document on any model: notes on each piece in parallel, then one synthesis.

When the notes together are too long for one request, they are merged in rounds (a few notes at a
time) until they fit. The pieces, the notes and the synthesis all come back, so a plugin writes out
whatever was finished when the user pressed Stop or a piece failed. Each note knows the section
headings of its piece (`note_title`), to be titled by them.
"""

from __future__ import annotations

import re
from collections.abc import Generator
from dataclasses import dataclass, field

from ..runtime.parallel import FAILED, Piece, ask_in_parallel
from ..runtime.pieces import sizer_for
from .tidy import close_fences

MAX_MERGE_ROUNDS = 4
MAX_TITLE_SECTIONS = 3
_HEADING = re.compile(r"^(?:#{1,6}[ \t]+(?P<md>.*?)[ \t#]*|\\(?:sub)*section\*?\{(?P<tex>[^}\n]*)\}.*)$", re.MULTILINE)


@dataclass(frozen=True)
class Prompts:
    """`note` takes {title} {i} {n} {text}; `merge` takes {title} {text}; `final` takes {title} {text}."""

    note: str
    merge: str
    final: str


@dataclass
class Summary:
    pieces: list[Piece] = field(default_factory=list)  # the notes' requests, finished or not
    synthesis: str = ""  # empty when the run stopped or a piece failed before the synthesis
    complete: bool = False
    final: Piece | None = None  # the synthesis request, once sent
    sections: list[tuple[str, list[str]]] = field(default_factory=list)  # per piece: see headings_of

    def note_title(self, i: int, lang: str) -> str:
        """The title of piece `i`'s note: the sections it covers ("2 Methods · 3 Results"), else its number."""
        continued, names = self.sections[i] if i < len(self.sections) else ("", [])
        shown = ([f"{continued}（续）" if lang == "zh" else f"{continued} (continued)"] if continued else []) + names
        if not shown:
            return str(i + 1)
        return " · ".join(shown[:MAX_TITLE_SECTIONS]) + (" …" if len(shown) > MAX_TITLE_SECTIONS else "")

    @property
    def requests(self) -> list[Piece]:
        """Every request of the summary: the notes, then the synthesis once it was sent."""
        return [*self.pieces, *([self.final] if self.final else [])]

    @property
    def failed(self) -> list[Piece]:
        return [p for p in self.requests if p.state == FAILED]

    @property
    def notes(self) -> list[str]:
        return [close_fences(piece.answer.strip()) for piece in self.pieces if piece.done]


def headings_of(parts: list[str]) -> list[tuple[str, list[str]]]:
    """For each piece of a document: the section it continues ("" when it starts at a heading or before the
    first), and the headings in it (Markdown `#` or LaTeX `\\section{}`)."""
    found, current = [], ""
    for part in parts:
        names = [(m.group("md") or m.group("tex") or "").strip() for m in _HEADING.finditer(part)]
        names = [name for name in names if name]
        found.append(("" if _HEADING.match(part.lstrip()) else current, names))
        current = names[-1] if names else current
    return found


def _numbered(notes: list[str]) -> str:
    return "\n\n".join(f"[{i + 1}] {note}" for i, note in enumerate(notes))


def summarise(
    chatbot,
    history: list,
    llm_kwargs: dict,
    text: str,
    title: str,
    prompts: Prompts,
    system: str = "",
    note_tokens: int = 400,
    final_tokens: int = 1000,
) -> Generator[tuple, None, Summary]:
    config = chatbot.config
    say = chatbot.say
    sizer = sizer_for(llm_kwargs, config, system + prompts.note.format(title=title, i=999, n=999, text=""), note_tokens)
    parts = sizer.split(text)
    summary = Summary(sections=headings_of(parts))
    summary.pieces = [
        Piece(prompts.note.format(title=title, i=i + 1, n=len(parts), text=part), max_tokens=sizer.answer_tokens)
        for i, part in enumerate(parts)
    ]
    heading = say(zh=f"**{title}**：正在阅读 {len(parts)} 段", en=f"**{title}**: reading {len(parts)} pieces")
    yield from ask_in_parallel(chatbot, history, summary.pieces, llm_kwargs, system, count=sizer.counter.count, heading=heading)
    if chatbot.stopped or not all(piece.done for piece in summary.pieces):
        return summary

    final = sizer_for(llm_kwargs, config, system + prompts.final.format(title=title, text=""), final_tokens)
    merge = sizer_for(llm_kwargs, config, system + prompts.merge.format(title=title, text=""), note_tokens)
    notes = _numbered(summary.notes)
    for _ in range(MAX_MERGE_ROUNDS):
        if final.counter(notes) <= final.piece_tokens:
            break
        groups = merge.split(notes)
        merged = [Piece(prompts.merge.format(title=title, text=g), max_tokens=merge.answer_tokens) for g in groups]
        heading = say(zh=f"**{title}**：合并笔记（{len(groups)} 组）", en=f"**{title}**: merging notes ({len(groups)} groups)")
        yield from ask_in_parallel(chatbot, history, merged, llm_kwargs, system, count=merge.counter.count, heading=heading)
        if chatbot.stopped or not all(piece.done for piece in merged):
            return summary
        notes = _numbered([piece.answer.strip() for piece in merged])
    else:
        notes = final.split(notes)[0]  # still too long after every round: synthesise from what fits
    last = Piece(prompts.final.format(title=title, text=notes), max_tokens=final.answer_tokens)
    heading = say(zh=f"**{title}**：正在综合", en=f"**{title}**: writing the synthesis")
    yield from ask_in_parallel(chatbot, history, [last], llm_kwargs, system, count=final.counter.count, heading=heading)
    summary.final = last
    if last.done:
        summary.synthesis, summary.complete = close_fences(last.answer.strip()), True
    return summary

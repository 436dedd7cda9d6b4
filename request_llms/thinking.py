"""A model's thinking, told apart from its answer, from text that carries it inline as `<think>...</think>`.

Servers without a reasoning parser, older Ollama and native models send the thought inside the text.
`ThinkSplitter` reads that text as it streams, in chunks of any size (a tag may arrive as `<`, `th`,
`ink>`), and gives back answer text (str) and `Thought`s. It handles:

- a thought at the start: `<think>...</think>answer`;
- a template that opened the thought itself (DeepSeek-R1, QwQ): the text starts inside the thought and
  only `</think>` shows where it ends. When the splitter is not told so (`prefilled`), such text first
  streams as answer; the first `</think>` then yields `Rethought`: everything so far was thinking;
- a thought that never closes (the answer was cut by its length limit): it stays a thought;
- `</think>` or `<think>` written later in the answer, in code or prose: it stays answer text.
"""

from __future__ import annotations

import html
from dataclasses import dataclass

OPEN, CLOSE = "<think>", "</think>"


@dataclass(frozen=True)
class Thought:
    """A piece of the model's thinking, streamed apart from the answer."""

    text: str


@dataclass(frozen=True)
class Rethought:
    """Everything streamed as answer so far was thinking (the template had opened the thought itself)."""


Piece = str | Thought | Rethought


class ThinkSplitter:
    """Feed it text chunks, then `close()`; it returns answer text, Thoughts and at most one Rethought."""

    def __init__(self, prefilled: bool = False) -> None:
        self.state = "thinking" if prefilled else "start"  # start -> thinking -> answer, or start -> answer
        self._held = ""  # text that may be the beginning of a tag
        self._code_seen = False  # a backtick in the answer: a later </think> is the answer's own text
        self._saw_thought = prefilled
        self._trim = False  # the newlines right after </think> are not the answer's

    def feed(self, chunk: str) -> list[Piece]:
        out: list[Piece] = []
        text = self._held + chunk
        self._held = ""
        while text:
            if self.state == "start":
                stripped = text.lstrip()
                if stripped.startswith(OPEN):
                    self.state, self._saw_thought = "thinking", True
                    text = stripped[len(OPEN) :]
                elif OPEN.startswith(stripped):  # only whitespace, or part of the opening tag so far
                    self._held = text
                    return out
                else:
                    self.state = "answer"
            elif self.state == "thinking":
                text = self._think(text, out)
            else:
                text = self._answer(text, out)
        return out

    def close(self) -> list[Piece]:
        """The end of the stream: what was held back goes where it stood."""
        held, self._held = self._held, ""
        if not held:
            return []
        if self.state == "thinking":
            return [Thought(held)]
        return [held] if held.strip() or self.state == "answer" else []

    def _think(self, text: str, out: list[Piece]) -> str:
        end = text.find(CLOSE)
        if end >= 0:
            if end:
                out.append(Thought(text[:end]))
            self.state, self._trim = "answer", True
            return text[end + len(CLOSE) :]
        keep = _partial_tag(text, CLOSE)
        if len(text) > keep:
            out.append(Thought(text[: len(text) - keep]))
        self._held = text[len(text) - keep :]
        return ""

    def _answer(self, text: str, out: list[Piece]) -> str:
        if self._trim:
            text = text.lstrip("\n")
            self._trim = not text
        if self._saw_thought:  # after a thought, everything is answer: tags in it are the answer's own words
            if text:
                out.append(text)
            return ""
        end = text.find(CLOSE)
        if end >= 0 and not self._code_seen and "`" not in text[:end]:
            # The template opened the thought: what streamed as answer, and this text up to the tag, was thinking.
            self._saw_thought, self._trim = True, True
            out.append(Rethought())
            if end:
                out.append(Thought(text[:end]))
            return text[end + len(CLOSE) :]
        self._code_seen = self._code_seen or "`" in text
        keep = 0 if end >= 0 or self._code_seen else _partial_tag(text, CLOSE)
        if len(text) > keep:
            out.append(text[: len(text) - keep])
        self._held = text[len(text) - keep :]
        return ""


def _partial_tag(text: str, tag: str) -> int:
    """How many characters at the end of `text` could be the start of `tag` (held until the next chunk)."""
    for size in range(min(len(tag) - 1, len(text)), 0, -1):
        if tag.startswith(text[-size:]):
            return size
    return 0


def split_thinking(text: str, prefilled: bool = False) -> tuple[str, str]:
    """(thinking, answer) of a whole text, as the streaming splitter would give them."""
    splitter = ThinkSplitter(prefilled)
    thinking: list[str] = []
    answer: list[str] = []
    for piece in [*splitter.feed(text), *splitter.close()]:
        if isinstance(piece, Rethought):
            thinking, answer = [*thinking, *answer], []
        elif isinstance(piece, Thought):
            thinking.append(piece.text)
        else:
            answer.append(piece)
    return "".join(thinking), "".join(answer)


def folded(thinking: str, answer: str, lang: str, seconds: float | None = None) -> str:
    """Markdown for a chat bubble: the thinking in a folded block above the answer (open until the answer begins)."""
    if not thinking.strip():
        return answer
    took = f", {seconds:.1f} s" if seconds else ""
    title = (
        f"思考过程（{len(thinking)} 字{took.replace(', ', '，')}）"
        if lang == "zh"
        else f"Thinking ({len(thinking)} characters{took})"
    )
    quoted = html.escape(thinking.strip()).replace("\n", "<br>\n")
    state = "" if answer else " open"
    return f"<details{state}><summary>{title}</summary>\n\n{quoted}\n\n</details>\n\n{answer}"

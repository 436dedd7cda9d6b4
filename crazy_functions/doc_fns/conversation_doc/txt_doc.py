"""The conversation as plain text."""

from __future__ import annotations

from .markdown_doc import pairs


class TxtFormatter:
    def create_document(self, history) -> str:
        blocks = [f"问题 Question {i}:\n{q}\n\n回答 Answer:\n{a}" for i, (q, a) in enumerate(pairs(history), start=1)]
        return ("\n\n" + "=" * 40 + "\n\n").join(blocks) + "\n"

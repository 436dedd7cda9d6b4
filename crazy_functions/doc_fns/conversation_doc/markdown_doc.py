"""The conversation as Markdown."""

from __future__ import annotations

import time


def pairs(history) -> list[tuple[str, str]]:
    """GPT Academic's flat history as (question, answer) pairs; an odd last item is a question without answer."""
    items = [str(item) for item in history]
    return [(items[i], items[i + 1] if i + 1 < len(items) else "") for i in range(0, len(items), 2)]


class MarkdownFormatter:
    def create_document(self, history) -> str:
        parts = [f"# 对话记录 Conversation\n\n{time.strftime('%Y-%m-%d %H:%M:%S')}\n"]
        for i, (question, answer) in enumerate(pairs(history), start=1):
            parts.append(f"## 问题 Question {i}\n\n{question}\n\n### 回答 Answer\n\n{answer}\n")
        return "\n".join(parts)

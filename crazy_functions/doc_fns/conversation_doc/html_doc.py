"""The conversation (the chat as shown, and the history as sent) as one HTML page."""

from __future__ import annotations

import html

from toolbox import markdown_convertion


class HtmlFormatter:
    def __init__(self, chatbot, history) -> None:
        self.chatbot, self.history = chatbot, history

    def create_document(self) -> str:
        boxes = []
        for pair in self.chatbot:
            question, answer = ("" if part is None else str(part) for part in list(pair)[:2])
            boxes.append(
                f'<div class="qa"><div class="question">{markdown_convertion(question)}</div>'
                f'<div class="answer">{markdown_convertion(answer)}</div></div>'
            )
        raw = "".join(f"<pre>{html.escape(str(item))}</pre>" for item in self.history)
        return (
            '<!DOCTYPE html><html><head><meta charset="utf-8"><title>对话存档 Conversation</title>'
            "<style>body{max-width:60rem;margin:auto;font-family:sans-serif}.qa{border:1px solid #ccc;"
            "border-radius:6px;margin:1rem 0;padding:1rem}.question{font-weight:bold}pre{white-space:pre-wrap}</style>"
            f"</head><body>{''.join(boxes)}<h2>对话（原始数据） History</h2>{raw}</body></html>"
        )

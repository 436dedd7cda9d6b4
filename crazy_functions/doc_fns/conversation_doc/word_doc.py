"""The conversation as a Word document (python-docx), and GPT Academic's `convert_markdown_to_word`."""

from __future__ import annotations

import re

from .markdown_doc import pairs

_FENCE = re.compile(r"^```[^\n]*\n(.*?)^```[ \t]*$", re.M | re.S)
_INLINE_CODE = re.compile(r"`([^`\n]+)`")
_IMAGE = re.compile(r"!\[([^\]]*)\]\([^)]*\)")
_LINK = re.compile(r"\[([^\]]+)\]\(\s*([^)\s]+)(?:\s+\"[^\"]*\")?\s*\)")
_HTML_LINK = re.compile(r"<a\s+href=['\"]([^'\"]+)['\"][^>]*>([^<]+)</a>", re.I)
_HEADING = re.compile(r"^(#{1,6})[ \t]+(.+?)(?:[ \t]+#+)?[ \t]*$", re.M)
_BULLET = re.compile(r"^([ \t]*)[-*+][ \t]+", re.M)
_STARS = re.compile(r"(\*{1,3})(?=\S)(.+?)(?<=\S)\1")
_UNDERSCORES = re.compile(r"(?<!\w)(_{1,2})(?=\S)(.+?)(?<=\S)\1(?!\w)")
_KEPT = re.compile("\0(\\d+)\0")


def convert_markdown_to_word(markdown_text: str) -> str:
    """Markdown as plain text for a Word paragraph, as GPT Academic writes it: heading marks (#) kept so a
    caller can tell the level, emphasis marks dropped, code marked [代码块]…[/代码块] and [代码]…[/代码] (its
    contents untouched), list items as "• ", links as "text (address)", images as "[图片：alt]"."""
    text = str(markdown_text).replace("\r\n", "\n").replace("\r", "\n")
    kept: list[str] = []

    def keep(piece: str) -> str:
        kept.append(piece)
        return f"\0{len(kept) - 1}\0"

    text = _FENCE.sub(lambda m: keep(f"[代码块]\n{m.group(1)}[/代码块]"), text)
    text = _INLINE_CODE.sub(lambda m: keep(f"[代码]{m.group(1)}[/代码]"), text)
    text = _IMAGE.sub(r"[图片：\1]", text)
    text = _LINK.sub(r"\1 (\2)", text)
    text = _HTML_LINK.sub(r"\2 (\1)", text)
    text = _HEADING.sub(r"\1 \2", text)
    text = _BULLET.sub(r"\1• ", text)
    text = _STARS.sub(r"\2", text)
    text = _UNDERSCORES.sub(r"\2", text)
    return _KEPT.sub(lambda m: kept[int(m.group(1))], text)


class WordFormatter:
    def create_document(self, history):
        from docx import Document

        document = Document()
        document.add_heading("对话记录 Conversation", level=0)
        for i, (question, answer) in enumerate(pairs(history), start=1):
            document.add_heading(f"问题 Question {i}", level=1)
            document.add_paragraph(question)
            document.add_heading("回答 Answer", level=2)
            for paragraph in convert_markdown_to_word(answer).split("\n\n"):
                document.add_paragraph(paragraph)
        return document

"""The conversation as a Word document (python-docx)."""

from __future__ import annotations

from .markdown_doc import pairs


class WordFormatter:
    def create_document(self, history):
        from docx import Document

        document = Document()
        document.add_heading("对话记录 Conversation", level=0)
        for i, (question, answer) in enumerate(pairs(history), start=1):
            document.add_heading(f"问题 Question {i}", level=1)
            document.add_paragraph(question)
            document.add_heading("回答 Answer", level=2)
            for paragraph in answer.split("\n\n"):
                document.add_paragraph(paragraph)
        return document

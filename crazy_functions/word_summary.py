"""Word 文档总结: a summary of an uploaded .docx, its headings kept as sections."""

from __future__ import annotations

from toolbox import CatchException

from .documents.document_summary import summarise_documents
from .documents.docx_text import read_docx
from .runtime.files import files_of_type
from .runtime.registry import Plugin


@CatchException
def word_summary(txt, llm_kwargs, plugin_kwargs, chatbot, history, system_prompt, user_request):
    files = files_of_type(chatbot, (".docx",), txt)
    yield from summarise_documents(chatbot, history, llm_kwargs, system_prompt, files, read_docx)


PLUGIN = Plugin(
    key="word_summary",
    zh="Word 文档总结",
    en="Summarise a Word document",
    group="paper",
    about_zh="上传 .docx 文档：按标题分段并行阅读，再写一份结构化总结（Markdown 文件）。",
    about_en="Upload a .docx document: read in pieces at its headings in parallel, then one structured summary "
    "(a Markdown file).",
    run=word_summary,
    files=(".docx",),
)

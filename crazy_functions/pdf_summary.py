"""PDF 论文总结: a summary of an uploaded PDF paper (background, method, results, limits), as Markdown."""

from __future__ import annotations

from toolbox import CatchException

from .documents.document_summary import summarise_documents
from .runtime.files import files_of_type
from .runtime.registry import Plugin


def _paper_text(path) -> str:
    from .documents.pdf_text import read_pdf, split_references

    body, _references = split_references(read_pdf(path))
    return body


@CatchException
def pdf_summary(txt, llm_kwargs, plugin_kwargs, chatbot, history, system_prompt, user_request):
    files = files_of_type(chatbot, (".pdf",), txt)
    yield from summarise_documents(chatbot, history, llm_kwargs, system_prompt, files, _paper_text)


PLUGIN = Plugin(
    key="pdf_summary",
    zh="PDF 论文总结",
    en="Summarise a PDF paper",
    group="paper",
    about_zh="上传 PDF 论文：按章节分段并行阅读，再综合为背景、方法、结果、局限四部分的总结（Markdown 文件）。参考文献不计入。",
    about_en="Upload a PDF paper: read in section-aware pieces in parallel, then one summary "
    "(background, method, results, limits) as a Markdown file. References are left out.",
    run=pdf_summary,
    files=(".pdf",),
)

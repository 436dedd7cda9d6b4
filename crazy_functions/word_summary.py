"""Word 文档总结: a summary of an uploaded .docx, its headings kept as sections."""

from __future__ import annotations

from pathlib import Path

from toolbox import CatchException

from .documents.document_summary import summarise_documents
from .runtime.errors import PluginInputError
from .runtime.files import files_of_type
from .runtime.registry import Plugin


def read_docx(path: Path) -> str:
    """The document's paragraphs and tables as Markdown-ish text; Word headings become `#` headings."""
    import docx
    from docx.opc.exceptions import PackageNotFoundError

    try:
        document = docx.Document(str(path))
    except (PackageNotFoundError, KeyError, ValueError) as exc:
        raise PluginInputError(
            en=f"{path.name} is not a readable .docx file (an old .doc? save it as .docx in Word and upload again).",
            zh=f"{path.name} 不是可读的 .docx 文件（若是旧版 .doc，请在 Word 中另存为 .docx 后重新上传）。",
        ) from exc
    lines = []
    for paragraph in document.paragraphs:
        text = paragraph.text.strip()
        if not text:
            continue
        style = (paragraph.style.name or "").lower() if paragraph.style is not None else ""
        level = next((int(c) for c in style if c.isdigit()), 1) if style.startswith(("heading", "标题")) else 0
        lines.append(f"{'#' * min(level, 6)} {text}" if level else text)
    for table in document.tables:
        for row in table.rows:
            lines.append(" | ".join(cell.text.strip() for cell in row.cells))
    text = "\n\n".join(lines)
    if not text.strip():
        raise PluginInputError(en=f"{path.name} has no text.", zh=f"{path.name} 中没有文字。")
    return text


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

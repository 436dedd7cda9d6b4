"""A Word document's text (.docx) as Markdown-ish text: its headings kept as `#` headings."""

from __future__ import annotations

from pathlib import Path

from ..runtime.errors import PluginInputError


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

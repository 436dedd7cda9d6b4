"""GPT Academic's PDF translation without a GROBID server, over LocalScholar's PDF translation."""

from __future__ import annotations

from pathlib import Path


def 解析PDF_简单拆解(file_manifest, project_folder, llm_kwargs, plugin_kwargs, chatbot, history, system_prompt):
    """Translate each PDF of `file_manifest` (bilingual Markdown and HTML, offered for download)."""
    from ..pdf_translate import pdf_translate

    chatbot.files = [Path(path) for path in file_manifest]
    yield from pdf_translate("", llm_kwargs, plugin_kwargs, chatbot, history, system_prompt, None)

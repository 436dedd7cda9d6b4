"""GPT Academic's PDF translation through a GROBID server: LocalScholar translates PDFs itself instead."""

from __future__ import annotations

from .parse_pdf_legacy import 解析PDF_简单拆解


def 解析PDF_基于GROBID(file_manifest, project_folder, llm_kwargs, plugin_kwargs, chatbot, history, system_prompt, grobid_url):
    """The PDFs translated by LocalScholar's own reader (headings, columns, references), which needs no GROBID."""
    yield from 解析PDF_简单拆解(file_manifest, project_folder, llm_kwargs, plugin_kwargs, chatbot, history, system_prompt)

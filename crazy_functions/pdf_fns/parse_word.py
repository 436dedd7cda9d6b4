"""GPT Academic's `extract_text_from_files`: the text of the PDFs, Markdown and Word files under a path."""

from __future__ import annotations

import os
import re
from pathlib import Path

from ..crazy_utils import get_files_from_everything, read_and_clean_pdf_text


def extract_text_from_files(txt: str, chatbot, history):
    """(found any, their texts, their first page or headings, their paths relative to the folder, "" or what failed).

    The last item is GPT Academic's code for what the user must fix: "word" for an old .doc file.
    """
    if not txt:
        return False, [txt], [], [], ""
    found = {kind: get_files_from_everything(txt, kind) for kind in (".pdf", ".md", ".docx", ".doc")}
    if found[".doc"][0]:
        return False, [], [], [], "word"
    texts, first, manifest = [], [], []
    for path in found[".pdf"][1]:
        text, page_one = read_and_clean_pdf_text(path)
        texts.append(text)
        first.append(str(page_one))
        manifest.append(os.path.relpath(path, found[".pdf"][2]))
    for path in found[".md"][1]:
        text = Path(path).read_text(encoding="utf-8", errors="replace")
        texts.append(text)
        first.append("\n".join(re.findall(r"^#\s(.*)$", text, re.MULTILINE)))
        manifest.append(os.path.relpath(path, found[".md"][2]))
    for path in found[".docx"][1]:
        from ..documents.docx_text import read_docx

        text = read_docx(Path(path))
        texts.append(text)
        first.append(text[:1000])
        manifest.append(os.path.relpath(path, found[".docx"][2]))
    if not texts:
        return False, [txt], [], [], ""
    return True, texts, first, manifest, ""

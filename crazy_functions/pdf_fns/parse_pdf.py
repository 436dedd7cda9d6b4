"""GPT Academic's GROBID lookup: a GROBID server from GROBID_URLS that answers, or None."""

from __future__ import annotations

import httpx

from request_llms.text import Text
from toolbox import get_conf

from ..runtime.session import say


def get_avail_grobid_url() -> str | None:
    """The first of GROBID_URLS whose /api/isalive answers; None when none is configured or none answers."""
    for url in get_conf("GROBID_URLS") or []:
        base = url.rstrip("/")
        try:
            if httpx.get(f"{base}/api/isalive", timeout=5).status_code == 200:
                return base
        except httpx.HTTPError:
            continue
    return None


_GROBID_ONLY = Text(
    zh="此功能需要 GROBID 或 NOUGAT 服务解析 PDF，LocalScholar 未提供；请改用「PDF 翻译」插件，它自己读取 PDF。",
    en="This needs a GROBID or NOUGAT service to read the PDF, which LocalScholar does not provide: "
    "use the PDF translation plugin, which reads PDFs itself.",
)


def parse_pdf(pdf_path: str, grobid_url: str):
    """GPT Academic's GROBID reading of a PDF into sections."""
    raise RuntimeError(say(_GROBID_ONLY.zh, _GROBID_ONLY.en))


def translate_pdf(
    article_dict, llm_kwargs, chatbot, fp, generated_conclusion_files, TOKEN_LIMIT_PER_FRAGMENT, DST_LANG, plugin_kwargs=None
):  # noqa: N803
    """GPT Academic's translation of a GROBID- or NOUGAT-read article."""
    raise RuntimeError(say(_GROBID_ONLY.zh, _GROBID_ONLY.en))
    yield  # a generator, as GPT Academic's

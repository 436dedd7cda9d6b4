"""GPT Academic's DOC2X PDF reading: a cloud service, which LocalScholar does not send papers to."""

from __future__ import annotations

from request_llms.text import Text

from ..runtime.session import say

_CLOUD = Text(
    zh="DOC2X 是云端服务，LocalScholar 不会把论文发送给它；请改用不带 DOC2X 的解析方式。",
    en="DOC2X is a cloud service and LocalScholar does not send papers to it: use another parsing method.",
)


def 解析PDF_基于DOC2X(file_manifest, *args, **kwargs):
    raise RuntimeError(say(_CLOUD.zh, _CLOUD.en))
    yield  # a generator, as GPT Academic's


def 解析PDF_DOC2X_转Latex(pdf_file_path):
    raise RuntimeError(say(_CLOUD.zh, _CLOUD.en))

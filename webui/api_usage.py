"""The settings panel's account of the API (request_llms/api): where it listens and, per key, requests and tokens."""

from __future__ import annotations

import time

import gradio as gr

from request_llms.api.usage import usage_book
from request_llms.text import Text

HEAD = Text(zh="**API 用量**（兼容 OpenAI，地址 `{url}`）", en="**API use** (OpenAI-compatible, at `{url}`)")
NONE = Text(zh="尚无 API 请求。", en="No API requests yet.")
COLUMNS = Text(
    zh="| 密钥指纹 | 请求 | 输入 token | 输出 token | 最近使用 |",
    en="| key fingerprint | requests | prompt tokens | completion tokens | last used |",
)
NO_KEY = Text(zh="（无密钥，本机）", en="(no key, this machine)")


def usage_markdown(config, lang: str, url: str = "/v1") -> str:
    rows = usage_book(config).all()
    head = HEAD.text(lang).format(url=url)
    if not rows:
        return f"{head}\n\n{NONE.text(lang)}"
    lines = [head, "", COLUMNS.text(lang), "|---|---:|---:|---:|---|"]
    for row in rows:
        who = f"`{row.key}`" if row.key else NO_KEY.text(lang)
        when = time.strftime("%Y-%m-%d %H:%M", time.localtime(row.last_used))
        lines.append(f"| {who} | {row.requests} | {row.prompt_tokens} | {row.completion_tokens} | {when} |")
    return "\n".join(lines)


def api_usage_shown(config, lang: str, request: gr.Request) -> str:
    """The account as the settings panel shows it, with the API's address as this browser reaches the page."""
    host = request.headers.get("host", "127.0.0.1") if request else "127.0.0.1"
    return usage_markdown(config, lang, f"http://{host}/v1")

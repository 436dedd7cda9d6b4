"""Images from elsewhere are never loaded by the page: an answer (or a thought, or a document a plugin quotes) that
embeds a remote image would otherwise have the browser fetch it, a tracking pixel chosen by whoever wrote the
text. The chat and the compare answers show such an image as a link (🖼 and its description) that the user may
open; the page's Content-Security-Policy (ImagePolicy) refuses any remote image these rewrites do not catch.
"""

from __future__ import annotations

import re
from dataclasses import is_dataclass, replace

import gradio as gr

_REMOTE = r"(?:https?:)?//[^\s)>\"']+"
_ALT_TEXT = r"((?:[^\[\]\n]|\[[^\[\]\n]*\])*)"  # a description, with brackets nested one deep as Markdown allows
_MARKDOWN_IMAGE = re.compile(r"!\[" + _ALT_TEXT + r"\]\(\s*<?(" + _REMOTE + r")>?(?:\s+(?:\"[^\"\n]*\"|'[^'\n]*'))?\s*\)", re.I)
_REFERENCE_IMAGE = re.compile(r"!\[" + _ALT_TEXT + r"\]\[([^\]\n]*)\]")  # its address is in a [ref]: line, which may be remote
_IMG_TAG = re.compile(r"<img\b[^>]*?\bsrc\s*=\s*[\"']?(" + _REMOTE + r")[^>]*>", re.I)
_CODE = re.compile(r"(```[\s\S]*?(?:```|$)|`[^`\n]*`)")  # the split keeps each code part at an odd index
_ALT = re.compile(r"\balt\s*=\s*(?:\"([^\"]*)\"|'([^']*)')", re.I)

# img-src: the page's own files, inline data and blobs; nothing else on the page is restricted by it
POLICY = "img-src 'self' data: blob:"


def _link(description: str, url: str) -> str:
    label = description.replace("[", "").replace("]", "").strip() or re.sub(r"^(?:https?:)?//", "", url).split("/")[0]
    return f"[🖼 {label}]({url})"


def _tag_link(match: re.Match) -> str:
    alt = _ALT.search(match.group(0))
    return _link((alt.group(1) or alt.group(2) or "") if alt else "", match.group(1))


def links_for_remote_images(text: str) -> str:
    """`text` with each remote image (Markdown, reference-style or an <img> tag) turned into a link to it; code
    (fenced blocks, inline spans, still open ones while an answer streams) is shown as written."""
    if "![" not in text and "<img" not in text.lower():
        return text
    parts = _CODE.split(text)
    return "".join(part if i % 2 else _rewrite(part) for i, part in enumerate(parts))


def _rewrite(text: str) -> str:
    text = _MARKDOWN_IMAGE.sub(lambda m: _link(m.group(1), m.group(2)), text)
    text = _REFERENCE_IMAGE.sub(lambda m: f"[🖼 {m.group(1)}][{m.group(2)}]", text)
    return _IMG_TAG.sub(_tag_link, text)


def _message(message):
    if isinstance(message, dict) and isinstance(message.get("content"), str):
        return {**message, "content": links_for_remote_images(message["content"])}
    if is_dataclass(message) and isinstance(getattr(message, "content", None), str):
        return replace(message, content=links_for_remote_images(message.content))
    if isinstance(message, list | tuple):  # a [question, answer] pair
        return [links_for_remote_images(part) if isinstance(part, str) else part for part in message]
    return message


def remote_images_as_links(component: gr.Chatbot | gr.Markdown) -> gr.Chatbot | gr.Markdown:
    """`component` (the chat window, a compare answer) showing remote images as links, whatever a handler gives it."""
    shown = component.postprocess
    if isinstance(component, gr.Chatbot):
        component.postprocess = lambda value: shown(None if value is None else [_message(message) for message in value])
    else:
        component.postprocess = lambda value: shown(links_for_remote_images(value) if isinstance(value, str) else value)
    return component


class ImagePolicy:
    """ASGI middleware: every page response carries POLICY, so the browser loads no image from elsewhere."""

    def __init__(self, app) -> None:
        self.app = app

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)

        async def send_with_policy(message):
            if message["type"] == "http.response.start":
                message = {**message, "headers": [*message.get("headers", []), (b"content-security-policy", POLICY.encode())]}
            await send(message)

        return await self.app(scope, receive, send_with_policy)

"""What one API request may hold, checked before any work is done on it.

The body is read no further than MAX_BODY_BYTES (a declared Content-Length beyond it is refused before
reading). A chat request's messages are counted on the parsed JSON before they are validated, and their
characters before anything is built from them; parsing, validating and converting run off the event loop,
so a large request never holds up other clients.
"""

from __future__ import annotations

from collections.abc import Callable

from starlette.requests import Request

from ..text import Text
from .failures import ApiFailure

MAX_BODY_BYTES = 16_000_000  # one request's body
CHAT_MAX_MESSAGES = 10_000  # messages of one chat request
CHAT_MAX_CHARACTERS = 4_000_000  # characters of all its messages: about a million tokens, the largest windows served


async def body(request: Request, too_much: Callable[[], ApiFailure]) -> bytes:
    """The request's body, read no further than MAX_BODY_BYTES; `too_much()` is the refusal beyond it."""
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > MAX_BODY_BYTES:
        raise too_much()
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > MAX_BODY_BYTES:
            raise too_much()
        chunks.append(chunk)
    return b"".join(chunks)


def chat_too_much() -> ApiFailure:
    return ApiFailure(
        400,
        Text(
            en=f"Too much for one chat request: at most {CHAT_MAX_MESSAGES:,} messages and {CHAT_MAX_CHARACTERS:,} "
            f"characters in all ({MAX_BODY_BYTES:,} bytes of body). Send the conversation's latest part.",
            zh=f"单个对话请求的内容过多：最多 {CHAT_MAX_MESSAGES:,} 条消息、共 {CHAT_MAX_CHARACTERS:,} 个字符"
            f"（请求体 {MAX_BODY_BYTES:,} 字节）。请只发送对话的最近部分。",
        ),
        param="messages",
    )


def count_messages(parsed: object) -> None:
    """Refuse a chat request with more than CHAT_MAX_MESSAGES messages, on the JSON as parsed (before validation)."""
    messages = parsed.get("messages") if isinstance(parsed, dict) else None
    if isinstance(messages, list) and len(messages) > CHAT_MAX_MESSAGES:
        raise chat_too_much()


def count_characters(texts: list[str]) -> None:
    if sum(len(text) for text in texts) > CHAT_MAX_CHARACTERS:
        raise chat_too_much()

"""From an OpenAI request to LocalScholar's `chat()` arguments, and the stop texts cut from the answer."""

from __future__ import annotations

from ..request import ChatOptions
from ..text import Text
from .bounds import count_characters
from .failures import ApiFailure
from .protocol import ChatRequest, Message

EFFORTS = ("low", "medium", "high")


def _bad(en: str, zh: str, param: str) -> ApiFailure:
    return ApiFailure(400, Text(en=en, zh=zh), param=param)


def _text(message: Message) -> str:
    if message.content is None or isinstance(message.content, str):
        return message.content or ""
    parts = []
    for part in message.content:
        if part.get("type") != "text":
            raise _bad(
                f"Only text content is supported, not {part.get('type')!r}.",
                f"只支持文本内容，不支持 {part.get('type')!r}。",
                "messages",
            )
        parts.append(str(part.get("text", "")))
    return "".join(parts)


def conversation(messages: list[Message]) -> tuple[list[dict[str, str]], str]:
    """(role turns, system) of the messages: the turns as the caller sent them, the system messages joined."""
    system, turns = [], []
    for message in messages:
        role = {"developer": "system"}.get(message.role, message.role)
        if role not in ("system", "user", "assistant"):
            raise _bad(
                f"Messages of role {message.role!r} are not supported (tools are not): use system, user and assistant.",
                f"不支持角色为 {message.role!r} 的消息（不支持工具调用）：请用 system、user 和 assistant。",
                "messages",
            )
        if role == "system":
            system.append(_text(message))
        else:
            turns.append({"role": role, "content": _text(message)})
    count_characters(system + [turn["content"] for turn in turns])
    if not turns or turns[-1]["role"] != "user":
        raise _bad("The last message must be the user's.", "最后一条消息必须来自用户（user）。", "messages")
    return turns, "\n\n".join(system)


def options(request: ChatRequest) -> ChatOptions:
    if request.n not in (None, 1):
        raise _bad("Only n=1 is supported.", "只支持 n=1。", "n")
    if request.tools:
        raise _bad("Tool calling is not supported.", "不支持工具调用（tools）。", "tools")
    effort = request.reasoning_effort
    if effort is not None and effort not in EFFORTS:
        raise _bad(
            f"reasoning_effort must be one of {', '.join(EFFORTS)}.",
            f"reasoning_effort 只能是 {'、'.join(EFFORTS)}。",
            "reasoning_effort",
        )
    return ChatOptions(temperature=request.temperature, top_p=request.top_p, max_tokens=request.answer_limit(), think=effort)


class StopCutter:
    """Cuts the answer at the first stop text; holds back an end that may be the start of one."""

    def __init__(self, stops: tuple[str, ...]) -> None:
        self.stops = stops
        self.held = ""
        self.hit = False

    def feed(self, text: str) -> str:
        if not self.stops or self.hit:
            return "" if self.hit else text
        text = self.held + text
        found = [i for i in (text.find(stop) for stop in self.stops) if i >= 0]
        if found:
            self.hit, self.held = True, ""
            return text[: min(found)]
        keep = max((n for stop in self.stops for n in range(1, len(stop)) if text.endswith(stop[:n])), default=0)
        self.held = text[len(text) - keep :] if keep else ""
        return text[: len(text) - keep]

    def flush(self) -> str:
        held, self.held = self.held, ""
        return held

"""The one place that turns (system prompt, role turns) into chat messages that fit the model.

A conversation is a list of role turns ({"role": "user" or "assistant", "content": ...}) ending with the
user's. The API hands its callers' turns over as they are; GPT Academic's flat history [question 1,
answer 1, question 2, answer 2, ...] is turned into role turns at its own edge (`turns_from_history`).
When the turns do not fit the context budget, the oldest exchanges are dropped and `Prompt.notice` says
so; a last turn that cannot fit even alone raises ContextTooLong with both sizes.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from .errors import ContextTooLong

MESSAGE_OVERHEAD = 4  # tokens a chat template adds around each message


def _is_wide(ch: str) -> bool:
    code = ord(ch)
    return 0x2E80 <= code <= 0x9FFF or 0xAC00 <= code <= 0xD7AF or 0xF900 <= code <= 0xFAFF or 0xFF00 <= code <= 0xFFEF


def estimate_tokens(text: str) -> int:
    """A deliberately high estimate when no tokenizer is at hand: a CJK character is one token,
    other text one token per three characters (real tokenizers give about four)."""
    wide = sum(1 for ch in text if _is_wide(ch))
    return wide + math.ceil((len(text) - wide) / 3)


@dataclass(frozen=True)
class Prompt:
    """Messages ready to send, and what was left out to make them fit."""

    messages: list[dict[str, str]]
    tokens: int
    budget: int
    dropped_turns: int

    def notice(self, lang: str = "zh") -> str:
        if not self.dropped_turns:
            return ""
        if lang == "zh":
            return f"上下文超出模型的 {self.budget} token 预算，已省略最早的 {self.dropped_turns} 轮对话。"
        return f"The conversation exceeded the model's {self.budget}-token budget; the oldest {self.dropped_turns} turn(s) were left out."


Message = dict[str, str]


def turns_from_history(prompt: str, history: Sequence[str] = ()) -> list[Message]:
    """GPT Academic's flat history and a new prompt as role turns; an odd last history item is left out."""
    turns: list[Message] = []
    for i in range(0, len(history) - 1, 2):
        turns += [{"role": "user", "content": history[i]}, {"role": "assistant", "content": history[i + 1]}]
    return [*turns, {"role": "user", "content": prompt}]


def _exchanges(turns: Sequence[Message]) -> list[list[Message]]:
    """The turns in exchanges, each a user's turn and what answered it; turns of one role in a row become one
    turn (chat templates that require the roles to alternate accept them so)."""
    merged: list[tuple[str, list[str]]] = []
    for turn in turns:
        if merged and merged[-1][0] == turn["role"]:
            merged[-1][1].append(turn["content"])
        else:
            merged.append((turn["role"], [turn["content"]]))
    exchanges: list[list[Message]] = []
    for role, parts in merged:
        message = {"role": role, "content": "\n\n".join(parts)}
        if role == "user":
            exchanges.append([message])
        elif exchanges:
            exchanges[-1].append(message)
        else:  # an answer with no question before it: templates that want the user first get an empty one
            exchanges.append([{"role": "user", "content": ""}, message])
    return exchanges


def build_messages(
    turns: Sequence[Message],
    system: str = "",
    budget: int | None = None,
    reserve: int = 0,
    count: Callable[[str], int] = estimate_tokens,
    keep_all: bool = False,
) -> Prompt:
    """Messages for `turns` (ending with the user's), trimmed from the oldest exchange to fit `budget - reserve`.

    `reserve` is kept free for the answer; `count` is the model's own token counter where one exists. With
    `keep_all` (the API: its caller chose the history) nothing is trimmed: what does not fit is ContextTooLong.
    """
    exchanges = _exchanges(turns)
    head = [{"role": "system", "content": system}] if system else []
    tail = exchanges.pop()
    used = sum(count(m["content"]) + MESSAGE_OVERHEAD for m in head + tail)
    limit = math.inf if budget is None else budget - reserve
    if used > limit:
        raise _too_long(used, budget, reserve, limit)
    kept: list[Message] = []
    dropped = len(exchanges)
    for exchange in reversed(exchanges):
        cost = sum(count(m["content"]) + MESSAGE_OVERHEAD for m in exchange)
        if used + cost > limit and not keep_all:
            break
        used += cost
        kept[:0] = exchange
        dropped -= 1
    if used > limit:
        raise _too_long(used, budget, reserve, limit)
    return Prompt(head + kept + tail, used, budget or 0, dropped)


def _too_long(used: int, budget: int | None, reserve: int, limit: float) -> ContextTooLong:
    return ContextTooLong(
        en=f"The prompt is about {used} tokens, but the model's context budget is {budget} tokens "
        f"({reserve} kept for the answer): shorten the text, or raise max_token in the model's brackets in config_private.py.",
        zh=f"输入约 {used} 个 token，超出模型的上下文预算 {budget} token（其中 {reserve} 留给回答）："
        "请缩短文本，或在 config_private.py 的模型标识括号中调大 max_token。",
        tokens=used,
        limit=int(limit),
    )

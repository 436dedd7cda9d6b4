"""The figures shown after an answer: thinking, time to first token, tokens per second, length, context used, and
the server of a pool that answered."""

from __future__ import annotations

from request_llms.chat import ChatStream

from .i18n import t


def figures(stream: ChatStream | None, lang: str) -> str:
    if stream is None:
        return ""
    parts = []
    if stream.wait_seconds >= 0.5:
        parts.append(f"{'等待/加载' if lang == 'zh' else 'wait/load'} {stream.wait_seconds:.1f} s")
    if stream.thinking and stream.time_to_first_thought is not None:
        took = stream.thinking_seconds or 0.0
        parts.append(f"{t('thought_for', lang)} {stream.time_to_first_thought:.2f} s + {took:.1f} s")
    if stream.time_to_first_token is not None:
        parts.append(f"{t('first_token', lang)} {stream.time_to_first_token:.2f} s")
    if stream.tokens_per_second:
        parts.append(f"{stream.tokens_per_second:.1f} tok/s")
    if stream.text:
        parts.append(f"{t('length', lang)} {stream.completion_tokens} tok")
    if stream.prompt and stream.prompt.budget:
        used = stream.prompt.tokens + stream.completion_tokens
        parts.append(f"{t('context', lang)} {used}/{stream.prompt.budget}")
    if stream.pooled and stream.server:
        parts.append(f"{t('server', lang)} {stream.server}")
        if stream.skipped:
            parts[-1] += " " + t("after_failed", lang, servers=", ".join(stream.skipped))
    if stream.cancelled:
        parts.append(t("stopped", lang))
    return " · ".join(parts)

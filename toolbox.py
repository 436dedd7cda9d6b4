"""GPT Academic's plugin toolbox, so its plugins import what they expect and run here.

`update_ui` is what a plugin yields; the page redraws the chat from the chatbot list it handed the
plugin. `CatchException` turns an error into one line in the chat (never a traceback on the page).
"""

from __future__ import annotations

import functools
import logging
import time
from collections.abc import Callable, Iterator
from pathlib import Path

from request_llms.config_loader import get_config
from request_llms.errors import LLMError

log = logging.getLogger("localscholar.plugins")


def update_ui(chatbot, history, msg: str = "正常", **kwargs) -> Iterator[tuple]:
    """Yield once so the page redraws `chatbot`; `msg` is the status line."""
    yield chatbot, history, msg


def update_ui_latest_msg(lastmsg: str, chatbot, history, delay: float = 0, msg: str = "正常") -> Iterator[tuple]:
    if chatbot:
        chatbot[-1] = [chatbot[-1][0], lastmsg]
    else:
        chatbot.append(["", lastmsg])
    yield from update_ui(chatbot, history, msg)
    if delay:
        time.sleep(delay)


def error_line(exc: BaseException, lang: str = "zh") -> str:
    """One line for the chat: the backend's own message, or the error's type and text."""
    if isinstance(exc, LLMError):
        return exc.text(lang)
    detail = f"{type(exc).__name__}: {exc}"
    if lang == "zh":
        return f"插件出错（{detail}）。详情见服务器日志。"
    return f"The plugin failed ({detail}). The server log has the details."


def CatchException(f: Callable) -> Callable:  # noqa: N802 (GPT Academic's name)
    """Decorate a plugin so an error ends it with one clear line in the chat, keeping what it wrote."""

    @functools.wraps(f)
    def decorated(txt, llm_kwargs, plugin_kwargs, chatbot, history, *args, **kwargs):
        try:
            yield from f(txt, llm_kwargs, plugin_kwargs, chatbot, history, *args, **kwargs)
        except Exception as exc:
            if not isinstance(exc, LLMError):
                log.exception("plugin %s failed", getattr(f, "__name__", f))
            line = "⚠ " + error_line(exc, getattr(chatbot, "lang", "zh"))
            if hasattr(chatbot, "failure"):
                chatbot.failure = line  # the page's status line says so too, not "finished"
            if chatbot and chatbot[-1][1] is not None:
                chatbot[-1] = [chatbot[-1][0], f"{chatbot[-1][1]}\n\n{line}".strip()]
            else:
                chatbot.append([txt, line])
            yield from update_ui(chatbot, history, msg=line)

    return decorated


def report_exception(chatbot, history, a: str, b: str) -> None:
    chatbot.append([a, b])
    history.extend([a, b])


def get_conf(*keys: str):
    config = get_config()
    values = [config[key] for key in keys]
    return values[0] if len(values) == 1 else values


def promote_file_to_downloadzone(file: str | Path, rename_file: str | None = None, chatbot=None) -> str:
    """Offer a file for download on the page."""
    if chatbot is not None and hasattr(chatbot, "add_output"):
        return str(chatbot.add_output(file, rename_file))
    return str(file)


def write_history_to_file(history, file_basename: str | None = None, file_fullname: str | None = None, chatbot=None):
    """The conversation as Markdown, written to the user's output folder (GPT Academic's helper)."""
    text = "\n\n".join(f"## {'Q' if i % 2 == 0 else 'A'}\n\n{item}" for i, item in enumerate(history))
    name = file_basename or time.strftime("history-%Y%m%d-%H%M%S.md")
    if chatbot is not None and hasattr(chatbot, "write_output"):
        return str(chatbot.write_output(name, text))
    target = Path(file_fullname or name)
    target.write_text(text, encoding="utf-8")
    return str(target)

"""What a plugin yields and how its errors reach the chat (GPT Academic's toolbox, first part).

`update_ui` is what a plugin yields; the page redraws the chat from the chatbot list it handed the
plugin. `CatchException` turns an error into one line in the chat, never a traceback on the page
(the traceback goes to the server log).
"""

from __future__ import annotations

import functools
import importlib
import inspect
import logging
import os
import sys
import time
import traceback
from collections.abc import Callable, Iterator

from crazy_functions.runtime.errors import FriendlyException, error_line
from crazy_functions.runtime.session import PluginChatbot
from request_llms.config_loader import get_config
from request_llms.errors import LLMError

log = logging.getLogger("localscholar.plugins")

ChatBotWithCookies = PluginChatbot  # GPT Academic's name for the chat list a plugin is handed


def update_ui(chatbot, history, msg: str = "正常", **kwargs) -> Iterator[tuple]:
    """Yield once so the page redraws `chatbot`; `msg` is the status line."""
    yield chatbot, history, msg


def update_ui_latest_msg(lastmsg: str, chatbot, history, delay: float = 1, msg: str = "正常") -> Iterator[tuple]:
    """Replace the answer of the last chat entry (or add one) and redraw; then wait `delay` seconds."""
    if chatbot:
        chatbot[-1] = [chatbot[-1][0], lastmsg]
    else:
        chatbot.append(["", lastmsg])
    yield from update_ui(chatbot, history, msg)
    if delay:
        time.sleep(delay)


update_ui_lastest_msg = update_ui_latest_msg  # the spelling most of GPT Academic's plugins use


def trimmed_format_exc() -> str:
    """The error being handled, in one line (GPT Academic's plugins put this in the chat); the whole
    traceback goes to the server log."""
    kind, exc, _ = sys.exc_info()
    if exc is None:
        return ""
    log.error("plugin error\n%s", traceback.format_exc())
    return f"{kind.__name__}: {exc}".replace(os.getcwd(), ".")


def trimmed_format_exc_markdown() -> str:
    return "\n\n```\n" + trimmed_format_exc() + "\n```"


def CatchException(f: Callable) -> Callable:  # noqa: N802 (GPT Academic's name)
    """Decorate a plugin so an error ends it with one clear line in the chat, keeping what it wrote."""

    @functools.wraps(f)
    def decorated(txt, llm_kwargs, plugin_kwargs, chatbot, history, *args, **kwargs):
        try:
            yield from f(txt, llm_kwargs, plugin_kwargs, chatbot, history, *args, **kwargs)
        except Exception as exc:
            if not isinstance(exc, LLMError | FriendlyException):
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


def HotReload(f: Callable) -> Callable:  # noqa: N802 (GPT Academic's name)
    """With PLUGIN_HOT_RELOAD set, the plugin's module is reloaded before each run, so edits apply at once."""
    if not get_config().get("PLUGIN_HOT_RELOAD"):
        return f

    @functools.wraps(f)
    def decorated(*args, **kwargs):
        fresh = getattr(importlib.reload(inspect.getmodule(f)), f.__name__)
        if getattr(fresh, "hot_reload", False):  # the module decorates it itself: run what it wraps
            fresh = fresh.__wrapped__
        yield from fresh(*args, **kwargs)

    decorated.hot_reload = True
    return decorated


def report_exception(chatbot, history, a: str, b: str) -> None:
    """Add an entry (question `a`, answer `b`) to the chat and the history."""
    chatbot.append([a, b])
    history.extend([a, b])

"""What a plugin is handed as `chatbot`: GPT Academic's list of [question, answer] pairs, and beside it
what the page knows about this run (language, Stop, the files the user picked, where outputs go).

A plugin written for GPT Academic sees only the list (and `get_cookies()`); plugins written here also
use `lang`, `cancel`, `files`, `config`, `allowed` (which models this user may ask) and `add_output`.
"""

from __future__ import annotations

import concurrent.futures
import contextvars
import os
import re
import shutil
import sys
import tempfile
import threading
import weakref
from collections.abc import Callable, Generator, Iterable, Iterator
from contextvars import ContextVar
from pathlib import Path

from request_llms.config_loader import get_config
from request_llms.model_spec import ModelSpec, parse_models
from request_llms.request import CancelToken
from request_llms.text import Text

from .errors import error_line, missing_module


class PluginChatbot(list):
    """A list of [question, answer] pairs that also carries the run's context."""

    def __init__(
        self,
        pairs: Iterable = (),
        *,
        lang: str = "zh",
        cancel: CancelToken | None = None,
        files: Iterable[Path] = (),
        out_dir: Path | None = None,
        config=None,
        allowed: Callable[[str], tuple[ModelSpec, ...]] | None = None,
        user: str = "default_user",
        cookies: dict | None = None,
    ) -> None:
        super().__init__([list(pair) for pair in pairs])
        self.lang = lang
        self.cancel = cancel or CancelToken()
        self.files = [Path(path) for path in files]
        self.out_dir = Path(out_dir) if out_dir else Path(tempfile.mkdtemp(prefix="localscholar-out-"))
        self.config = config or get_config()
        self.allowed = allowed or parse_models  # the page passes its own check: only models it offers
        self.outputs: list[Path] = []
        self.requests: list = []  # every Piece this run sent (crazy_functions.runtime.parallel), for figures and checks
        self.extra_html = ""  # charts and tables a plugin draws below the chat
        self.failure = ""  # the line of an error that ended the run (CatchException sets it)
        self.background_failures: list[str] = []  # errors that ended a thread the run started
        self.failed_futures: list[tuple[concurrent.futures.Future, str]] = []  # futures of its that hold an error
        self.first_new = len(self)  # the pairs from here on are this run's
        self.user = user
        self._cookies: dict = cookies if cookies is not None else {}  # GPT Academic's per-conversation state
        self._cookies.update(user_name=user, files_to_promote=[])

    def __reduce__(self):
        """Pickled as the plain list of pairs (GPT Academic's plugins pickle state that refers to the chatbot)."""
        return list, (self.get_list(),)

    # GPT Academic's ChatBotWithCookies
    def get_cookies(self) -> dict:
        return self._cookies

    def get_user(self) -> str:
        return self._cookies.get("user_name", self.user)

    def write_list(self, pairs) -> None:
        self[:] = [list(pair) for pair in pairs]

    def get_list(self) -> list:
        return [list(pair) for pair in self]

    # Ours
    def say(self, zh: str, en: str) -> str:
        """The words in the run's language."""
        return Text(zh=zh, en=en).text(self.lang)

    @property
    def stopped(self) -> bool:
        return self.cancel.is_set()

    def output_path(self, name: str) -> Path:
        """A path in the user's output folder for a new file, not overwriting an older one (only the name counts)."""
        self.out_dir.mkdir(parents=True, exist_ok=True)
        target = self.out_dir / (Path(name.replace("\\", "/")).name or "file")
        stem, suffix, n = target.stem, target.suffix, 1
        while target.exists():
            n += 1
            target = self.out_dir / f"{stem}-{n}{suffix}"
        return target

    def add_output(self, path: Path | str, name: str | None = None) -> Path:
        """Offer a file for download: it is kept in the user's output folder (copied there if elsewhere)."""
        source = Path(path)
        if source.parent.resolve() != self.out_dir.resolve() or name:
            target = self.output_path(name or source.name)
            shutil.copyfile(source, target)
            source = target
        if source not in self.outputs:
            self.outputs.append(source)
        return source

    def write_output(self, name: str, text: str) -> Path:
        """Write a text file to the output folder and offer it for download."""
        target = self.output_path(name)
        target.write_text(text, encoding="utf-8")
        return self.add_output(target)


_current: ContextVar[PluginChatbot | None] = ContextVar("localscholar_plugin_run", default=None)


def current_run() -> PluginChatbot | None:
    """The chatbot of the plugin run whose code is executing now (GPT Academic's helpers that take no chatbot
    write into that user's folders); None outside a run."""
    return _current.get()


def stepped(plugin_run: Iterator, chatbot: PluginChatbot) -> Generator:
    """Run a plugin's generator with `current_run()` set during each of its steps; returns what it returns.

    Set per step, because the page may resume the generator in a different thread each time.
    """
    while True:
        token = _current.set(chatbot)
        try:
            update = next(plugin_run)
        except StopIteration as stop:
            return stop.value
        finally:
            _current.reset(token)
        yield update


# The threads a plugin starts belong to its run: they see current_run() (so GPT Academic's helpers that take no
# chatbot write into the right user's folders), and an error that ends one, or that a future of one holds and
# nobody asks for, is the run's, which the page's status line then reports instead of "finished".
_thread_start = threading.Thread.start
_STDLIB = (os.path.dirname(threading.__file__) + os.sep,)
_MODEL_LAYER = tuple(str(Path(__file__).resolve().parents[2] / part) + os.sep for part in ("request_llms", "knowledge"))
_future_set_exception = concurrent.futures.Future.set_exception
_future_result = concurrent.futures.Future.result
_future_exception = concurrent.futures.Future.exception
_asked: weakref.WeakSet = weakref.WeakSet()  # futures whose result or error someone asked for


def _started_by_the_model_layer() -> bool:
    """Whether the code starting a thread (past threading and concurrent.futures) is LocalScholar's model layer
    or knowledge bases: their threads (a model's worker reader, a pool) outlive the run that happened to start them."""
    frame = sys._getframe(2)
    while frame is not None and frame.f_code.co_filename.startswith(_STDLIB):
        frame = frame.f_back
    return frame is not None and frame.f_code.co_filename.startswith(_MODEL_LAYER)


def _start_in_run(thread: threading.Thread) -> None:
    run = current_run()
    if run is not None and not _started_by_the_model_layer():
        context, work = contextvars.copy_context(), thread.run

        def in_run() -> None:
            try:
                context.run(work)
            except Exception as exc:
                run.background_failures.append(error_line(exc, run.lang))
                raise

        thread.run = in_run
    _thread_start(thread)


def _set_exception_in_run(future: concurrent.futures.Future, exception) -> None:
    run = current_run()
    if run is not None and isinstance(exception, Exception):
        run.failed_futures.append((future, error_line(exception, run.lang)))
    _future_set_exception(future, exception)


def _result_asked(future: concurrent.futures.Future, timeout=None):
    _asked.add(future)  # whoever asks sees the error: it is theirs to report, not lost
    return _future_result(future, timeout)


def _exception_asked(future: concurrent.futures.Future, timeout=None):
    _asked.add(future)
    return _future_exception(future, timeout)


threading.Thread.start = _start_in_run
concurrent.futures.Future.set_exception = _set_exception_in_run
concurrent.futures.Future.result = _result_asked
concurrent.futures.Future.exception = _exception_asked

_FAILED_QUESTIONS = ("失败了", "执行失败了")
_PRINTED_FAILURE = re.compile(r"No module named '([\w.]+)'|Traceback \(most recent call last\)")


def ending(chatbot: PluginChatbot) -> str:
    """The line that says the run failed, or "" when it did not: the error that ended it, else the first error
    of a thread or future it started, else a failure it only said in the chat (GPT Academic's "失败了" entry,
    an import failure or a traceback)."""
    if chatbot.failure:
        return chatbot.failure
    asked = chatbot.requests
    if asked and all(getattr(piece, "state", "") == "failed" for piece in asked):  # not one request was answered
        first = next((piece.error for piece in asked if piece.error is not None), None)
        why = error_line(first, chatbot.lang) if first is not None else ""
        return "⚠ " + chatbot.say(
            zh=f"插件的 {len(asked)} 个请求全部失败：{why}", en=f"Every one of the plugin's {len(asked)} request(s) failed: {why}"
        )
    lost = chatbot.background_failures + [line for future, line in chatbot.failed_futures if future not in _asked]
    if lost:
        first, count = lost[0], len(lost)
        return "⚠ " + chatbot.say(
            zh=f"插件已结束，但有 {count} 个后台任务出错：{first}",
            en=f"The plugin ended, but {count} background task(s) failed: {first}",
        )
    for question, answer in chatbot[chatbot.first_new :]:
        if str(question or "").strip() in _FAILED_QUESTIONS:  # GPT Academic's own way to say a run failed
            said = str(answer or "").strip().splitlines()[0][:200] if str(answer or "").strip() else ""
            return "⚠ " + chatbot.say(zh=f"插件报告失败：{said}", en=f"The plugin reported a failure: {said}")
        found = _PRINTED_FAILURE.search(str(answer or ""))
        if found and found.group(1):
            return "⚠ " + missing_module(found.group(1)).text(chatbot.lang)
        if found:
            return "⚠ " + chatbot.say(
                zh="插件在对话中报告了一个程序错误（Traceback），结果可能不完整。",
                en="The plugin reported a program error (a traceback) in the chat; its result may be incomplete.",
            )
    return ""


def say(zh: str, en: str) -> str:
    """The words of an error a GPT Academic helper raises, in the running plugin's language (both outside a run)."""
    run = current_run()
    return Text(zh=zh, en=en).text(run.lang) if run is not None else f"{zh} / {en}"

"""Several models answer one question at once; each lane streams on its own thread and keeps its own figures.

Used by the page's compare tab and by the 多模型同时询问 plugin."""

from __future__ import annotations

import logging
import queue
import threading
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

from .chat import ChatStream, chat
from .errors import REFUSALS, LLMError
from .model_spec import ModelSpec
from .redraw import REDRAW_SECONDS
from .request import CancelToken, ChatOptions, Status
from .text import Text

log = logging.getLogger("localscholar.lanes")


@dataclass
class Lane:
    model: str
    stream: ChatStream | None = None
    status: str = ""  # in the run's language; `progress` holds both
    error: str = ""  # in the run's language; `failure` holds both
    done: bool = False
    progress: Status | None = None
    failure: Text | None = None
    refused: bool = False  # refused before anything was asked (errors.REFUSALS), with nothing answered

    @property
    def text(self) -> str:
        return self.stream.text if self.stream else ""

    def status_in(self, lang: str) -> str:
        return self.progress.text(lang) if self.progress else self.status

    def markdown(self, lang: str) -> str:
        """The answer so far, the error after it, or the status while nothing has come yet."""
        body = self.text
        if self.error:
            error = self.failure.text(lang) if self.failure else self.error
            body = (body + "\n\n" if body else "") + f"⚠ {error}"
        elif not self.done and not body:
            body = f"*{self.status_in(lang) or '…'}*"
        return body


def internal_error(exc: BaseException, lang: str) -> str:
    """One line for a failure that is not a backend's typed error; the traceback goes to the server log only."""
    return _internal_error(exc).text(lang)


def _internal_error(exc: BaseException) -> Text:
    log.exception("unexpected error while answering")
    return Text(
        zh=f"内部错误（{type(exc).__name__}），详情见服务器日志；请重试或换一个模型。",
        en=f"Internal error ({type(exc).__name__}); details are in the server log. Try again or pick another model.",
    )


def run_lanes(
    specs: Sequence[ModelSpec],
    prompt: str,
    history: Sequence[str],
    system: str,
    options: ChatOptions,
    cancel: CancelToken,
    config,
    lang: str,
) -> Iterator[list[Lane]]:
    """Yield the lanes every time any of them changes, until all are done (or the caller stops reading)."""
    lanes = [Lane(spec.base) for spec in specs]
    changed: queue.Queue[int] = queue.Queue()

    def work(lane: Lane, spec: ModelSpec) -> None:
        try:
            lane.stream = chat(spec, prompt, history, system, options, cancel, config)
            for event in lane.stream.events():
                if isinstance(event, Status):
                    lane.progress, lane.status = event, event.text(lang)
                changed.put(1)
        except LLMError as exc:
            lane.failure, lane.error = Text(zh=exc.text("zh"), en=exc.text("en")), exc.text(lang)
            lane.refused = isinstance(exc, REFUSALS) and not lane.text
        except Exception as exc:
            lane.failure = _internal_error(exc)
            lane.error = lane.failure.text(lang)
        finally:
            lane.done = True
            changed.put(1)

    for lane, spec in zip(lanes, specs, strict=True):
        threading.Thread(target=work, args=(lane, spec), daemon=True, name=f"lane-{spec.base}").start()
    try:
        while not all(lane.done for lane in lanes):
            changed.get()
            while not changed.empty():  # take every change that came in meanwhile, then draw once
                changed.get_nowait()
            yield lanes
            cancel.wait(REDRAW_SECONDS)
        yield lanes
    finally:
        if not all(lane.done for lane in lanes):
            cancel.cancel()

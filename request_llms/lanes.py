"""Several models answer one question at once; each lane streams on its own thread and keeps its own figures.

Used by the page's compare tab and by the 多模型同时询问 plugin."""

from __future__ import annotations

import logging
import queue
import threading
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

from .backends.base import CancelToken, ChatOptions, Status
from .chat import ChatStream, chat
from .errors import LLMError
from .model_spec import ModelSpec

log = logging.getLogger("localscholar.lanes")
_REFRESH = 0.05  # seconds between updates while lanes stream


@dataclass
class Lane:
    model: str
    stream: ChatStream | None = None
    status: str = ""
    error: str = ""
    done: bool = False

    @property
    def text(self) -> str:
        return self.stream.text if self.stream else ""

    def markdown(self, lang: str) -> str:
        """The answer so far, the error after it, or the status while nothing has come yet."""
        body = self.text
        if self.error:
            body = (body + "\n\n" if body else "") + f"⚠ {self.error}"
        elif not self.done and not body:
            body = f"*{self.status or '…'}*"
        return body


def internal_error(exc: BaseException, lang: str) -> str:
    """One line for a failure that is not a backend's typed error; the traceback goes to the server log only."""
    log.exception("unexpected error while answering")
    if lang == "zh":
        return f"内部错误（{type(exc).__name__}），详情见服务器日志；请重试或换一个模型。"
    return f"Internal error ({type(exc).__name__}); details are in the server log. Try again or pick another model."


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
                    lane.status = event.text(lang)
                changed.put(1)
        except LLMError as exc:
            lane.error = exc.text(lang)
        except Exception as exc:
            lane.error = internal_error(exc, lang)
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
            cancel.wait(_REFRESH)
        yield lanes
    finally:
        if not all(lane.done for lane in lanes):
            cancel.cancel()

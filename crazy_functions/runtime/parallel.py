"""Many requests to one model at once, as many as its server takes, with progress and Stop.

`ask_in_parallel` is a generator for plugins: `pieces = yield from ask_in_parallel(chatbot, history, ...)`.
It runs up to PARALLEL_REQUESTS of the model's server at a time (native models one at a time: their
worker answers in turn), redraws a progress line in the chat while it waits, and on Stop or failure
returns every piece with its state, so the plugin keeps what was finished. Retries happen once, in the
transport (request_llms/transport.py), never again here.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Generator, Sequence
from dataclasses import dataclass, replace

from request_llms.chat import chat
from request_llms.compat import options_from
from request_llms.errors import LLMError
from request_llms.limits import parallel_for
from request_llms.model_spec import parse_model
from toolbox import error_line, update_ui

REDRAW_EVERY = 0.1

WAITING, RUNNING, DONE, FAILED, STOPPED = "waiting", "running", "done", "failed", "stopped"


@dataclass
class Piece:
    """One request of a batch and what became of it."""

    prompt: str
    max_tokens: int | None = None  # longest answer for this piece; None: the user's setting
    history: tuple[str, ...] = ()  # earlier turns sent before the prompt (GPT Academic's flat list)
    answer: str = ""
    state: str = WAITING
    error: LLMError | Exception | None = None
    tries: int = 0
    prompt_tokens: int | None = None  # the server's count of the prompt as sent, where it reports one

    @property
    def done(self) -> bool:
        return self.state == DONE


def workers_for(model: str, config) -> int:
    """How many pieces go out at once: the server's PARALLEL_REQUESTS; one for a native model."""
    return parallel_for(parse_model(model), config) or 1


def progress_line(pieces: Sequence[Piece], workers: int, lang: str) -> str:
    counts = {state: sum(1 for p in pieces if p.state == state) for state in (WAITING, RUNNING, DONE, FAILED, STOPPED)}
    if lang == "zh":
        line = (
            f"共 {len(pieces)} 段（同时 {workers} 段）：完成 {counts[DONE]} · 进行中 {counts[RUNNING]} · 等待 {counts[WAITING]}"
        )
        extra = [f"失败 {counts[FAILED]}" if counts[FAILED] else "", f"已停止 {counts[STOPPED]}" if counts[STOPPED] else ""]
    else:
        line = (
            f"{len(pieces)} pieces ({workers} at a time): {counts[DONE]} done · {counts[RUNNING]} running · "
            f"{counts[WAITING]} waiting"
        )
        extra = [f"{counts[FAILED]} failed" if counts[FAILED] else "", f"{counts[STOPPED]} stopped" if counts[STOPPED] else ""]
    return " · ".join([line, *(e for e in extra if e)])


def _ask(piece: Piece, llm_kwargs: dict, system: str, chatbot, count: Callable[[str], int] | None) -> None:
    """One request; the transport has already retried what is worth retrying, so a failure here is final."""
    cancel = chatbot.cancel
    options = options_from(llm_kwargs)
    if options.think is None and chatbot.config["PLUGIN_THINKING"]:
        options = replace(options, think=chatbot.config["PLUGIN_THINKING"])  # thinking costs minutes per piece
    if piece.max_tokens:
        options = replace(options, max_tokens=min(piece.max_tokens, options.max_tokens or piece.max_tokens))
    if cancel.is_set():
        piece.state = STOPPED
        return
    piece.state, piece.tries, piece.error = RUNNING, piece.tries + 1, None
    stream = chat(llm_kwargs["llm_model"], piece.prompt, piece.history, system, options, cancel, chatbot.config, count=count)
    try:
        for _ in stream:
            piece.answer = stream.text
        piece.answer = stream.text
        piece.prompt_tokens = stream.usage.prompt_tokens if stream.usage else None
    except Exception as exc:  # a typed error, or a bug: reported with the piece, never retried here
        piece.error, piece.answer = exc, ""
    if cancel.is_set():
        piece.state = STOPPED
    else:
        piece.state = FAILED if piece.error else DONE


def ask_in_parallel(
    chatbot,
    history: list,
    pieces: Sequence[Piece],
    llm_kwargs: dict,
    system: str = "",
    *,
    count: Callable[[str], int] | None = None,
    heading: str = "",
) -> Generator[tuple, None, list[Piece]]:
    """Ask every piece, at most the server's limit at a time, showing progress in chatbot[-1]; returns the pieces.

    `count` is the model's own token counter (tokens.counter_for), so the request is measured as the
    pieces were cut. Finished pieces keep their answers whatever happens to the others.
    """
    chatbot.allowed(llm_kwargs["llm_model"])  # the page's check: a model typed by the user is refused here too
    pieces = list(pieces)
    chatbot.requests.extend(pieces)
    workers = min(workers_for(llm_kwargs["llm_model"], chatbot.config), max(1, len(pieces)))
    if not chatbot:
        chatbot.append(["", ""])
    lock = threading.Lock()
    order = iter(pieces)

    def worker() -> None:
        while not chatbot.cancel.is_set():
            with lock:
                piece = next(order, None)
            if piece is None:
                return
            _ask(piece, llm_kwargs, system, chatbot, count)

    threads = [threading.Thread(target=worker, daemon=True, name=f"plugin-piece-{i}") for i in range(workers)]
    for thread in threads:
        thread.start()
    while True:
        running = any(thread.is_alive() for thread in threads)
        line = progress_line(pieces, workers, chatbot.lang)
        chatbot[-1] = [chatbot[-1][0], f"{heading}\n\n{line}".strip()]
        yield from update_ui(chatbot, history, msg=line)
        if not running:
            break
        time.sleep(REDRAW_EVERY)
    for piece in pieces:
        if piece.state == WAITING:
            piece.state = STOPPED
    return pieces


def failures(pieces: Sequence[Piece], lang: str) -> str:
    """One line per failed piece, for the plugin's closing message; empty when none failed."""
    lines = [f"- {i + 1}: {error_line(p.error, lang)}" for i, p in enumerate(pieces) if p.state == FAILED and p.error]
    return "\n".join(lines)

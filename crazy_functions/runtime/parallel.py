"""Many requests to one model at once, as many as its server takes, with progress and Stop.

`ask_in_parallel` is a generator for plugins: `pieces = yield from ask_in_parallel(chatbot, history, ...)`.
It runs up to PARALLEL_REQUESTS of the model's server at a time (native models one at a time: their
worker answers in turn), redraws a progress line in the chat while it waits, and on Stop or failure
returns every piece with its state, so the plugin keeps what was finished. Retries happen once, in the
model layer (the transport, or another server of a pool, where a piece cut mid-answer is asked again),
never again here. The one exception is a piece marked `clip`
(GPT Academic's handle_token_exceed): a prompt too long for the window is cut to fit and asked again,
and `clipped` says by how many tokens.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Generator, Sequence
from dataclasses import dataclass, replace

from request_llms.chat import chat
from request_llms.compat import options_from
from request_llms.errors import ContextTooLong, LLMError
from request_llms.messages import estimate_tokens
from request_llms.model_spec import parse_model
from request_llms.runtime import runtime_of
from toolbox import error_line, update_ui

REDRAW_EVERY = 0.1
CLIP_TRIES = 3  # a clipped prompt is measured again; the server's own count may differ from ours

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
    model: str | None = None  # the model to ask, where not the run's (GPT Academic's "a&b" asks each)
    system: str | None = None  # the system prompt, where not the run's
    clip: bool = False  # cut a prompt that does not fit the window, and ask again
    clipped: int = 0  # tokens (about) cut from the prompt to make it fit

    @property
    def done(self) -> bool:
        return self.state == DONE


def workers_for(model: str, config) -> int:
    """How many pieces go out at once: what the model's servers take (PARALLEL_REQUESTS, capped by the slots each
    says it has, read first where not known yet); one for a native model."""
    runtime, spec = runtime_of(config), parse_model(model)
    runtime.learn(spec)
    return runtime.capacity(spec) or 1


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
    model = piece.model or llm_kwargs["llm_model"]
    for attempt in range(CLIP_TRIES + 1):
        stream = chat(model, piece.prompt, piece.history, system if piece.system is None else piece.system, options,
                      cancel, chatbot.config, count=count, affinity=f"run-{id(chatbot)}", restartable=True)  # fmt: skip
        try:
            for _ in stream:
                piece.answer = stream.text
            piece.answer = stream.text
            piece.prompt_tokens = stream.usage.prompt_tokens if stream.usage else None
        except ContextTooLong as exc:
            if piece.clip and not stream.text and attempt < CLIP_TRIES and _clip(piece, exc, count):
                continue
            piece.error, piece.answer = exc, ""
        except Exception as exc:  # a typed error, or a bug: reported with the piece, never retried here
            piece.error, piece.answer = exc, ""
        break
    if cancel.is_set():
        piece.state = STOPPED
    else:
        piece.state = FAILED if piece.error else DONE


def _clip(piece: Piece, exc: ContextTooLong, count: Callable[[str], int] | None) -> bool:
    """Cut the end of the prompt so it fits what the error says; False when nothing is left to cut."""
    tokens = (count or estimate_tokens)(piece.prompt)
    if exc.tokens and exc.limit:
        keep = tokens - (exc.tokens - exc.limit) - 16  # what it was over, and a little for the seam
    else:  # the server refused without numbers: halve it
        keep = tokens // 2
    if keep < 16 or not piece.prompt:
        return False
    cut = int(len(piece.prompt) * keep / tokens)
    piece.clipped += tokens - keep
    piece.prompt = piece.prompt[:cut]
    return True


def ask_in_parallel(
    chatbot,
    history: list,
    pieces: Sequence[Piece],
    llm_kwargs: dict,
    system: str = "",
    *,
    count: Callable[[str], int] | None = None,
    heading: str = "",
    most: int | None = None,
    render: Callable[[list[Piece]], str] | None = None,
) -> Generator[tuple, None, list[Piece]]:
    """Ask every piece, at most the server's limit at a time, showing progress in chatbot[-1]; returns the pieces.

    `count` is the model's own token counter (tokens.counter_for), so the request is measured as the
    pieces were cut. Finished pieces keep their answers whatever happens to the others. `most` lowers
    the number at a time further; `render` draws the chat entry instead of the progress line.
    """
    pieces = list(pieces)
    models = list(dict.fromkeys(piece.model or llm_kwargs["llm_model"] for piece in pieces)) or [llm_kwargs["llm_model"]]
    for model in models:
        chatbot.allowed(model)  # the page's check: a model typed by the user is refused here too
    chatbot.requests.extend(pieces)
    workers = min(sum(workers_for(model, chatbot.config) for model in models), max(1, len(pieces)), most or len(pieces) or 1)
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
        shown = render(pieces) if render else line
        chatbot[-1] = [chatbot[-1][0], f"{heading}\n\n{shown}".strip()]
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

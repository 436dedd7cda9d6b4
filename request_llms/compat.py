"""GPT Academic's bridge entry points, as a thin layer over `chat()`, so its plugins run here unchanged.

- `predict_no_ui_long_connection(inputs, llm_kwargs, history, sys_prompt, observe_window)`: the whole
  answer as text. `observe_window[0]` receives the text so far, `observe_window[1]` is a watchdog time
  the caller keeps fresh (the request is stopped when it is older than WATCHDOG_SECONDS), and
  `observe_window[2]`, where present, a status line (loading, waiting in a queue).
- `predict(inputs, llm_kwargs, plugin_kwargs, chatbot, history, system_prompt)`: a generator that
  streams the answer into `chatbot` (a list of [question, answer] pairs) and yields after each piece.

`llm_kwargs` holds `llm_model`, and optionally `temperature`, `top_p` and `max_length` (longest answer).
`llm_model` may join several models with `&` (GPT Academic's multi-model query): each is asked, and the
answers come back together, each under its model's name.

Once the page or the API serves the configuration (runtime.open_to_users), a model reached through these
entry points (a plugin that takes a model name from its input box) must be one the page offers.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterator, Sequence

from .chat import chat
from .config_loader import get_config
from .errors import LLMError
from .model_spec import split_models
from .redraw import REDRAW_SECONDS
from .request import CancelToken, ChatOptions, Status
from .runtime import runtime_of
from .thinking import folded

log = logging.getLogger("localscholar.compat")
WATCHDOG_SECONDS = 5.0  # as GPT Academic: a caller that stops refreshing observe_window[1] has gone away


class UserCancelled(LLMError, RuntimeError):
    """The caller stopped watching (its watchdog expired) or pressed stop; the partial text is kept."""


def check_model(model: str) -> None:
    """Raise as the page would for a model it does not offer, where the page or the API serves these settings."""
    runtime_of(get_config()).check(model)


def joined_answers(answers: Sequence[tuple[str, str]]) -> str:
    """Several models' answers as one text, each under its model's name (GPT Academic's multi-model reply)."""
    if len(answers) == 1:
        return answers[0][1]
    return "\n\n---\n\n".join(f"**{model}**\n\n{answer}" for model, answer in answers)


def options_from(llm_kwargs: dict) -> ChatOptions:
    temperature, top_p, longest = (llm_kwargs.get(key) for key in ("temperature", "top_p", "max_length"))
    think = llm_kwargs.get("think")
    return ChatOptions(
        temperature=None if temperature is None else float(temperature),
        top_p=None if top_p is None else float(top_p),
        max_tokens=int(longest) if longest else None,
        think=str(think).lower() if think not in (None, "") else None,
    )


def _history(history: Sequence) -> list[str]:
    """GPT Academic keeps history as a flat list [q1, a1, q2, a2, ...]; an odd last item is dropped."""
    flat = [str(item) for item in history]
    return flat[: len(flat) // 2 * 2]


def predict_no_ui_long_connection(
    inputs: str,
    llm_kwargs: dict,
    history: Sequence = (),
    sys_prompt: str = "",
    observe_window: list | None = None,
    console_slience: bool = False,  # GPT Academic's older spelling; accepted and unused
    console_silence: bool = False,  # and its newer one
    cancel: CancelToken | None = None,
) -> str:
    """Ask and return the whole answer; raises the backend's typed error (with the partial text kept)."""
    check_model(llm_kwargs["llm_model"])
    models = split_models(llm_kwargs["llm_model"])
    if len(models) > 1:
        return _ask_each(models, inputs, llm_kwargs, history, sys_prompt, observe_window, cancel or CancelToken())
    cancel = cancel or CancelToken()
    stream = chat(
        llm_kwargs["llm_model"], inputs, _history(history), sys_prompt, options_from(llm_kwargs), cancel, restartable=True
    )
    window = observe_window if observe_window is not None else []
    if len(window) >= 1:
        window[0] = ""
    for event in stream.events():
        if isinstance(event, Status):
            if len(window) >= 3:
                window[2] = event.text("zh")
            if len(window) >= 1:  # empty again when another server of a pool starts the answer afresh
                window[0] = stream.text
        elif len(window) >= 1:  # the answer only: thinking never reaches the caller
            window[0] = stream.text
        if len(window) >= 2 and window[1] and time.time() - window[1] > WATCHDOG_SECONDS:
            cancel.cancel()
            stream.close()
            raise UserCancelled(
                en="Stopped: the caller stopped watching this request.", zh="已停止：调用方不再等待此请求。", partial=stream.text
            )
    if cancel.is_set():
        raise UserCancelled(en="Stopped by the user.", zh="用户已停止。", partial=stream.text)
    return stream.text


def _ask_each(models, inputs, llm_kwargs, history, sys_prompt, observe_window, cancel) -> str:
    """Ask several models at once; the window shows their answers so far; a failed model says why in its place."""
    windows = [["", *(observe_window or [])[1:2]] for _ in models]
    answers: list[str] = ["" for _ in models]

    def ask(i: int, model: str) -> None:
        try:
            answers[i] = predict_no_ui_long_connection(inputs, {**llm_kwargs, "llm_model": model}, history, sys_prompt,
                                                       windows[i], cancel=cancel)  # fmt: skip
        except LLMError as exc:
            answers[i] = (exc.partial + "\n\n" if exc.partial else "") + f"⚠ {exc.zh}"
        except Exception as exc:  # a bug: said in its place, never a silent empty answer
            log.exception("asking %s failed", model)
            answers[i] = f"⚠ {type(exc).__name__}: {exc}"

    threads = [threading.Thread(target=ask, args=(i, model), daemon=True) for i, model in enumerate(models)]
    for thread in threads:
        thread.start()
    while any(thread.is_alive() for thread in threads):
        if observe_window is not None and len(observe_window) >= 1:
            observe_window[0] = joined_answers(list(zip(models, [w[0] for w in windows], strict=True)))
        if observe_window is not None and len(observe_window) >= 2:
            for window in windows:
                window[1] = observe_window[1]  # the caller's watchdog reaches every model
        time.sleep(REDRAW_SECONDS)
    if cancel.is_set():
        raise UserCancelled(
            en="Stopped by the user.", zh="用户已停止。", partial=joined_answers(list(zip(models, answers, strict=True)))
        )
    return joined_answers(list(zip(models, answers, strict=True)))


def predict(
    inputs: str,
    llm_kwargs: dict,
    plugin_kwargs: dict | None = None,
    chatbot: list | None = None,
    history: list | None = None,
    system_prompt: str = "",
    stream: bool = True,
    additional_fn: str | None = None,
    cancel: CancelToken | None = None,
) -> Iterator[tuple[list, list, str]]:
    """Stream the answer into the chat as GPT Academic's `predict` does: yields (chatbot, history, status)."""
    chatbot = chatbot if chatbot is not None else []
    history = history if history is not None else []
    chatbot.append([inputs, ""])
    status = ""
    try:
        cancel = cancel or getattr(chatbot, "cancel", None) or CancelToken()
        if hasattr(chatbot, "allowed"):  # a plugin run from the page: only the models the page offers
            chatbot.allowed(llm_kwargs["llm_model"])
        check_model(llm_kwargs["llm_model"])
        answer = chat(llm_kwargs["llm_model"], inputs, _history(history), system_prompt, options_from(llm_kwargs), cancel)
        for event in answer.events():
            if isinstance(event, Status):
                status = event.text("zh")
            else:
                chatbot[-1] = [inputs, folded(answer.thinking, answer.text, "zh", answer.thinking_seconds)]
            yield chatbot, history, status
    except LLMError as exc:
        chatbot[-1] = [inputs, (exc.partial + "\n\n" if exc.partial else "") + f"⚠ {exc.zh}"]
        history.extend([inputs, exc.partial])
        yield chatbot, history, exc.zh
        return
    history.extend([inputs, answer.text])
    yield chatbot, history, "正常"

"""GPT Academic's request helpers for plugins, over the plugins' parallel runner (runtime.parallel).

Plugins written for GPT Academic call these by name; here they respect the server's parallel limit,
leave retries to the transport (one policy for every caller) and stop with the page's Stop button like every other plugin.
"""

from __future__ import annotations

from collections.abc import Generator, Sequence

from .runtime.parallel import Piece, ask_in_parallel


def request_gpt_model_in_new_thread_with_ui_alive(
    inputs: str,
    inputs_show_user: str,
    llm_kwargs: dict,
    chatbot,
    history: Sequence,
    sys_prompt: str,
    refresh_interval: float = 0.2,
    handle_token_exceed: bool = True,
    retry_times_at_unknown_error: int = 2,
) -> Generator[tuple, None, str]:
    """Ask once, showing progress in a new chat entry; returns the answer (what arrived, if stopped)."""
    chatbot.append([inputs_show_user, ""])
    piece = Piece(inputs, history=tuple(str(item) for item in history))
    yield from ask_in_parallel(chatbot, [], [piece], llm_kwargs, sys_prompt)
    chatbot[-1] = [inputs_show_user, piece.answer]
    return piece.answer


def request_gpt_model_multi_threads_with_very_awesome_ui_and_high_efficiency(
    inputs_array: Sequence[str],
    inputs_show_user_array: Sequence[str],
    llm_kwargs: dict,
    chatbot,
    history_array: Sequence[Sequence],
    sys_prompt_array: Sequence[str],
    refresh_interval: float = 0.2,
    max_workers: int = -1,
    scroller_max_len: int = 30,
    handle_token_exceed: bool = True,
    show_user_at_complete: bool = False,
    retry_times_at_unknown_error: int = 2,
) -> Generator[tuple, None, list[str]]:
    """Ask many at once; returns [shown 1, answer 1, shown 2, answer 2, ...] as GPT Academic does.

    All requests share the first system prompt (GPT Academic's plugins pass the same one for each).
    """
    pieces = [
        Piece(text, history=tuple(str(item) for item in history))
        for text, history in zip(inputs_array, history_array, strict=True)
    ]
    chatbot.append(["", ""])
    yield from ask_in_parallel(chatbot, [], pieces, llm_kwargs, sys_prompt_array[0] if sys_prompt_array else "")
    collection: list[str] = []
    for shown, piece in zip(inputs_show_user_array, pieces, strict=True):
        collection += [shown, piece.answer]
        if show_user_at_complete:
            chatbot.append([shown, piece.answer])
    return collection

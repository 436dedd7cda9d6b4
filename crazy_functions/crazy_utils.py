"""GPT Academic's plugin helpers (`crazy_functions.crazy_utils`), over LocalScholar's parallel runner.

Plugins written for GPT Academic call these by name. Here the requests respect each server's parallel
limit and the page's Stop, retries are the transport's alone (one policy for every caller, so
`retry_times_at_unknown_error` is accepted and not used), `llm_model` may join several models with `&`,
and with `handle_token_exceed` a prompt too long for the model's window is cut to fit, with a notice at
the top of the answer. A request that fails never comes back as an empty answer: its answer says why.
"""

from __future__ import annotations

import os
from collections.abc import Generator, Sequence
from pathlib import Path

from request_llms.compat import joined_answers
from request_llms.messages import estimate_tokens
from request_llms.model_spec import split_models
from request_llms.text import Text
from toolbox import Singleton, error_line, update_ui

from .runtime.parallel import FAILED, STOPPED, Piece, ask_in_parallel, failures
from .runtime.session import say

_CLIPPED = Text(
    zh="⚠ 输入超出模型的上下文窗口，已截去约 {n} 个 token 后提问。",
    en="⚠ The input did not fit the model's context window; about {n} tokens were cut before asking.",
)
_STOPPED = Text(zh="（已停止）", en="(stopped)")


def input_clipping(inputs: str, history: Sequence[str], max_token_limit: int, return_clip_flags: bool = False):
    """Cut `inputs` and `history` until together they fit `max_token_limit` tokens, the longest text first.

    When the input is under half the limit only the history is cut. Returns (inputs, history), and the
    flags GPT Academic gives (mode, token counts, lengths) with `return_clip_flags`.
    """
    history = [str(item) for item in history]
    input_tokens = estimate_tokens(inputs)
    only_history = input_tokens < max_token_limit // 2
    limit = max_token_limit - input_tokens if only_history else max_token_limit
    texts = ([""] if only_history else [inputs]) + history
    sizes = [estimate_tokens(text) for text in texts]
    full = sum(sizes) + (input_tokens if only_history else 0)
    step = max(1, max(sizes, default=0) // 16)
    while sum(sizes) + len(texts) - 1 > limit and max(sizes) > 0:
        longest = sizes.index(max(sizes))
        text = texts[longest]
        texts[longest] = text[: max(0, int(len(text) * (sizes[longest] - step) / sizes[longest]))]
        sizes[longest] = estimate_tokens(texts[longest])
    clipped_inputs = inputs if only_history else texts[0]
    flags = {
        "mode": "only-history" if only_history else "input-and-history",
        "original_input_token_num": input_tokens,
        "original_full_token_num": full,
        "original_input_len": len(inputs),
        "clipped_input_len": len(clipped_inputs),
    }
    if return_clip_flags:
        return clipped_inputs, texts[1:], flags
    return clipped_inputs, texts[1:]


def _answer(piece: Piece, lang: str) -> str:
    """What GPT Academic's helpers return for one request: the answer, with a notice if clipped, or why it failed."""
    parts = [_CLIPPED.text(lang).format(n=piece.clipped)] if piece.clipped else []
    if piece.state == FAILED and piece.error is not None:
        partial = getattr(piece.error, "partial", "")
        parts += [partial, f"⚠ {error_line(piece.error, lang)}"]
    else:
        parts.append(piece.answer + (f" {_STOPPED.text(lang)}" if piece.state == STOPPED else ""))
    return "\n\n".join(part for part in parts if part)


def _pieces(inputs: str, history: Sequence, system: str, llm_model: str, clip: bool) -> list[Piece]:
    """One request per model of `llm_model` (several when joined with `&`)."""
    models = split_models(llm_model)
    return [
        Piece(
            inputs,
            history=tuple(str(item) for item in history),
            model=model if len(models) > 1 else None,
            system=system,
            clip=clip,
        )  # fmt: skip
        for model in models
    ]


def _joined(pieces: list[Piece], lang: str) -> str:
    answers = [(piece.model or "", _answer(piece, lang)) for piece in pieces]
    return joined_answers(answers)


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
    """Ask once, streaming the answer into a new chat entry; returns the answer (what arrived, if stopped)."""
    chatbot.append([inputs_show_user, ""])
    pieces = _pieces(inputs, history, sys_prompt, llm_kwargs["llm_model"], handle_token_exceed)
    yield from ask_in_parallel(chatbot, [], pieces, llm_kwargs, render=lambda ps: _joined(ps, chatbot.lang))
    answer = _joined(pieces, chatbot.lang)
    chatbot[-1] = [inputs_show_user, answer]
    yield from update_ui(chatbot, [])
    return answer


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

    As many go at once as the model's server takes (and `max_workers`, where the plugin sets one).
    """
    if not (len(inputs_array) == len(inputs_show_user_array) == len(history_array) == len(sys_prompt_array)):
        raise ValueError("inputs_array, inputs_show_user_array, history_array and sys_prompt_array differ in length")
    groups = [
        _pieces(text, history, system, llm_kwargs["llm_model"], handle_token_exceed)
        for text, history, system in zip(inputs_array, history_array, sys_prompt_array, strict=True)
    ]
    chatbot.append(["", ""])
    pieces = [piece for group in groups for piece in group]
    yield from ask_in_parallel(chatbot, [], pieces, llm_kwargs, most=max_workers if max_workers > 0 else None)
    failed = failures(pieces, chatbot.lang)
    if failed:
        chatbot[-1] = [chatbot[-1][0], f"{chatbot[-1][1]}\n\n{failed}"]
    collection: list[str] = []
    for shown, group in zip(inputs_show_user_array, groups, strict=True):
        answer = _joined(group, chatbot.lang)
        collection += [shown, answer]
        if show_user_at_complete:
            chatbot.append([shown, answer])
    yield from update_ui(chatbot, [])
    return collection


def can_multi_process(llm: str) -> bool:
    from request_llms.bridge_all import model_info

    return llm in model_info and model_info[llm]["can_multi_thread"]


def get_files_from_everything(txt: str, type: str):  # noqa: A002 (GPT Academic's argument name)
    """(success, files of `type`, their folder) for a file or folder path. Web addresses are not fetched."""
    if txt.startswith(("http://", "https://")):
        raise ConnectionRefusedError(
            say(
                zh=f"无法下载资源{txt}：LocalScholar 不替页面下载网址，请下载后上传。",
                en=f"{txt} is not fetched: LocalScholar does not download addresses for the page; download it and upload the file.",
            )
        )
    if txt.endswith(type) and os.path.isfile(txt):
        return True, [txt], os.path.dirname(txt)
    if os.path.isdir(txt):
        files = sorted(str(path) for path in Path(txt).rglob(f"*{type}") if path.is_file())
        return bool(files), files, txt
    return False, [], None


def read_and_clean_pdf_text(fp: str):
    """(the whole text, paragraphs separated by blank lines; the first page's paragraphs)."""
    import fitz

    from .documents.pdf_text import read_pdf

    text = read_pdf(Path(fp))
    with fitz.open(fp) as document:
        blocks = document[0].get_text("blocks") if document.page_count else []
    first = [" ".join(block[4].split()) for block in blocks if block[6] == 0 and block[4].strip()]
    return text, first


def get_plugin_arg(plugin_kwargs: dict, key: str, default):
    """A plugin argument, `default` when absent or empty."""
    if plugin_kwargs.get(key) == "":
        plugin_kwargs.pop(key)
    return plugin_kwargs.get(key, default)


def try_install_deps(deps, reload_m=()):
    """Packages are not installed from a page: the message says what the server's owner should install."""
    names = " ".join(deps)
    raise ModuleNotFoundError(
        say(
            zh=f"插件需要的 Python 包未安装：请在服务器上运行 pip install {names} 后重启。",
            en=f"The plugin needs packages that are not installed: run pip install {names} on the server and restart.",
        )
    )


@Singleton
class nougat_interface:  # noqa: N801 (GPT Academic's name)
    """GPT Academic's NOUGAT PDF reader: it downloads its model from the internet, which LocalScholar does not do."""

    def NOUGAT_parse_pdf(self, fp, chatbot, history):  # noqa: N802
        raise RuntimeError(
            say(
                zh="Nougat解析论文失败：NOUGAT 需要联网下载模型，LocalScholar 未提供。请改用「PDF 翻译」插件。",
                en="NOUGAT needs to download its model from the internet, which LocalScholar does not do: use the PDF translation plugin.",
            )
        )
        yield  # a generator, as GPT Academic's

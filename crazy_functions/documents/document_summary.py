"""Summarising uploaded documents (PDF papers, Word files): the shared body of those plugins.

Each file: its text, notes on each piece in parallel, one synthesis; a Markdown file with the
synthesis and the notes, each note titled by the sections of its piece. A run that was stopped or lost
a piece still writes the notes it has.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Generator
from pathlib import Path

from toolbox import update_ui

from ..runtime.parallel import DONE, failures
from .paper_prompts import paper_prompts
from .summarise import Summary, summarise
from .tidy import close_fences


def _report(summary: Summary, title: str, model: str, lang: str) -> str:
    zh = lang == "zh"
    notes = [p for p in summary.pieces if p.state == DONE]
    lines = [f"# {'总结' if zh else 'Summary'}: {title}", ""]
    lines.append(f"*{model} · {time.strftime('%Y-%m-%d %H:%M')}*")
    lines.append("")
    if summary.complete:
        lines += [summary.synthesis, ""]
    else:
        done, total = len(notes), len(summary.pieces)
        lines.append(
            f"> 未完成：已完成 {done}/{total} 段的笔记，没有综合总结。"
            if zh
            else f"> Not finished: notes on {done} of {total} pieces, no synthesis."
        )
        lines.append("")
    lines += [f"## {'各部分笔记' if zh else 'Notes on each part'}", ""]
    for i, piece in enumerate(summary.pieces):
        if piece.state == DONE:
            lines += [f"### {summary.note_title(i, lang)}", "", close_fences(piece.answer.strip()), ""]
    return "\n".join(lines)


def summarise_documents(
    chatbot,
    history: list,
    llm_kwargs: dict,
    system: str,
    files: list[Path],
    read: Callable[[Path], str],
) -> Generator[tuple, None, None]:
    say = chatbot.say
    for path in files:
        chatbot.append([say(zh=f"总结 {path.name}", en=f"Summarise {path.name}"), say(zh="正在读取…", en="Reading…")])
        yield from update_ui(chatbot, history)
        text = read(path)
        summary = yield from summarise(chatbot, history, llm_kwargs, text, path.stem, paper_prompts(chatbot.lang), system)
        saved = chatbot.write_output(
            f"{path.stem}-summary.md", _report(summary, path.stem, llm_kwargs["llm_model"], chatbot.lang)
        )
        if summary.complete:
            answer = summary.synthesis
        else:
            done = sum(p.state == DONE for p in summary.pieces)
            why = say(zh="已停止", en="Stopped") if chatbot.stopped else say(zh="部分片段失败", en="Some pieces failed")
            answer = say(
                zh=f"{why}：已完成 {done}/{len(summary.pieces)} 段的笔记，已写入文件（没有综合总结）。",
                en=f"{why}: notes on {done} of {len(summary.pieces)} pieces were written to the file (no synthesis).",
            )
            answer += "\n\n" + failures(summary.requests, chatbot.lang)
        chatbot[-1] = [chatbot[-1][0], f"{answer.strip()}\n\n📄 {saved.name}"]
        history.extend([chatbot[-1][0], answer])
        yield from update_ui(chatbot, history)
        if chatbot.stopped:
            return

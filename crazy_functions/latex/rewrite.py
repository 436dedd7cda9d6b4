"""Rewriting a LaTeX project piece by piece: the body of the LaTeX polishing, proofreading and translating plugins.

Each file main reaches is protected (latex_project.protect), cut to the model's window, and its prose
rewritten in parallel. An answer that breaks the markup is not used: that piece keeps its original text
and the chat names it. On Stop or a failed piece the files still hold every finished piece. A Task says
what the rewriting is (its prompt and the words the chat uses for it); `run_rewrite` is a whole plugin,
and latex.rewritings holds the plugins that are nothing more.
"""

from __future__ import annotations

from collections.abc import Generator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from toolbox import update_ui

from ..runtime.parallel import DONE, FAILED, Piece, ask_in_parallel, failures
from ..runtime.pieces import Sizer, sizer_for
from .html_diff import diff_page
from .latex_project import Masked, Part, Project, checked_answer, load_project, parts_of, protect, working_folder

ANSWER_TOKENS = 64  # besides the answer_ratio * piece a rewrite needs


@dataclass(frozen=True)
class Task:
    """One way of rewriting a project: the prompt and the words the chat and the outputs use for it."""

    name_zh: str
    name_en: str
    suffix: str  # in the outputs' names, e.g. "polished"
    verb_zh: str  # 润色
    doing_en: str  # polishing
    system: str
    template: str  # the instruction; {text} is where the piece goes
    answer_ratio: float = 1.3

    def prompt(self, text: str) -> str:
        return self.template.replace("{text}", text)


@dataclass
class FileWork:
    rel: Path
    original: str
    masked: Masked
    parts: list[Part]
    pieces: list[Piece | None]  # one per part; None where the part has no prose and was not sent
    result: str = ""


@dataclass
class Outcome:
    files: list[FileWork]
    sizer: Sizer
    kept: list[tuple[Path, int, str]] = field(default_factory=list)  # file, piece number, why its answer was not used

    @property
    def pieces(self) -> list[Piece]:
        return [piece for work in self.files for piece in work.pieces if piece is not None]


def rules(lang: str) -> str:
    """What every rewriting prompt says about the markers, in the prompt's language."""
    if lang == "zh":
        return (
            "形如 ⟦1⟧ 的标记代表公式、引用、交叉引用和 LaTeX 命令：每个标记原样保留、只出现一次，放在它所属的位置。"
            "保留所有花括号 { }。不要写反斜杠、美元符号或任何新的 LaTeX 命令。"
        )
    return (
        "Markers such as ⟦1⟧ stand for formulas, citations, references and LaTeX commands: copy every marker "
        "exactly once, unchanged, where it belongs. Keep every curly brace { }. Write no backslashes, no dollar "
        "signs and no new LaTeX commands."
    )


def _cut_off(piece: Piece, sizer: Sizer) -> bool:
    """Whether the answer stopped at its token limit (only the model's own tokenizer can tell)."""
    if not (sizer.counter.exact and piece.max_tokens):
        return False
    try:
        return sizer.counter(piece.answer) >= piece.max_tokens - 2
    except Exception:  # the server went away after answering: the answer's other checks still apply
        return False


def plural(n: int, word: str) -> str:
    return f"{n} {word}{'' if n == 1 else 's'}"


def rewrite(chatbot, history: list, llm_kwargs: dict, project: Project, task: Task) -> Generator[tuple, None, Outcome]:
    """Rewrite the prose of every file in `project.order`; each FileWork.result holds the new text."""
    sizer = sizer_for(llm_kwargs, chatbot.config, task.system + task.prompt(""), ANSWER_TOKENS, task.answer_ratio)
    files = []
    for rel in project.order:
        original = project.read(rel)
        masked = protect(original)
        parts = parts_of(masked.body, sizer.split)
        pieces = [Piece(task.prompt(part.core), max_tokens=sizer.answer_tokens) if part.core else None for part in parts]
        files.append(FileWork(rel, original, masked, parts, pieces, original))
    outcome = Outcome(files, sizer)
    if not outcome.pieces:
        return outcome
    heading = chatbot.say(
        zh=f"**{project.name}**：正在{task.verb_zh} {len(files)} 个文件（{len(outcome.pieces)} 段）",
        en=f"**{project.name}**: {task.doing_en} {plural(len(files), 'file')} ({plural(len(outcome.pieces), 'piece')})",
    )
    yield from ask_in_parallel(
        chatbot, history, outcome.pieces, llm_kwargs, task.system, count=sizer.counter.count, heading=heading
    )
    for work in files:
        bodies, number = [], 0
        for part, piece in zip(work.parts, work.pieces, strict=True):
            answer = None
            if piece is not None:
                number += 1
                if piece.state == DONE:
                    answer, why = (None, "cut") if _cut_off(piece, sizer) else checked_answer(part.core, piece.answer)
                    if answer is None:
                        outcome.kept.append((work.rel, number, why))
            bodies.append(part.masked(answer))
        work.result = work.masked.restore("".join(bodies))
    return outcome


def _names(paths) -> str:
    return ", ".join(str(path) for path in paths)


def report(chatbot, project: Project, outcome: Outcome, task: Task, outputs: list[Path], notes: Sequence[str] = ()) -> str:
    """The closing message: what was done, what was kept unchanged and why, `notes`, and the files to download."""
    say, pieces = chatbot.say, outcome.pieces
    total, done = len(pieces), sum(piece.state == DONE for piece in pieces)
    failed = sum(piece.state == FAILED for piece in pieces)
    lines = []
    if chatbot.stopped:
        lines.append(
            say(
                zh=f"已停止：{total} 段中完成 {done} 段；文件里只有这些段落经过{task.verb_zh}，其余保持原文。",
                en=f"Stopped: {done} of {total} pieces finished; the files hold those, the rest is the original text.",
            )
        )
    elif failed:
        lines.append(
            say(
                zh=f"{total} 段中有 {failed} 段失败；文件里只有完成的段落经过{task.verb_zh}，其余保持原文。",
                en=f"{failed} of {total} pieces failed; the files hold the finished pieces, the rest is the original text.",
            )
        )
        lines.append(failures(pieces, chatbot.lang))
    else:
        lines.append(
            say(
                zh=f"完成：{len(outcome.files)} 个文件，共 {total} 段。",
                en=f"Done: {plural(total, 'piece')} in {plural(len(outcome.files), 'file')}.",
            )
        )
    if outcome.kept:
        by_file: dict[Path, list[str]] = {}
        for rel, number, _ in outcome.kept:
            by_file.setdefault(rel, []).append(str(number))
        where_zh = "；".join(f"{rel.as_posix()} 第 {'、'.join(numbers)} 段" for rel, numbers in by_file.items())
        where_en = "; ".join(f"{rel.as_posix()} piece{'s' if len(n) > 1 else ''} {', '.join(n)}" for rel, n in by_file.items())
        lines.append(
            say(
                zh=f"以下段落保持原文（回答丢失或改动了受保护的 LaTeX 标记，或被截断）：{where_zh}。",
                en=f"Kept unchanged (the answer lost or altered protected LaTeX, or was cut off): {where_en}.",
            )
        )
    if project.skipped:
        main = project.main.as_posix() if project.main else ""
        skipped = _names(rel.as_posix() for rel in project.skipped)
        lines.append(
            say(zh=f"未被 {main} 引用、保持不变：{skipped}。", en=f"Not included from {main}, left unchanged: {skipped}.")
        )
    lines += notes
    lines.append(say(zh="下载：", en="Download: ") + _names(path.name for path in outputs))
    return "\n\n".join(line for line in lines if line)


def start(chatbot, history: list, task: Task):
    """The plugin's first line in the chat."""
    chatbot.append(
        [chatbot.say(zh=task.name_zh, en=task.name_en), chatbot.say(zh="正在读取 LaTeX 项目……", en="Reading the LaTeX project…")]
    )
    yield from update_ui(chatbot, history)


def finish(chatbot, history: list, text: str):
    """Replace the plugin's line in the chat with its closing message."""
    chatbot[-1] = [chatbot[-1][0], text]
    yield from update_ui(chatbot, history)


def nothing_to_rewrite(chatbot, project: Project, task: Task) -> str:
    return chatbot.say(
        zh=f"{project.name} 的 .tex 文件里没有可{task.verb_zh}的正文（只有 LaTeX 标记）。",
        en=f"The .tex files of {project.name} hold no prose to rewrite (markup only).",
    )


def save_results(project: Project, outcome: Outcome) -> None:
    for work in outcome.files:
        if work.result != work.original:
            project.write(work.rel, work.result)


def run_rewrite(txt: str, llm_kwargs: dict, chatbot, history: list, task: Task):
    """The whole plugin for a rewriting task: load, rewrite, write the project and the diff page."""
    yield from start(chatbot, history, task)
    with working_folder(chatbot) as folder:
        project = load_project(chatbot, txt, folder)
        outcome = yield from rewrite(chatbot, history, llm_kwargs, project, task)
        if not outcome.pieces:
            yield from finish(chatbot, history, nothing_to_rewrite(chatbot, project, task))
            return
        save_results(project, outcome)
        outputs = project.package(chatbot, task.suffix)
        title = chatbot.say(zh=f"{project.name}：{task.verb_zh}前后对比", en=f"{project.name}: {task.doing_en}, before and after")
        page = diff_page(title, [(w.rel.as_posix(), w.original, w.result) for w in outcome.files], chatbot.lang)
        outputs.append(chatbot.write_output(f"{project.name}-diff.html", page))
        yield from finish(chatbot, history, report(chatbot, project, outcome, task, outputs))

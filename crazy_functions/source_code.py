"""解析项目源代码: an overview of an uploaded code base (a zip), with notes on every source file.

The zip is unpacked safely; source files of common languages are picked (binaries, hidden, vendored
and build folders, and files over MAX_FILE_BYTES are skipped and counted). Each file is noted in
parallel (a long file in pieces cut to the model's window, noted under the file's name); the notes
are merged in rounds until they fit one request, which writes the overview. The Markdown file holds
the overview and every note; a stopped or failed run still writes the notes that were finished. A
code fence an answer leaves open is closed where the answer ends (documents.tidy.close_fences).
"""

from __future__ import annotations

import tempfile
import time
from collections import Counter
from collections.abc import Generator
from dataclasses import dataclass, field
from pathlib import Path

from toolbox import CatchException, update_ui

from .documents.code_files import LANGUAGES, PROJECT_FILES, SKIP_DIRS
from .documents.tidy import close_fences
from .runtime.files import files_of_type, read_text, unpack_zip
from .runtime.parallel import Piece, ask_in_parallel, failures
from .runtime.pieces import Sizer, sizer_for
from .runtime.registry import Field, Plugin

MAX_FILE_BYTES = 200 * 1024
MAX_FILES = 300  # notes beyond this would take a local model hours; the rest are counted as skipped
NOTE_TOKENS = 300
OVERVIEW_TOKENS = 1200
MERGE_ROUNDS = 4
BINARY_PROBE = 8192


@dataclass
class SourceFile:
    path: str  # relative to the project's root, with /
    language: str
    pieces: list[Piece] = field(default_factory=list)  # empty for an empty file

    @property
    def done(self) -> bool:
        return all(piece.done for piece in self.pieces)


@dataclass
class Project:
    name: str
    root: Path
    files: list[SourceFile] = field(default_factory=list)
    skipped: Counter = field(default_factory=Counter)  # reason -> count
    merges: list[Piece] = field(default_factory=list)
    overview: Piece | None = None
    output: Path | None = None  # the Markdown file, once written

    @property
    def notes(self) -> list[Piece]:
        return [piece for source in self.files for piece in source.pieces]

    @property
    def requests(self) -> list[Piece]:
        """Every request that was made or planned: notes, merges, the overview."""
        return [*self.notes, *self.merges, *([self.overview] if self.overview else [])]

    @property
    def complete(self) -> bool:
        return self.overview is not None and self.overview.done


def _language(path: Path) -> str | None:
    name = path.name.lower()
    if name in PROJECT_FILES:
        return PROJECT_FILES[name]
    if name.startswith("readme") and path.suffix.lower() in ("", ".md", ".rst", ".txt"):
        return "markdown"
    return LANGUAGES.get(path.suffix.lower())


def _is_binary(path: Path) -> bool:
    with path.open("rb") as handle:
        return b"\0" in handle.read(BINARY_PROBE)


def collect_sources(name: str, root: Path, extracted: list[Path]) -> Project:
    """The source files among `extracted`, in path order; the others are counted in `skipped` by reason."""
    project = Project(name, root)
    for path in sorted(extracted, key=lambda p: p.relative_to(root).as_posix()):
        parts = path.relative_to(root).parts
        language = _language(path)
        if any(part.startswith(".") or part in SKIP_DIRS for part in parts[:-1]) or parts[-1].startswith("."):
            project.skipped["folder"] += 1
        elif language is None:
            project.skipped["type"] += 1
        elif path.stat().st_size > MAX_FILE_BYTES:
            project.skipped["large"] += 1
        elif _is_binary(path):
            project.skipped["binary"] += 1
        elif len(project.files) >= MAX_FILES:
            project.skipped["limit"] += 1
        else:
            project.files.append(SourceFile("/".join(parts), language))
    return project


@dataclass(frozen=True)
class Prompts:
    system: str
    note: str  # {project} {path} {language} {part} {focus} {fence} {code}
    part: str  # {i} {n}
    merge: str  # {project} {focus} {text}
    final: str  # {project} {count} {focus} {text}
    focus: str  # {focus}


ZH = Prompts(
    system="你是一位资深软件工程师，负责向新加入的开发者讲解陌生的代码库。只描述代码中确有的内容；文件名、类名、函数名保持原样；"
    "不编造文件、命令或行为。",
    note="项目：{project}\n文件：{path}（{language}）{part}\n\n"
    "请为刚接触这个项目的开发者写这份文件的笔记，用 Markdown 列表，不超过 10 行：\n"
    "- 用途：这个文件做什么。\n- 主要部分：主要的类、函数或导出，每个一行。\n"
    "- 关联：它用到项目里哪些其他文件，读写什么（文件、网络、数据库、环境变量、命令行）。{focus}\n"
    "名称用 `反引号` 原样写出；不要照抄代码。\n\n{fence}{language}\n{code}\n{fence}",
    part="（第 {i}/{n} 段，接续前文）",
    merge="下面是项目 {project} 中若干文件的笔记。请把它们压缩为一份笔记：保留每个文件的路径（用反引号）、作用及与其他文件的关联，"
    "每个文件一到两行，用 Markdown 列表；不要添加笔记中没有的内容。{focus}\n\n{text}",
    final="下面是项目 {project} 的 {count} 个源文件的笔记。请为即将参与开发的人写一份项目概览，用 Markdown，包含以下小节：\n"
    "## 架构\n主要组成部分及其关系。\n## 主要模块\n每个重要文件或目录一条：它的作用。\n"
    "## 数据流\n输入如何经过代码变成输出。\n## 如何运行\n入口、命令与配置（以笔记为据；笔记未提及时请说明）。\n"
    "## 从哪里读起\n最先该读的几个文件，按顺序，并说明原因。{focus}\n"
    "路径按笔记原样书写；不要编造文件或命令。\n\n笔记：\n{text}",
    focus="\n用户特别关注：{focus}。请重点说明与之相关的部分。",
)
EN = Prompts(
    system="You are a senior software engineer who explains unfamiliar code bases to developers joining a project. "
    "Describe only what the code shows; keep file, class and function names exactly as written; never invent files, "
    "commands or behaviour.",
    note="Project: {project}\nFile: {path} ({language}){part}\n\n"
    "Write notes on this file for a developer new to the project, as Markdown bullets, at most 10 lines:\n"
    "- Purpose: what the file is for.\n- Key parts: the main classes, functions or exports, one line each.\n"
    "- Links: what it uses from other files of the project, and what it reads or writes "
    "(files, network, database, environment, command line).{focus}\n"
    "Write names in `backticks` exactly as in the code; do not copy the code.\n\n{fence}{language}\n{code}\n{fence}",
    part=" (part {i} of {n}, continuing the previous part)",
    merge="Below are notes on files of the project {project}. Condense them into one set of notes: keep every file's "
    "path (in backticks), its role and its links to other files, one or two lines per file, as Markdown bullets; "
    "add nothing the notes do not say.{focus}\n\n{text}",
    final="Below are notes on the {count} source files of the project {project}. Write an overview for a developer "
    "about to work on it, in Markdown with these sections:\n"
    "## Architecture\nthe main components and how they fit together.\n"
    "## Main modules\none bullet per important file or folder: its role.\n"
    "## Data flow\nhow input moves through the code to output.\n"
    "## How to run it\nentry points, commands and configuration, as far as the notes show (say so when they do not).\n"
    "## Where to start reading\nthe files to read first, in order, and why.{focus}\n"
    "Write paths exactly as in the notes; do not invent files or commands.\n\nNotes:\n{text}",
    focus="\nThe reader cares most about: {focus}. Give the parts related to it the most attention.",
)


def _fence(code: str) -> str:
    fence = "```"
    while fence in code:
        fence += "`"
    return fence


def _focus(prompts: Prompts, focus: str) -> str:
    return prompts.focus.format(focus=focus) if focus else ""


def plan_notes(project: Project, prompts: Prompts, system: str, focus: str, llm_kwargs: dict, config) -> Sizer:
    """Cut every file into pieces that fit the window and give each its request."""
    overhead = system + prompts.note.format(
        project=project.name,
        path=max((source.path for source in project.files), key=len, default=""),
        language=max((source.language for source in project.files), key=len, default=""),
        part=prompts.part.format(i=999, n=999),
        focus=_focus(prompts, focus),
        fence="````",
        code="",
    )
    sizer = sizer_for(llm_kwargs, config, overhead, NOTE_TOKENS)
    for source in project.files:
        code = read_text(project.root / source.path)
        parts = sizer.split(code) if code.strip() else []
        for i, part in enumerate(parts):
            label = prompts.part.format(i=i + 1, n=len(parts)) if len(parts) > 1 else ""
            prompt = prompts.note.format(
                project=project.name,
                path=source.path,
                language=source.language,
                part=label,
                focus=_focus(prompts, focus),
                fence=_fence(part),
                code=part.strip("\n"),
            )
            source.pieces.append(Piece(prompt, max_tokens=sizer.answer_tokens))
    return sizer


def _answer(piece: Piece) -> str:
    """A model's answer as it goes into a Markdown file: trimmed, with a code fence it left open closed."""
    return close_fences(piece.answer.strip())


def notes_text(project: Project) -> str:
    """The finished notes, each under its file's path, for the overview request."""
    blocks = []
    for source in project.files:
        answers = [_answer(piece) for piece in source.pieces if piece.done]
        if answers:
            blocks.append(f"### `{source.path}`\n" + "\n".join(answers))
    return "\n\n".join(blocks)


def _all_done(chatbot, pieces: list[Piece]) -> bool:
    return not chatbot.stopped and all(piece.done for piece in pieces)


def explain_project(
    chatbot, history: list, llm_kwargs: dict, project: Project, focus: str, system: str
) -> Generator[tuple, None, Project]:
    """Notes on every file in parallel, then the overview (merging the notes in rounds until they fit)."""
    say, config = chatbot.say, chatbot.config
    prompts = ZH if chatbot.lang == "zh" else EN
    system = prompts.system + (f"\n\n{system}" if system else "")
    sizer = plan_notes(project, prompts, system, focus, llm_kwargs, config)
    heading = say(
        zh=f"**{project.name}**：正在阅读 {len(project.files)} 个文件（{len(project.notes)} 段）",
        en=f"**{project.name}**: reading {len(project.files)} files ({len(project.notes)} pieces)",
    )
    yield from ask_in_parallel(chatbot, history, project.notes, llm_kwargs, system, count=sizer.counter.count, heading=heading)
    if not _all_done(chatbot, project.notes):
        return project

    focus_line = _focus(prompts, focus)
    final = sizer_for(
        llm_kwargs,
        config,
        system + prompts.final.format(project=project.name, count=len(project.files), focus=focus_line, text=""),
        OVERVIEW_TOKENS,
    )
    merge = sizer_for(
        llm_kwargs, config, system + prompts.merge.format(project=project.name, focus=focus_line, text=""), NOTE_TOKENS
    )
    notes = notes_text(project)
    for _ in range(MERGE_ROUNDS):
        if final.counter(notes) <= final.piece_tokens:
            break
        groups = merge.split(notes)
        merged = [
            Piece(prompts.merge.format(project=project.name, focus=focus_line, text=group), max_tokens=merge.answer_tokens)
            for group in groups
        ]
        project.merges += merged
        heading = say(
            zh=f"**{project.name}**：合并笔记（{len(groups)} 组）", en=f"**{project.name}**: merging notes ({len(groups)} groups)"
        )
        yield from ask_in_parallel(chatbot, history, merged, llm_kwargs, system, count=merge.counter.count, heading=heading)
        if not _all_done(chatbot, merged):
            return project
        notes = "\n\n".join(_answer(piece) for piece in merged)
    else:
        notes = final.split(notes)[0]  # still too long after every round: the overview uses what fits
    project.overview = Piece(
        prompts.final.format(project=project.name, count=len(project.files), focus=focus_line, text=notes),
        max_tokens=final.answer_tokens,
    )
    heading = say(zh=f"**{project.name}**：正在写项目概览", en=f"**{project.name}**: writing the overview")
    yield from ask_in_parallel(
        chatbot, history, [project.overview], llm_kwargs, system, count=final.counter.count, heading=heading
    )
    return project


def skipped_line(project: Project, zh: bool) -> str:
    labels = {
        "large": ("个超过 200 KB", "over 200 KB"),
        "binary": ("个二进制文件", "binary"),
        "folder": ("个在隐藏/依赖/构建目录中", "in hidden, vendored or build folders"),
        "type": ("个非源代码类型", "not source files"),
        "limit": (f"个超出 {MAX_FILES} 个文件的上限", f"beyond the limit of {MAX_FILES} files"),
    }
    parts = [f"{project.skipped[k]} {labels[k][0 if zh else 1]}" for k in labels if project.skipped[k]]
    if zh:
        return f"读取 {len(project.files)} 个源文件" + (f"；跳过：{'，'.join(parts)}。" if parts else "。")
    return f"Read {len(project.files)} source files" + (f"; skipped: {', '.join(parts)}." if parts else ".")


def render(project: Project, model: str, zh: bool) -> str:
    """The Markdown file: the overview (when written), the files, then every finished note."""
    lines = [f"# {'项目概览' if zh else 'Overview'}: {project.name}", "", f"*{model} · {time.strftime('%Y-%m-%d %H:%M')}*", ""]
    lines += [f"> {skipped_line(project, zh)}", ""]
    if project.complete:
        lines += [_answer(project.overview), ""]
    else:
        done = sum(source.done for source in project.files)
        lines += [
            f"> 未完成：已完成 {done}/{len(project.files)} 个文件的笔记，没有项目概览。"
            if zh
            else f"> Not finished: notes on {done} of {len(project.files)} files, no overview.",
            "",
        ]
    lines += [f"## {'文件' if zh else 'Files'}", "", *(f"- `{source.path}`" for source in project.files), ""]
    lines += [f"## {'各文件笔记' if zh else 'Notes on each file'}", ""]
    for source in project.files:
        finished = [(i, piece) for i, piece in enumerate(source.pieces) if piece.done]
        if source.pieces and not finished:
            continue
        lines += [f"### `{source.path}`", ""]
        if not source.pieces:
            lines += ["*（空文件）*" if zh else "*(empty file)*", ""]
        for i, piece in finished:
            if len(source.pieces) > 1:
                lines += [f"**{i + 1}/{len(source.pieces)}**", ""]
            lines += [_answer(piece), ""]
        if finished and len(finished) < len(source.pieces):
            lines += [
                f"*（{len(source.pieces) - len(finished)} 段未完成）*"
                if zh
                else f"*({len(source.pieces) - len(finished)} parts not finished)*",
                "",
            ]
    return "\n".join(lines)


def _closing(chatbot, project: Project) -> str:
    say = chatbot.say
    if project.complete:
        return _answer(project.overview)
    done = sum(source.done for source in project.files)
    why = say(zh="已停止", en="Stopped") if chatbot.stopped else say(zh="部分请求失败", en="Some requests failed")
    line = say(
        zh=f"{why}：已完成 {done}/{len(project.files)} 个文件的笔记，文件中只有这些笔记（没有项目概览）。",
        en=f"{why}: notes on {done} of {len(project.files)} files; the file holds only those (no overview).",
    )
    return f"{line}\n\n{failures(project.requests, chatbot.lang)}".strip()


def explain_archive(
    chatbot, history: list, llm_kwargs: dict, archive: Path, focus: str, system: str
) -> Generator[tuple, None, Project | None]:
    """One uploaded zip: unpack, note, overview, write `<name>-overview.md`; None when it holds no source."""
    say = chatbot.say
    question = say(zh=f"解析项目源代码：{archive.name}", en=f"Explain the code base: {archive.name}")
    chatbot.append([question, say(zh="正在解压…", en="Unpacking…")])
    yield from update_ui(chatbot, history)
    chatbot.out_dir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix=".unpacked-", dir=chatbot.out_dir) as folder:  # the user's own folder
        root = Path(folder) / "project"
        project = collect_sources(archive.stem, root, unpack_zip(archive, root))
        if not project.files:
            chatbot[-1] = [
                question,
                say(
                    zh=f"{archive.name} 中没有找到源代码文件（{skipped_line(project, True)}）：请上传包含源代码的 zip。",
                    en=f"No source files in {archive.name} ({skipped_line(project, False)}): upload a zip of the project's code.",
                ),
            ]
            yield from update_ui(chatbot, history)
            return None
        yield from explain_project(chatbot, history, llm_kwargs, project, focus, system)
    zh = chatbot.lang == "zh"
    project.output = chatbot.write_output(f"{archive.stem}-overview.md", render(project, llm_kwargs["llm_model"], zh))
    answer = f"{_closing(chatbot, project)}\n\n{skipped_line(project, zh)}"
    chatbot[-1] = [question, f"{answer}\n\n📄 {project.output.name}"]
    history.extend([question, answer])
    yield from update_ui(chatbot, history)
    return project


@CatchException
def source_code(txt, llm_kwargs, plugin_kwargs, chatbot, history, system_prompt, user_request):
    archives = files_of_type(chatbot, (".zip",), txt)
    focus = str((plugin_kwargs or {}).get("focus") or "").strip()
    for archive in archives:
        yield from explain_archive(chatbot, history, llm_kwargs, archive, focus, system_prompt)
        if chatbot.stopped:
            return


PLUGIN = Plugin(
    key="source_code",
    zh="解析项目源代码",
    en="Explain a code base",
    group="code",
    about_zh="上传项目的 zip：逐个文件并行写笔记，再综合成项目概览（架构、各模块作用、数据流、如何运行、从哪里读起），"
    "输出 Markdown 文件。跳过二进制、依赖与构建目录及超过 200 KB 的文件。",
    about_en="Upload a zip of a project: notes on each source file in parallel, then an overview (architecture, each "
    "module's role, data flow, how to run it, where to start reading) as a Markdown file. Binaries, vendored and "
    "build folders and files over 200 KB are skipped.",
    run=source_code,
    files=(".zip",),
    fields=(Field("focus", zh="关注点", en="Focus"),),
)

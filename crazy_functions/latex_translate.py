"""Translating a LaTeX paper into another language, markup kept as it was (see latex.rewrite), and compiling
the result to PDF where a TeX engine is installed."""

from __future__ import annotations

import re

from toolbox import CatchException, update_ui

from .latex import sandbox
from .latex.latex_project import Project, load_project, working_folder
from .latex.rewrite import Task, finish, nothing_to_rewrite, report, rewrite, rules, save_results, start
from .runtime.registry import Field, Plugin

DEFAULT_LANGUAGE = "Chinese"
CHINESE = re.compile(r"chinese|mandarin|中文|汉语|漢語|简体|繁体|繁體|^zh", re.I)
OTHER_CJK = re.compile(r"japanese|korean|日本|日语|日文|韩|韓|한국", re.I)
CJK_SETUP = re.compile(
    r"\\usepackage\s*(\[[^\]]*\])?\s*\{[^}]*\b(ctex|xeCJK|CJKutf8|CJK)\b|\\documentclass\s*(\[[^\]]*\])?\s*\{ctex"
)
DOCUMENTCLASS = re.compile(r"^[ \t]*\\documentclass\s*(\[[^\]]*\])?\s*\{[^}]*\}", re.M)


def translate_task(language: str) -> Task:
    template = (
        f"Translate this excerpt of an academic paper written in LaTeX into {language}. Keep the meaning and the "
        "paragraph breaks; use the field's usual terms (give the original term in parentheses where a reader may "
        f"need it).\n{rules('en')}\nReply with the translation only, without notes or quotation marks.\n\n"
        "Excerpt:\n{text}"
    )
    system = f"You are a professional translator of academic papers into {language}."
    return Task("LaTeX 论文翻译", "Translate LaTeX paper", "translated", "翻译", "translating", system, template, 1.5)


def cjk_note(chatbot, project: Project, language: str) -> str:
    """Make the main file able to typeset the target language, or say what the user must add."""
    main = project.read(project.main) if project.main else ""
    if CJK_SETUP.search(main):
        return ""
    if CHINESE.search(language):
        found = DOCUMENTCLASS.search(main)
        if found is None:
            return chatbot.say(
                zh="请在主文件的导言区加入 \\usepackage{ctex}，中文才能编译。",
                en="Add \\usepackage{ctex} to your main file's preamble so the Chinese text compiles.",
            )
        project.write(project.main, main[: found.end()] + "\n\\usepackage{ctex}" + main[found.end() :])
        name = project.main.as_posix()
        return chatbot.say(
            zh=f"已在 {name} 的导言区加入 \\usepackage{{ctex}}，以便编译中文。",
            en=f"Added \\usepackage{{ctex}} to the preamble of {name} so the Chinese text compiles.",
        )
    if OTHER_CJK.search(language):
        return chatbot.say(
            zh=f"{language} 需要 CJK 设置：请在导言区加入 \\usepackage{{xeCJK}} 并设置该语言的字体，用 XeLaTeX 编译。",
            en=f"{language} needs a CJK setup: add \\usepackage{{xeCJK}} with a font for it to the preamble "
            "and compile with XeLaTeX.",
        )
    return ""


def compile_pdf(chatbot, history: list, project: Project, suffix: str, outputs: list):
    """Compile the main file in TeX's sandbox (latex.sandbox) where XeLaTeX is installed; the line for the chat."""
    if not sandbox.available():
        return chatbot.say(
            zh="本机未安装 TeX 引擎（xelatex），结果是翻译后的 .tex：请安装 TeX Live（见 README）或用 Overleaf 编译。",
            en="No TeX engine (xelatex) is installed here: the translated .tex is the result; install TeX Live "
            "(see the README) or compile it on Overleaf.",
        )
    if project.main is None or chatbot.stopped:
        return ""
    line = chatbot.say(zh="正在用 XeLaTeX 编译 PDF……", en="Compiling the PDF with XeLaTeX…")
    chatbot[-1] = [chatbot[-1][0], line]
    yield from update_ui(chatbot, history, msg=line)
    compiled = sandbox.compile_project(project.root / project.main)
    if compiled.pdf is not None:
        outputs.append(chatbot.add_output(compiled.pdf, f"{project.name}-{suffix}.pdf"))
        return chatbot.say(zh="已用 XeLaTeX 编译出 PDF。", en="Compiled to PDF with XeLaTeX.")
    if compiled.log is not None:
        outputs.append(chatbot.add_output(compiled.log, f"{project.name}-{suffix}.log"))
    why = compiled.problem.text(chatbot.lang) if compiled.problem else ""
    return chatbot.say(
        zh=f"XeLaTeX 未能编译出 PDF：{why} 翻译后的 .tex 仍可下载，可修正后再编译。",
        en=f"XeLaTeX could not make a PDF: {why} The translated .tex is still the result: fix and compile it.",
    )


@CatchException
def run(txt, llm_kwargs, plugin_kwargs, chatbot, history, system_prompt, user_request):
    language = (plugin_kwargs.get("language") or "").strip() or DEFAULT_LANGUAGE
    task = translate_task(language)
    yield from start(chatbot, history, task)
    with working_folder(chatbot) as folder:
        project = load_project(chatbot, txt, folder)
        outcome = yield from rewrite(chatbot, history, llm_kwargs, project, task)
        if not outcome.pieces:
            yield from finish(chatbot, history, nothing_to_rewrite(chatbot, project, task))
            return
        save_results(project, outcome)
        notes = [cjk_note(chatbot, project, language)]
        outputs = project.package(chatbot, task.suffix)
        notes.append((yield from compile_pdf(chatbot, history, project, task.suffix, outputs)))
        yield from finish(chatbot, history, report(chatbot, project, outcome, task, outputs, notes))


PLUGIN = Plugin(
    key="latex_translate",
    zh="LaTeX 论文翻译",
    en="Translate LaTeX paper",
    group="latex",
    about_zh="把上传的 .tex 文件或 zip 打包的 LaTeX 项目翻译成目标语言，公式、引用和命令原样保留；装有 TeX 引擎时同时编译 PDF。",
    about_en="Translates an uploaded .tex file or zipped LaTeX project into the target language, keeping formulas, "
    "citations and commands as they are; compiles a PDF where a TeX engine is installed.",
    run=run,
    files=(".tex", ".zip"),
    fields=(Field("language", zh="目标语言", en="Target language", default=DEFAULT_LANGUAGE),),
)

"""Proofreading a LaTeX project: spelling, grammar and punctuation only, with as few changes as possible."""

from __future__ import annotations

from toolbox import CatchException

from .latex.rewrite import Task, rules, run_rewrite
from .runtime.registry import Plugin


def proofread(lang: str) -> Task:
    if lang == "zh":
        template = (
            "请校对下面这段用 LaTeX 写的学术论文片段：只改正拼写、语法和标点错误，其余一字不改——"
            "不换词、不调整语序、不改文风；没有错误时原样输出。保持原文的语言。\n"
            f"{rules(lang)}\n只输出校对后的片段，不要解释，不要加引号。\n\n片段：\n{{text}}"
        )
        system = "你是一位严谨的学术论文校对员，只做必要的最小改动。"
    else:
        template = (
            "Proofread this excerpt of an academic paper written in LaTeX: correct only spelling, grammar and "
            "punctuation errors and change nothing else (no new words, no reordering, no change of style); if there "
            "is no error, return it unchanged. Keep the excerpt's language.\n"
            f"{rules(lang)}\nReply with the corrected excerpt only, without notes or quotation marks.\n\nExcerpt:\n{{text}}"
        )
        system = "You are a careful proofreader of academic papers who makes only the smallest necessary changes."
    return Task("LaTeX 纠错", "Proofread LaTeX", "proofread", "纠错", "proofreading", system, template)


@CatchException
def run(txt, llm_kwargs, plugin_kwargs, chatbot, history, system_prompt, user_request):
    yield from run_rewrite(txt, llm_kwargs, chatbot, history, proofread(chatbot.lang))


PLUGIN = Plugin(
    key="latex_proofread",
    zh="LaTeX 纠错",
    en="Proofread LaTeX",
    group="latex",
    about_zh="只改正上传的 .tex 文件或 zip 打包的 LaTeX 项目中的拼写、语法和标点错误，改动尽量少；输出改正后的项目和逐词对比网页。",
    about_en="Corrects only the spelling, grammar and punctuation of an uploaded .tex file or zipped LaTeX project, "
    "changing as little as possible. Gives the corrected project and a word-by-word diff page.",
    run=run,
    files=(".tex", ".zip"),
)

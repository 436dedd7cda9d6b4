"""Polishing the English of a LaTeX project: grammar, clarity and academic style, the markup kept as it was.

The project is rewritten piece by piece (latex.rewrite); the outputs are the polished project and a
word-by-word diff page.
"""

from __future__ import annotations

from toolbox import CatchException

from .latex.rewrite import Task, rules, run_rewrite
from .runtime.registry import Plugin


def polish_en(lang: str) -> Task:
    if lang == "zh":
        template = (
            "请润色下面这段用 LaTeX 写的英文学术论文片段：改正语法，使表达清晰、简洁、符合学术文风；"
            "保持原意、术语和段落划分，不要增加新内容，输出仍为英文。\n"
            f"{rules(lang)}\n只输出润色后的片段，不要解释，不要加引号。\n\n片段：\n{{text}}"
        )
        system = "你是一位经验丰富的英文学术论文编辑。"
    else:
        template = (
            "Polish this excerpt of an English academic paper written in LaTeX: correct the grammar and make it "
            "clear, concise and academic in style. Keep the meaning, the terminology and the paragraph breaks; "
            f"add nothing new.\n{rules(lang)}\nReply with the polished excerpt only, without notes or quotation "
            "marks.\n\nExcerpt:\n{text}"
        )
        system = "You are an experienced editor of English academic papers."
    return Task("LaTeX 英文润色", "Polish LaTeX (English)", "polished", "润色", "polishing", system, template)


@CatchException
def run(txt, llm_kwargs, plugin_kwargs, chatbot, history, system_prompt, user_request):
    yield from run_rewrite(txt, llm_kwargs, chatbot, history, polish_en(chatbot.lang))


PLUGIN = Plugin(
    key="latex_polish_en",
    zh="LaTeX 英文润色",
    en="Polish LaTeX (English)",
    group="latex",
    about_zh="润色上传的 .tex 文件或 zip 打包的 LaTeX 项目中的英文正文；公式、引用和命令原样保留。输出润色后的项目和逐词对比网页。",
    about_en="Polishes the English prose of an uploaded .tex file or zipped LaTeX project, keeping formulas, "
    "citations and commands as they are. Gives the polished project and a word-by-word diff page.",
    run=run,
    files=(".tex", ".zip"),
)

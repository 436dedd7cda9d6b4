"""Polishing the Chinese prose of a LaTeX project; the markup stays as it was (see latex.rewrite)."""

from __future__ import annotations

from toolbox import CatchException

from .latex.rewrite import Task, rules, run_rewrite
from .runtime.registry import Plugin


def polish_zh(lang: str) -> Task:
    if lang == "zh":
        template = (
            "请润色下面这段用 LaTeX 写的中文学术论文片段：使语句通顺、用词准确、符合中文学术写作规范，去掉口语化和冗余的表达；"
            "保持原意、术语和段落划分，不要增加新内容，输出仍为中文。\n"
            f"{rules(lang)}\n只输出润色后的片段，不要解释，不要加引号。\n\n片段：\n{{text}}"
        )
        system = "你是一位经验丰富的中文学术论文编辑。"
    else:
        template = (
            "Polish this excerpt of a Chinese academic paper written in LaTeX: make the sentences fluent, the wording "
            "precise and the style that of Chinese academic writing, removing colloquial and redundant phrases. Keep "
            "the meaning, the terminology and the paragraph breaks; add nothing new; the result stays in Chinese.\n"
            f"{rules(lang)}\nReply with the polished excerpt only, without notes or quotation marks.\n\nExcerpt:\n{{text}}"
        )
        system = "You are an experienced editor of Chinese academic papers."
    return Task("LaTeX 中文润色", "Polish LaTeX (Chinese)", "polished", "润色", "polishing", system, template)


@CatchException
def run(txt, llm_kwargs, plugin_kwargs, chatbot, history, system_prompt, user_request):
    yield from run_rewrite(txt, llm_kwargs, chatbot, history, polish_zh(chatbot.lang))


PLUGIN = Plugin(
    key="latex_polish_zh",
    zh="LaTeX 中文润色",
    en="Polish LaTeX (Chinese)",
    group="latex",
    about_zh="润色上传的 .tex 文件或 zip 打包的 LaTeX 项目中的中文正文；公式、引用和命令原样保留。输出润色后的项目和逐词对比网页。",
    about_en="Polishes the Chinese prose of an uploaded .tex file or zipped LaTeX project, keeping formulas, "
    "citations and commands as they are. Gives the polished project and a word-by-word diff page.",
    run=run,
    files=(".tex", ".zip"),
)

"""The LaTeX plugins that only rewrite a project's prose: polishing English, polishing Chinese, proofreading.

They share one flow (rewrite.run_rewrite) and differ only in their words, so each is a Rewriting record:
its menu entry, its prompts in Chinese and English, and the words its chat and output files use.
`task(lang)` gives the rewrite.Task for the chat's language and `plugin()` the menu entry.
"""

from __future__ import annotations

from dataclasses import dataclass

from request_llms.text import Text
from toolbox import CatchException

from ..runtime.registry import Plugin
from .rewrite import Task, rules, run_rewrite


@dataclass(frozen=True)
class Rewriting:
    """One rewriting plugin: everything in which it differs from the others."""

    key: str
    name: Text
    about: Text
    ask: Text  # the instruction, before the rules about markers
    result: Text  # what the answer is, as in "只输出润色后的片段" / "Reply with the polished excerpt only"
    system: Text
    suffix: str  # in the outputs' names, e.g. "polished"
    verb_zh: str  # in the chat: 正在润色
    doing_en: str  # in the chat: polishing

    def task(self, lang: str) -> Task:
        """What the rewriting is in the chat's language: its prompt and the words the chat uses."""
        if lang == "zh":
            close = f"只输出{self.result.zh}后的片段，不要解释，不要加引号。\n\n片段：\n"
        else:
            close = f"Reply with the {self.result.en} excerpt only, without notes or quotation marks.\n\nExcerpt:\n"
        template = f"{self.ask.text(lang)}\n{rules(lang)}\n{close}{{text}}"
        return Task(self.name.zh, self.name.en, self.suffix, self.verb_zh, self.doing_en, self.system.text(lang), template)

    def plugin(self) -> Plugin:
        """The menu entry; it takes an uploaded .tex file or zipped LaTeX project."""

        @CatchException
        def run(txt, llm_kwargs, plugin_kwargs, chatbot, history, system_prompt, user_request):
            yield from run_rewrite(txt, llm_kwargs, chatbot, history, self.task(chatbot.lang))

        return Plugin(
            key=self.key,
            zh=self.name.zh,
            en=self.name.en,
            group="latex",
            about_zh=self.about.zh,
            about_en=self.about.en,
            run=run,
            files=(".tex", ".zip"),
        )


POLISH_EN = Rewriting(
    key="latex_polish_en",
    name=Text(zh="LaTeX 英文润色", en="Polish LaTeX (English)"),
    about=Text(
        zh="润色上传的 .tex 文件或 zip 打包的 LaTeX 项目中的英文正文；公式、引用和命令原样保留。输出润色后的项目和逐词对比网页。",
        en="Polishes the English prose of an uploaded .tex file or zipped LaTeX project, keeping formulas, "
        "citations and commands as they are. Gives the polished project and a word-by-word diff page.",
    ),
    ask=Text(
        zh="请润色下面这段用 LaTeX 写的英文学术论文片段：改正语法，使表达清晰、简洁、符合学术文风；"
        "保持原意、术语和段落划分，不要增加新内容，输出仍为英文。",
        en="Polish this excerpt of an English academic paper written in LaTeX: correct the grammar and make it "
        "clear, concise and academic in style. Keep the meaning, the terminology and the paragraph breaks; "
        "add nothing new.",
    ),
    result=Text(zh="润色", en="polished"),
    system=Text(zh="你是一位经验丰富的英文学术论文编辑。", en="You are an experienced editor of English academic papers."),
    suffix="polished",
    verb_zh="润色",
    doing_en="polishing",
)

POLISH_ZH = Rewriting(
    key="latex_polish_zh",
    name=Text(zh="LaTeX 中文润色", en="Polish LaTeX (Chinese)"),
    about=Text(
        zh="润色上传的 .tex 文件或 zip 打包的 LaTeX 项目中的中文正文；公式、引用和命令原样保留。输出润色后的项目和逐词对比网页。",
        en="Polishes the Chinese prose of an uploaded .tex file or zipped LaTeX project, keeping formulas, "
        "citations and commands as they are. Gives the polished project and a word-by-word diff page.",
    ),
    ask=Text(
        zh="请润色下面这段用 LaTeX 写的中文学术论文片段：使语句通顺、用词准确、符合中文学术写作规范，去掉口语化和冗余的表达；"
        "保持原意、术语和段落划分，不要增加新内容，输出仍为中文。",
        en="Polish this excerpt of a Chinese academic paper written in LaTeX: make the sentences fluent, the wording "
        "precise and the style that of Chinese academic writing, removing colloquial and redundant phrases. Keep "
        "the meaning, the terminology and the paragraph breaks; add nothing new; the result stays in Chinese.",
    ),
    result=Text(zh="润色", en="polished"),
    system=Text(zh="你是一位经验丰富的中文学术论文编辑。", en="You are an experienced editor of Chinese academic papers."),
    suffix="polished",
    verb_zh="润色",
    doing_en="polishing",
)

PROOFREAD = Rewriting(
    key="latex_proofread",
    name=Text(zh="LaTeX 纠错", en="Proofread LaTeX"),
    about=Text(
        zh="只改正上传的 .tex 文件或 zip 打包的 LaTeX 项目中的拼写、语法和标点错误，改动尽量少；输出改正后的项目和逐词对比网页。",
        en="Corrects only the spelling, grammar and punctuation of an uploaded .tex file or zipped LaTeX project, "
        "changing as little as possible. Gives the corrected project and a word-by-word diff page.",
    ),
    ask=Text(
        zh="请校对下面这段用 LaTeX 写的学术论文片段：只改正拼写、语法和标点错误，其余一字不改——"
        "不换词、不调整语序、不改文风；没有错误时原样输出。保持原文的语言。",
        en="Proofread this excerpt of an academic paper written in LaTeX: correct only spelling, grammar and "
        "punctuation errors and change nothing else (no new words, no reordering, no change of style); if there "
        "is no error, return it unchanged. Keep the excerpt's language.",
    ),
    result=Text(zh="校对", en="corrected"),
    system=Text(
        zh="你是一位严谨的学术论文校对员，只做必要的最小改动。",
        en="You are a careful proofreader of academic papers who makes only the smallest necessary changes.",
    ),
    suffix="proofread",
    verb_zh="纠错",
    doing_en="proofreading",
)

"""The basic academic functions: one button each, a prompt built around the text in the box.

Users add their own in CUSTOM_FUNCTIONS (name -> prefix and suffix), shown after these.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

_CJK = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")
_KEEP = "Keep formulas ($...$, \\[...\\]), citations (\\cite{...}), LaTeX commands and technical terms exactly as they are."
_KEEP_ZH = "公式（$...$、\\[...\\]）、引用（\\cite{...}）、LaTeX 命令和专业术语保持原样。"


def is_chinese(text: str) -> bool:
    """True when a good share of the letters are Chinese characters."""
    letters = [c for c in text if c.isalpha()]
    return bool(letters) and sum(1 for c in letters if _CJK.match(c)) / len(letters) > 0.3


def _polish(text: str, lang: str) -> str:
    if is_chinese(text):
        return (
            "你是一位严谨的中文学术论文编辑。请润色下面这段论文文字：改正错别字和语病，使表达准确、简洁、符合学术规范，"
            f"不改变原意，不添加原文没有的内容。{_KEEP_ZH}\n"
            "先给出润色后的完整段落，再用 Markdown 表格列出主要修改（原文 | 修改后 | 理由）。\n\n"
            f"{text}"
        )
    return (
        "You are an experienced editor of English academic papers. Polish the paragraph below: fix spelling and grammar, "
        "make it clear, concise and formal, keep its meaning, and add nothing that is not there. "
        f"{_KEEP}\nFirst give the polished paragraph in full, then a Markdown table of the main changes "
        "(original | revised | reason).\n\n"
        f"{text}"
    )


def _grammar(text: str, lang: str) -> str:
    if is_chinese(text):
        return (
            "请找出下面文字中的语法错误、错别字和用词不当。每处一行，用 Markdown 表格列出（原文 | 改为 | 原因）；"
            "正确的句子不要改写。如果没有错误，只回答“未发现错误”。\n\n"
            f"{text}"
        )
    return (
        "Find the grammar, spelling and word-choice errors in the text below. List each one as a row of a Markdown table "
        "(original | corrected | why). Do not rewrite sentences that are already correct. "
        'If there are no errors, answer only "No errors found."\n\n'
        f"{text}"
    )


def _zh_to_en(text: str, lang: str) -> str:
    return (
        "Translate the following Chinese academic text into fluent, formal academic English. "
        f"{_KEEP} Output only the translation.\n\n{text}"
    )


def _en_to_zh(text: str, lang: str) -> str:
    return (
        "将下面的英文学术文字翻译成准确、通顺的学术中文。专业术语第一次出现时在括号中保留英文原文，"
        f"{_KEEP_ZH}只输出译文。\n\n{text}"
    )


def _two_way(text: str, lang: str) -> str:
    return _zh_to_en(text, lang) if is_chinese(text) else _en_to_zh(text, lang)


def _explain_code(text: str, lang: str) -> str:
    if lang == "zh":
        return (
            "请解释下面的代码：先用一两句话说明它做什么；再按段落说明关键逻辑、输入与输出；"
            "最后指出可能的错误、边界情况或可改进之处。引用代码时用代码块。\n\n"
            f"```\n{text}\n```"
        )
    return (
        "Explain the code below: first say in one or two sentences what it does; then walk through the key logic, "
        "its inputs and outputs; finally point out possible bugs, edge cases or improvements. Quote code in code blocks.\n\n"
        f"```\n{text}\n```"
    )


def _summarise(text: str, lang: str) -> str:
    if lang == "zh" or is_chinese(text):
        return (
            "请用中文总结下面的文字：先用一句话概括主旨，再用 3 到 6 个要点列出关键内容（方法、结果、结论），"
            "只依据原文，不要编造。\n\n"
            f"{text}"
        )
    return (
        "Summarise the text below: one sentence with the main point, then 3 to 6 bullet points with the key content "
        "(method, results, conclusions). Use only what the text says.\n\n"
        f"{text}"
    )


@dataclass(frozen=True)
class Function:
    """One button: its label in each language and how it turns the box's text into a prompt."""

    key: str
    zh: str
    en: str
    build: Callable[[str, str], str]

    def label(self, lang: str) -> str:
        return self.zh if lang == "zh" else self.en


BUILT_IN: tuple[Function, ...] = (
    Function("polish", "学术语料润色", "Polish (academic)", _polish),
    Function("grammar", "查找语法错误", "Find grammar errors", _grammar),
    Function("zh2en", "中译英", "Chinese → English", _zh_to_en),
    Function("en2zh", "英译中", "English → Chinese", _en_to_zh),
    Function("translate", "学术英中互译", "Academic EN ⇄ ZH", _two_way),
    Function("code", "解释代码", "Explain code", _explain_code),
    Function("summary", "总结", "Summarise", _summarise),
)


def all_functions(config) -> tuple[Function, ...]:
    """The built-in buttons, then the user's own from CUSTOM_FUNCTIONS."""
    custom = tuple(
        Function(
            f"custom-{i}",
            name,
            name,
            lambda text, lang, f=fields: f.get("prefix", "") + text + f.get("suffix", ""),
        )
        for i, (name, fields) in enumerate(config["CUSTOM_FUNCTIONS"].items())
    )
    return BUILT_IN + custom

"""The prompts for summarising a paper or a report, in the user's language."""

from __future__ import annotations

from .summarise import Prompts

PAPER_ZH = Prompts(
    note=(
        "你是一位严谨的科研助理。下面是论文《{title}》的第 {i}/{n} 部分，由 PDF 或 Word 提取，可能有断行、页眉或残缺的公式。\n"
        "请用中文为这一部分写要点笔记（不超过 8 条）：\n"
        "- 这一部分属于哪一节，讲了什么；\n"
        "- 提出的方法、模型、公式或实验设置（保留符号、数字、数据集和专有名词的原文）；\n"
        "- 得到的结果与结论。\n"
        "只写原文中有的内容，不要推测；若这一部分只有参考文献、致谢或目录，只回答“（无实质内容）”。\n\n"
        "---\n{text}"
    ),
    merge=(
        "下面是论文《{title}》若干部分的要点笔记。请把它们合并为一份更短的笔记，保留所有方法、数据、数字与结论，"
        "删去重复，按原顺序组织：\n\n{text}"
    ),
    final=(
        "下面是论文《{title}》各部分的要点笔记（按原文顺序）。请据此写一份结构化的中文论文总结，使用 Markdown，"
        "依次包含以下小节：\n"
        "## 研究背景与问题\n## 方法\n## 主要结果\n## 局限与未来工作\n## 一句话总结\n"
        "只依据笔记，不要编造笔记中没有的数字或结论；专有名词可保留英文。\n\n笔记：\n{text}"
    ),
)

PAPER_EN = Prompts(
    note=(
        "You are a careful research assistant. Below is part {i} of {n} of the paper “{title}”, extracted from a "
        "PDF or Word file (line breaks, running headers or broken formulas may remain).\n"
        "Write concise notes on this part (at most 8 bullet points):\n"
        "- which section it belongs to and what it covers;\n"
        "- the methods, models, equations or experimental setup (keep symbols, numbers, datasets and names exactly);\n"
        "- the results and conclusions it states.\n"
        "Only write what the text says; do not speculate. If this part is only references, acknowledgements or a "
        "table of contents, answer just “(nothing substantive)”.\n\n---\n{text}"
    ),
    merge=(
        "Below are notes on several parts of the paper “{title}”. Merge them into one shorter set of notes that keeps "
        "every method, dataset, number and conclusion, drops repetition and keeps the original order:\n\n{text}"
    ),
    final=(
        "Below are notes on each part of the paper “{title}”, in order. From them, write a structured summary in "
        "Markdown with these sections:\n"
        "## Background and question\n## Method\n## Main results\n## Limitations and future work\n## In one sentence\n"
        "Use only the notes; do not invent numbers or conclusions they do not contain.\n\nNotes:\n{text}"
    ),
)


def paper_prompts(lang: str) -> Prompts:
    return PAPER_ZH if lang == "zh" else PAPER_EN

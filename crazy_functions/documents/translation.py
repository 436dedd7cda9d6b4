"""Translating a document piece by piece with its markup intact: the body of the Markdown and PDF translations.

Code (fenced, indented, inline), maths, link targets, images, HTML tags and front matter never reach
the model: `protect` turns each into a placeholder such as ⟦3⟧, and `Protected.restore` puts it back
after the translation. `translate_parts` translates the pieces in parallel; a piece whose placeholders
do not all come back, or whose headings (their number and levels) differ from the original's, keeps its
original text, with a notice.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Generator
from dataclasses import dataclass, field
from pathlib import Path

from toolbox import update_ui

from ..runtime.parallel import DONE, Piece, ask_in_parallel, failures
from ..runtime.pieces import Sizer, sizer_for
from .tidy import close_fences, heading_levels

ANSWER_RATIO = 1.3  # a translation takes about as many tokens as its source, a little more for some languages
ANSWER_FIXED = 32  # tokens on top of the ratio, for a short piece's answer

# ---- target language -------------------------------------------------------------------------

_LANGUAGES = {  # code: (English name, Chinese name, what a user may type)
    "zh": ("Simplified Chinese", "简体中文", ("chinese", "zh", "zh-cn", "cn", "中文", "简体中文", "汉语", "简中")),
    "zh-tw": ("Traditional Chinese", "繁體中文", ("traditional chinese", "zh-tw", "zh-hk", "繁体中文", "繁體中文", "繁体")),
    "en": ("English", "英文", ("english", "en", "英文", "英语", "英語")),
    "ja": ("Japanese", "日文", ("japanese", "ja", "jp", "日文", "日语", "日本語")),
    "ko": ("Korean", "韩文", ("korean", "ko", "kr", "韩文", "韩语", "한국어")),
    "fr": ("French", "法文", ("french", "fr", "法文", "法语", "français", "francais")),
    "de": ("German", "德文", ("german", "de", "德文", "德语", "deutsch")),
    "es": ("Spanish", "西班牙文", ("spanish", "es", "西班牙文", "西班牙语", "español", "espanol")),
    "ru": ("Russian", "俄文", ("russian", "ru", "俄文", "俄语", "русский")),
}


@dataclass(frozen=True)
class Language:
    code: str  # in the output file's name
    en: str
    zh: str

    def name(self, lang: str) -> str:
        return self.zh if lang == "zh" else self.en


def target_language(value: str | None, lang: str) -> Language:
    """The language the user typed (a name or a code, in English or Chinese); Chinese or English when empty."""
    wanted = re.sub(r"\s+", " ", (value or "").strip()).lower()
    if not wanted:
        wanted = "zh" if lang == "zh" else "en"
    for code, (en, zh, aliases) in _LANGUAGES.items():
        if wanted in aliases or wanted == en.lower():
            return Language(code, en, zh)
    name = re.sub(r"[^\w\s-]", "", wanted)[:40].strip() or "English"
    code = re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-") or "translated"
    return Language(code, name, name)


# ---- protecting markup -----------------------------------------------------------------------

PLACEHOLDER = re.compile(r"⟦\s*(\d+)\s*⟧")
_FRONT_MATTER = re.compile(r"\A(?:---[ \t]*\n[\s\S]*?\n(?:---|\.\.\.)|\+\+\+[ \t]*\n[\s\S]*?\n\+\+\+)[ \t]*(?:\n|\Z)")
_FENCE = re.compile(r"^ {0,3}(`{3,}|~{3,})")
_LIST_ITEM = re.compile(r"^\s*(?:[-*+]|\d{1,9}[.)])\s")
_INLINE = [  # in this order: each pattern sees the text with the earlier matches already replaced
    r"\$\$[\s\S]+?\$\$",  # display maths
    r"\\\[[\s\S]+?\\\]|\\\([\s\S]+?\\\)",
    r"\\begin\{(equation|align|gather|multline|eqnarray|displaymath)(\*?)\}[\s\S]+?\\end\{\1\2\}",
    r"<!--[\s\S]*?-->",
    r"(?i)<(script|style|pre|code|math|svg)\b[\s\S]*?</\1\s*>",
    r"(?<!`)(`+)(?!`)(?:[^\n]|\n(?![ \t]*\n))+?(?<!`)\1(?!`)",  # inline code
    r"(?<![\\$])\$(?=[^\s$])(?:[^$\n\\]|\\.)+?(?<=[^\s\\])\$(?!\d)",  # inline maths
    r"!\[[^\]\n]*\](?:\([^)\n]*\)|\[[^\]\n]*\])",  # images
    r"(?m)^ {0,3}\[(?!\^)[^\]\n]+\]:[ \t]*\S.*$",  # link reference definitions
    r"(?<=\])\((?:[^()\n]|\([^()\n]*\))*\)|(?<=\])\[[^\]\n]*\]",  # link targets: (url "title") or [ref]
    r"\[\^[^\]\n]+\]",  # footnote marks
    r"<(?:https?|ftp|mailto):[^>\s]+>|<[^@\s<>]+@[^@\s<>]+>",  # autolinks
    r"</?[A-Za-z][A-Za-z0-9-]*(?:\s[^<>]*)?/?>",  # HTML tags
    r"\b(?:https?|ftp)://[^\s<>()\[\]]*[^\s<>()\[\].,;:!?'\"]",  # bare URLs
]
_INLINE_PATTERNS = [re.compile(pattern) for pattern in _INLINE]


@dataclass
class Protected:
    """A text with its untouchable parts replaced by placeholders, and those parts to put back."""

    text: str
    front_matter: str = ""
    originals: list[str] = field(default_factory=list)
    blocks: set[int] = field(default_factory=set)  # placeholders that stand on a line of their own
    verbatim: set[int] = field(default_factory=set)  # placeholder-like text that was in the document itself

    def keep(self, original: str, block: bool = False, verbatim: bool = False) -> str:
        self.originals.append(original)
        n = len(self.originals) - 1
        if block:
            self.blocks.add(n)
        if verbatim:
            self.verbatim.add(n)
        return f"⟦{n}⟧"

    def restore(self, text: str) -> str:
        """`text` with every placeholder replaced by what it stands for (placeholders inside those too)."""

        def back(match: re.Match) -> str:
            n = int(match.group(1))
            if n >= len(self.originals):
                return match.group(0)
            return self.originals[n] if n in self.verbatim else self.restore(self.originals[n])

        return PLACEHOLDER.sub(back, text)


def protect(text: str) -> Protected:
    """Replace front matter, code, maths, link targets, images and HTML in `text` with placeholders."""
    match = _FRONT_MATTER.match(text)
    front = match.group(0) if match and re.search(r"(?m)^[\w\"'-]+[ \t]*[:=]", match.group(0)) else ""
    protected = Protected("", front_matter=front)
    body = PLACEHOLDER.sub(lambda m: protected.keep(m.group(0), verbatim=True), text[len(front) :])
    body = _protect_blocks(body, protected)

    def keep(m: re.Match) -> str:  # a span that fills whole lines of its own (display maths, HTML) stays a block
        start, end = m.start(), m.end()
        whole = "\n" in m.group(0) and (start == 0 or body[start - 1] == "\n") and (end == len(body) or body[end] == "\n")
        return protected.keep(m.group(0), block=whole)

    for pattern in _INLINE_PATTERNS:
        body = pattern.sub(keep, body)
    protected.text = body
    return protected


def _protect_blocks(text: str, protected: Protected) -> str:
    """Fenced and indented code blocks, each replaced by a placeholder on a line of its own."""
    lines = text.split("\n")
    out: list[str] = []
    i, in_list = 0, False
    while i < len(lines):
        line = lines[i]
        fence = _FENCE.match(line)
        after_blank = not out or not out[-1].strip()
        if fence and not (fence.group(1)[0] == "`" and "`" in line.strip()[len(fence.group(1)) :]):
            mark = fence.group(1)
            closing = re.compile(rf"^ {{0,3}}{re.escape(mark[0])}{{{len(mark)},}}[ \t]*$")
            end = next((j for j in range(i + 1, len(lines)) if closing.match(lines[j])), len(lines) - 1)
            out.append(protected.keep("\n".join(lines[i : end + 1]), block=True))
            i = end + 1
            continue
        if after_blank and re.match(r"^(?: {4}|\t)", line) and line.strip() and not in_list:
            end = i
            while end + 1 < len(lines) and (re.match(r"^(?: {4}|\t)", lines[end + 1]) or not lines[end + 1].strip()):
                end += 1
            while not lines[end].strip():
                end -= 1
            out.append(protected.keep("\n".join(lines[i : end + 1]), block=True))
            i = end + 1
            continue
        if line.strip() and not line[:1].isspace():
            in_list = bool(_LIST_ITEM.match(line))
        out.append(line)
        i += 1
    return "\n".join(out)


def has_text(text: str) -> bool:
    """Whether a protected piece holds words to translate (not only placeholders, numbers and punctuation)."""
    return bool(re.search(r"[^\W\d_]", PLACEHOLDER.sub("", text)))


def _tidy(answer: str) -> str:
    """The model's answer without what it may wrap a translation in: a code fence, a preface."""
    text = PLACEHOLDER.sub(lambda m: f"⟦{m.group(1)}⟧", answer.strip())
    fenced = re.match(r"\A```[\w-]*[ \t]*\n([\s\S]*?)\n```\Z", text)
    if fenced:  # the model wrapped its answer in a code fence
        text = fenced.group(1).strip()
    return re.sub(r"\A(?:here is|here's|以下是|译文|翻译)[^\n]{0,60}[:：]\s*\n+", "", text, flags=re.IGNORECASE)


LOST_MARKUP, LOST_HEADINGS = "markup", "headings"


def answer_fault(source: str, answer: str) -> str | None:
    """Why the answer cannot replace `source`: LOST_MARKUP (empty, or a placeholder lost, added or repeated),
    LOST_HEADINGS (not the same headings at the same levels); None when it can."""
    text = _tidy(answer)
    if not text or Counter(PLACEHOLDER.findall(text)) != Counter(PLACEHOLDER.findall(source)):
        return LOST_MARKUP
    if heading_levels(text) != heading_levels(source):
        return LOST_HEADINGS
    return None


def settle_answer(source: str, answer: str, blocks: set[int]) -> str | None:
    """The model's translation of `source`, tidied; None when answer_fault finds a fault."""
    if answer_fault(source, answer):
        return None
    text = _tidy(answer)
    for n in PLACEHOLDER.findall(source):
        if int(n) in blocks:  # a code block or front matter keeps a line of its own
            text = re.sub(rf"[ \t]*⟦{n}⟧[ \t]*", f"\n\n⟦{n}⟧\n\n", text)
    text = close_fences(re.sub(r"\n{3,}", "\n\n", text).strip())
    lead = source[: len(source) - len(source.lstrip())]
    trail = source[len(source.rstrip()) :]
    return lead + text + trail


# ---- translating pieces ----------------------------------------------------------------------

SYSTEM = {
    "zh": "你是学术与技术文档的专业翻译，译文准确、通顺，符合目标语言的学术写作习惯。",
    "en": "You are a professional translator of academic and technical documents: accurate, fluent and idiomatic.",
}
PROMPT = {
    "zh": (
        "把下面的 Markdown 文本翻译成{language}。\n"
        "要求：\n"
        "- 只输出译文，不要解释，不要加前言，也不要用代码块包住译文。\n"
        "- 保留 Markdown 结构：标题的 #、列表符号、表格、强调和换行。\n"
        "- 形如 ⟦3⟧ 的标记代表代码、公式、链接或 HTML：每个都原样保留一次，放在译文中对应的位置。\n"
        "- 人名、引用编号（如 [12]）和数字保持不变；已经是{language}的部分原样保留。\n\n"
        "文本：\n\n{text}"
    ),
    "en": (
        "Translate the Markdown text below into {language}.\n"
        "Rules:\n"
        "- Output only the translation: no explanation, no preface, no code fence around it.\n"
        "- Keep the Markdown structure: heading #, list markers, tables, emphasis and line breaks.\n"
        "- Marks like ⟦3⟧ stand for code, formulas, links or HTML: copy each one exactly once, in the matching place.\n"
        "- Keep names, citation numbers such as [12] and numbers unchanged; leave any part already in {language} as it is.\n\n"
        "Text:\n\n{text}"
    ),
}


def _prompt_lang(language: Language) -> str:
    return "zh" if language.code.startswith("zh") else "en"


def translation_prompt(language: Language, text: str) -> str:
    lang = _prompt_lang(language)
    return PROMPT[lang].format(language=language.name(lang), text=text)


def translation_sizer(llm_kwargs: dict, config, language: Language) -> tuple[Sizer, int]:
    """The sizer for translation requests, and the longest piece whose translation fits the longest answer."""
    overhead = SYSTEM[_prompt_lang(language)] + translation_prompt(language, "")
    sizer = sizer_for(llm_kwargs, config, overhead, answer=ANSWER_FIXED, answer_ratio=ANSWER_RATIO)
    return sizer, sizer.piece_tokens


@dataclass
class Translation:
    """Every part of a document and what became of it; `texts` hold the translation or the source."""

    sources: list[str]
    texts: list[str]
    pieces: list[Piece | None]  # None: nothing to translate in that part (only code, maths, markup)
    lost_markup: list[int] = field(default_factory=list)  # numbers (from 1, among the pieces sent) that lost a placeholder
    lost_headings: list[int] = field(default_factory=list)  # ... whose headings differ from the original's
    done_parts: set[int] = field(default_factory=set)  # indexes of the parts that hold a translation

    @property
    def sent(self) -> list[Piece]:
        return [piece for piece in self.pieces if piece is not None]

    @property
    def done(self) -> int:
        return sum(piece.state == DONE for piece in self.sent)

    @property
    def translated(self) -> int:
        return len(self.done_parts)


def translate_parts(
    chatbot, history: list, llm_kwargs: dict, sizer: Sizer, parts: list[str], language: Language, blocks: set[int], heading: str
) -> Generator[tuple, None, Translation]:
    """Translate the protected `parts` in parallel; a part that failed, stopped or lost markup keeps its source."""
    system = SYSTEM[_prompt_lang(language)]
    pieces = [
        Piece(translation_prompt(language, part.strip()), max_tokens=sizer.answer_tokens) if has_text(part) else None
        for part in parts
    ]
    sent = [piece for piece in pieces if piece is not None]
    if sent:
        yield from ask_in_parallel(chatbot, history, sent, llm_kwargs, system, count=sizer.counter.count, heading=heading)
    result = Translation(list(parts), list(parts), pieces)
    for i, (part, piece) in enumerate(zip(parts, pieces, strict=True)):
        if piece is None or piece.state != DONE:
            continue
        fault = answer_fault(part, piece.answer)
        if fault:
            (result.lost_headings if fault == LOST_HEADINGS else result.lost_markup).append(sent.index(piece) + 1)
        else:
            result.texts[i] = settle_answer(part, piece.answer, blocks)
            result.done_parts.add(i)
    return result


def report_file(chatbot, history: list, result: Translation, saved: list[Path]) -> Generator:
    """Close one file's message with what became of its pieces and the file(s) written; the note joins the history."""
    note = outcome_note(result, chatbot, ", ".join(path.name for path in saved))
    chatbot[-1] = [chatbot[-1][0], note + "".join(f"\n\n📄 {path.name}" for path in saved)]
    history.extend([chatbot[-1][0], note])
    yield from update_ui(chatbot, history)


def outcome_note(result: Translation, chatbot, saved_names: str) -> str:
    """The closing lines for one file: pieces translated, kept, failed or stopped, and the file(s) written."""
    say, total, done = chatbot.say, len(result.sent), result.translated
    lines = [say(zh=f"已翻译 {done}/{total} 段 → {saved_names}", en=f"Translated {done} of {total} pieces → {saved_names}")]
    if result.lost_markup:
        numbers = ", ".join(map(str, result.lost_markup))
        lines.append(
            say(
                zh=f"第 {numbers} 段的译文丢了代码、公式或链接的占位符，这些段保留原文。",
                en=f"In piece(s) {numbers} the model dropped a placeholder for code, maths or a link: they keep the original text.",
            )
        )
    if result.lost_headings:
        numbers = ", ".join(map(str, result.lost_headings))
        lines.append(
            say(
                zh=f"第 {numbers} 段的译文与原文的标题（数量或级别）不一致，这些段保留原文。",
                en=f"In piece(s) {numbers} the translation did not keep the original's headings (their number or levels): "
                "they keep the original text.",
            )
        )
    failed = failures(result.sent, chatbot.lang)
    if failed:
        lines.append(say(zh="以下片段失败，保留原文：", en="These pieces failed and keep the original text:") + "\n" + failed)
    if chatbot.stopped and result.done < total:
        lines.append(
            say(
                zh=f"已停止：完成了 {result.done}/{total} 段。文件里已完成的段落是译文，其余保留原文。",
                en=f"Stopped after {result.done} of {total} pieces: the file has those translated and the rest in the original.",
            )
        )
    return "\n\n".join(lines)

"""PDF 论文翻译: an uploaded paper translated piece by piece, as a bilingual Markdown file and a two-column HTML page.

The text comes from documents.pdf_text.read_pdf (headings kept, running headers dropped). Each
section's text is cut into pieces that are translated in parallel; every piece is written as the
original followed by its translation, under the original headings. Formulas, URLs and inline markup
are protected as in the Markdown translation (documents.translation); the references stay
untranslated at the end.
"""

from __future__ import annotations

import html
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass

from toolbox import CatchException, update_ui

from .documents.split import split_text
from .documents.translation import (
    Language,
    Protected,
    Translation,
    has_text,
    protect,
    report_file,
    target_language,
    translate_parts,
    translation_sizer,
)
from .runtime.errors import PluginInputError
from .runtime.files import files_of_type
from .runtime.registry import Field, Plugin

_HEADING = re.compile(r"^(#{1,6})[ \t]+(.+)$")


@dataclass
class Section:
    heading: str  # the heading line as written ("## 2 Method"); empty for text before the first heading
    parts: list[str]  # the section's text in pieces, protected


def sections_of(protected_text: str, limit: int, count: Callable[[str], int]) -> list[Section]:
    """The text split at its headings; each section's text cut into pieces of at most `limit` tokens."""
    sections, heading, lines = [], "", []

    def close() -> None:
        body = "\n".join(lines).strip()
        if heading or body:
            sections.append(Section(heading, split_text(body + "\n", limit, count) if body else []))

    for line in protected_text.split("\n"):
        if _HEADING.match(line):
            close()
            heading, lines = line.strip(), []
        else:
            lines.append(line)
    close()
    return sections


def _quote(text: str) -> str:
    return "\n".join(f"> {line}".rstrip() for line in text.strip().split("\n"))


@dataclass
class Bilingual:
    """A translated paper ready to be written: its sections, what became of each piece, its references."""

    sections: list[Section]
    protected: Protected
    result: Translation
    references: str
    labels: dict[str, str]  # "source", "target": the column titles; "missing": the note for a piece not translated

    def rows(self) -> Iterator[tuple[int, str, str | None]]:
        """(heading level, heading, None) or (0, original, translation or None), in order, markup restored."""
        k = 0
        for section in self.sections:
            if section.heading:
                marks, name = _HEADING.match(section.heading).groups()
                yield len(marks), self.protected.restore(name), None
            for part in section.parts:
                kept = k in self.result.done_parts or self.result.pieces[k] is None  # translated, or nothing to translate
                yield 0, self.protected.restore(part).strip(), self.protected.restore(self.result.texts[k]) if kept else None
                k += 1


def bilingual_markdown(paper: Bilingual) -> str:
    """Each piece as the original, then its translation in a quote (or a note that it was not translated)."""
    out = []
    for level, text, translation in paper.rows():
        if level:
            out.append(f"{'#' * level} {text}")
        else:
            out += [text, _quote(translation) if translation is not None else f"*{paper.labels['missing']}*"]
    if paper.references:
        out.append(paper.references.strip())
    return "\n\n".join(out) + "\n"


PAGE = """<!doctype html>
<html lang="{lang}"><head><meta charset="utf-8"><title>{title}</title>
<style>
body {{ font-family: system-ui, "Noto Sans CJK SC", sans-serif; max-width: 1280px; margin: 2em auto; padding: 0 1em;
  line-height: 1.6; color: #222; }}
.row {{ display: grid; grid-template-columns: 1fr 1fr; gap: 2em; padding: .4em 0; border-bottom: 1px solid #eee; }}
.head {{ font-weight: 600; color: #666; border-bottom: 2px solid #ccc; }}
.missing {{ color: #999; font-style: italic; }}
.references {{ font-size: .9em; color: #444; }}
p {{ margin: .4em 0; white-space: pre-wrap; }}
</style></head><body>
{body}
</body></html>
"""


def _paragraphs(text: str) -> str:
    return "\n".join(f"<p>{html.escape(p.strip())}</p>" for p in re.split(r"\n[ \t]*\n", text.strip()) if p.strip())


def bilingual_html(paper: Bilingual, lang: str) -> str:
    """A self-contained two-column page: original on the left, translation on the right."""
    labels = paper.labels
    rows = [f'<div class="row head"><div>{html.escape(labels["source"])}</div><div>{html.escape(labels["target"])}</div></div>']
    title = ""
    for level, text, translation in paper.rows():
        if level:
            title = title or text
            rows.append(f"<h{level}>{html.escape(text)}</h{level}>")
            continue
        if translation is not None:
            right = _paragraphs(translation)
        else:
            right = f'<p class="missing">{html.escape(labels["missing"])}</p>'
        rows.append(f'<div class="row"><div>{_paragraphs(text)}</div><div>{right}</div></div>')
    if paper.references:
        lines = paper.references.strip().split("\n", 1)
        heading = _HEADING.match(lines[0])
        rows.append(f"<h2>{html.escape(heading.group(2) if heading else lines[0])}</h2>")
        rows.append(f'<div class="references">{_paragraphs(lines[1] if len(lines) > 1 else "")}</div>')
    return PAGE.format(lang=lang, title=html.escape(title or labels["source"]), body="\n".join(rows))


def _labels(chatbot, language: Language) -> dict[str, str]:
    return {
        "source": chatbot.say(zh="原文", en="Original"),
        "target": language.name(chatbot.lang),
        "missing": chatbot.say(zh="（未翻译）", en="(not translated)"),
    }


@CatchException
def pdf_translate(txt, llm_kwargs, plugin_kwargs, chatbot, history, system_prompt, user_request):
    from .documents.pdf_text import read_pdf, split_references

    files = files_of_type(chatbot, (".pdf",), txt)
    language = target_language((plugin_kwargs or {}).get("language"), chatbot.lang)
    say = chatbot.say
    for path in files:
        chatbot.append(
            [
                say(zh=f"翻译 {path.name} → {language.zh}", en=f"Translate {path.name} → {language.en}"),
                say(zh="正在读取…", en="Reading…"),
            ]
        )
        yield from update_ui(chatbot, history)
        try:
            body, references = split_references(read_pdf(path))
        except PluginInputError as exc:
            chatbot[-1] = [chatbot[-1][0], f"⚠ {exc.text(chatbot.lang)}"]
            yield from update_ui(chatbot, history)
            continue
        protected = protect(body)
        sizer, limit = translation_sizer(llm_kwargs, chatbot.config, language)
        sections = sections_of(protected.text, limit, sizer.counter)
        parts = [part for section in sections for part in section.parts]
        n = sum(map(has_text, parts))
        heading = say(zh=f"**{path.name}** → {language.zh}：{n} 段", en=f"**{path.name}** → {language.en}: {n} pieces")
        result = yield from translate_parts(chatbot, history, llm_kwargs, sizer, parts, language, protected.blocks, heading)
        paper = Bilingual(sections, protected, result, references, _labels(chatbot, language))
        page_lang = "zh-CN" if language.code == "zh" else language.code
        saved_md = chatbot.write_output(f"{path.stem}.{language.code}.md", bilingual_markdown(paper))
        saved_html = chatbot.write_output(f"{path.stem}.{language.code}.html", bilingual_html(paper, page_lang))
        yield from report_file(chatbot, history, result, [saved_md, saved_html])
        if chatbot.stopped:
            return


PLUGIN = Plugin(
    key="pdf_translate",
    zh="PDF 论文翻译",
    en="Translate a PDF paper",
    group="paper",
    about_zh="上传 PDF 论文，逐段译成目标语言（默认中文）：输出双语 Markdown（每段原文在前、译文在后，沿用原标题）和左右对照的 HTML。"
    "公式与链接原样保留，参考文献不翻译、附在末尾。扫描版（无文字层）PDF 不支持。",
    about_en="Upload a PDF paper and translate it piece by piece into the target language (English by default): a bilingual "
    "Markdown file (each piece's original, then its translation, under the original headings) and a two-column HTML page. "
    "Formulas and links are kept; the references stay untranslated at the end. Scanned PDFs (no text layer) are not supported.",
    run=pdf_translate,
    files=(".pdf",),
    fields=(Field("language", zh="目标语言（默认中文）", en="Target language (default English)"),),
)

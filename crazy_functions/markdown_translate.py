"""Markdown 翻译: an uploaded Markdown (or text) file translated into another language, its markup left intact.

Code, maths, link targets, images, HTML tags and front matter stay exactly as they were (see
documents.translation); the document is cut at headings and paragraphs and its pieces translated in
parallel.
"""

from __future__ import annotations

from collections.abc import Generator

from toolbox import CatchException, update_ui

from .documents.split import split_text
from .documents.translation import (
    Language,
    Translation,
    has_text,
    protect,
    report_file,
    target_language,
    translate_parts,
    translation_sizer,
)
from .runtime.files import files_of_type, read_text
from .runtime.registry import Field, Plugin


def translate_markdown(
    chatbot, history: list, llm_kwargs: dict, text: str, language: Language, name: str
) -> Generator[tuple, None, tuple[str, Translation]]:
    """The translated document (markup restored) and what became of each piece."""
    newline = "\r\n" if "\r\n" in text else "\n"
    protected = protect(text.replace("\r\n", "\n"))
    sizer, limit = translation_sizer(llm_kwargs, chatbot.config, language)
    parts = split_text(protected.text, limit, sizer.counter)
    n = sum(map(has_text, parts))
    heading = chatbot.say(zh=f"**{name}** → {language.zh}：{n} 段", en=f"**{name}** → {language.en}: {n} pieces")
    result = yield from translate_parts(chatbot, history, llm_kwargs, sizer, parts, language, protected.blocks, heading)
    translated = protected.front_matter + protected.restore("".join(result.texts))
    return translated.replace("\n", newline), result


@CatchException
def markdown_translate(txt, llm_kwargs, plugin_kwargs, chatbot, history, system_prompt, user_request):
    files = files_of_type(chatbot, (".md", ".markdown", ".txt"), txt)
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
        translated, result = yield from translate_markdown(chatbot, history, llm_kwargs, read_text(path), language, path.name)
        saved = chatbot.write_output(f"{path.stem}.{language.code}.md", translated)
        yield from report_file(chatbot, history, result, [saved])
        if chatbot.stopped:
            return


PLUGIN = Plugin(
    key="markdown_translate",
    zh="Markdown 翻译",
    en="Translate Markdown",
    group="paper",
    about_zh="上传 Markdown 或文本文件，译成目标语言（默认中文）。代码、公式、链接、图片、HTML 与 front matter 原样保留；"
    "按标题和段落分段并行翻译，输出 <文件名>.<语言>.md。",
    about_en="Upload a Markdown or text file and translate it into the target language (English by default). Code, maths, "
    "links, images, HTML and front matter stay exactly as they were; pieces cut at headings and paragraphs are translated "
    "in parallel into <name>.<language>.md.",
    run=markdown_translate,
    files=(".md", ".markdown", ".txt"),
    fields=(Field("language", zh="目标语言（默认中文）", en="Target language (default English)"),),
)

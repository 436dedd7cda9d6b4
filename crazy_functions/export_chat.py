"""对话导出: the conversation so far as a Markdown or an HTML file."""

from __future__ import annotations

import html
import time

from toolbox import CatchException, update_ui

from .runtime.registry import Field, Plugin

PAGE = """<!doctype html>
<html lang="{lang}"><head><meta charset="utf-8"><title>{title}</title>
<style>
body {{ font-family: system-ui, "Noto Sans CJK SC", sans-serif; max-width: 860px; margin: 2em auto; line-height: 1.6; }}
.q {{ background: #eef3ff; border-radius: 8px; padding: .6em 1em; margin: 1.2em 0 .4em; white-space: pre-wrap; }}
.a {{ border-left: 3px solid #ccd; padding: .2em 1em; white-space: pre-wrap; }}
</style></head><body>
<h1>{title}</h1>
{body}
</body></html>
"""


def as_markdown(pairs: list, title: str, lang: str) -> str:
    ask, answer = ("问", "答") if lang == "zh" else ("Question", "Answer")
    parts = [f"# {title}", ""]
    for question, reply in pairs:
        parts += [f"## {ask}", "", str(question or ""), "", f"### {answer}", "", str(reply or ""), ""]
    return "\n".join(parts)


def as_html(pairs: list, title: str, lang: str) -> str:
    body = "\n".join(
        f'<div class="q">{html.escape(str(q or ""))}</div>\n<div class="a">{html.escape(str(a or ""))}</div>' for q, a in pairs
    )
    return PAGE.format(lang="zh-CN" if lang == "zh" else "en", title=html.escape(title), body=body)


@CatchException
def export_chat(txt, llm_kwargs, plugin_kwargs, chatbot, history, system_prompt, user_request):
    pairs = [list(pair) for pair in chatbot]
    title = chatbot.say(zh="对话记录", en="Conversation") + time.strftime(" %Y-%m-%d %H:%M")
    wanted = (plugin_kwargs.get("format") or "md").strip().lower()
    stamp = time.strftime("%Y%m%d-%H%M%S")
    if "htm" in wanted:
        saved = chatbot.write_output(f"conversation-{stamp}.html", as_html(pairs, title, chatbot.lang))
    else:
        saved = chatbot.write_output(f"conversation-{stamp}.md", as_markdown(pairs, title, chatbot.lang))
    note = chatbot.say(zh=f"已导出 {len(pairs)} 轮对话：{saved.name}", en=f"Exported {len(pairs)} turns: {saved.name}")
    chatbot.append([chatbot.say(zh="对话导出", en="Export the conversation"), f"📄 {note}"])
    yield from update_ui(chatbot, history)


PLUGIN = Plugin(
    key="export_chat",
    zh="对话导出",
    en="Export the conversation",
    group="tools",
    about_zh="把当前对话导出为 Markdown 或 HTML 文件（在「格式」栏填 md 或 html）。",
    about_en="Save the current conversation as a Markdown or HTML file (type md or html in the Format field).",
    run=export_chat,
    fields=(Field("format", zh="格式（md / html）", en="Format (md / html)", default="md"),),
)

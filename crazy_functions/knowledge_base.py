"""知识库: the knowledge-base plugins of the page: add uploads to a base, ask it, see and tidy it.

The bases are the user's own (knowledge.bases.kb_user: the signed-in user, or the machine's owner on a page
without sign-in, the same the command line sees). Adding runs as a job in its own thread: the plugin shows
its progress (files, chunks, embeddings/s) until it ends; Stop ends it after the file being embedded, and
what was finished stays. An answer streams like a chat answer, with the figures line, and ends with its
citations, each opening to the passage it cites.
"""

from __future__ import annotations

import html
import threading

from knowledge.answering import ask, place
from knowledge.bases import KnowledgeError, create_base, drop_base, kb_user, list_bases, open_base
from knowledge.indexing import Progress, add_paths
from knowledge.readers import DOCUMENT_SUFFIXES
from request_llms.compat import options_from
from request_llms.embeddings import embed_model
from request_llms.errors import LLMError
from request_llms.redraw import Throttle
from request_llms.request import Status
from request_llms.thinking import Rethought, Thought
from toolbox import CatchException, update_ui
from webui.figures import figures

from .documents.code_files import LANGUAGES
from .runtime.errors import PluginInputError
from .runtime.files import files_of_type
from .runtime.registry import Field, Plugin

TAKES = tuple(sorted(DOCUMENT_SUFFIXES | {".zip"} | set(LANGUAGES)))
POLL_SECONDS = 0.5
BAR = 20


def _base_name(plugin_kwargs: dict) -> str:
    name = (plugin_kwargs.get("base") or "").strip()
    if not name:
        raise PluginInputError(
            en="Name the knowledge base in the Knowledge base field, e.g. thesis-papers.",
            zh="请在「知识库」栏填写知识库名称，例如 论文资料。",
        )
    return name


def _bar(state: Progress) -> str:
    filled = round(BAR * state.done / state.files) if state.files else 0
    return "▓" * filled + "░" * (BAR - filled)


@CatchException
def kb_add(txt, llm_kwargs, plugin_kwargs, chatbot, history, system_prompt, user_request):
    say = chatbot.say
    config = chatbot.config
    files = files_of_type(chatbot, TAKES, txt)
    name = _base_name(plugin_kwargs)
    base = create_base(config, kb_user(chatbot.user, config), name, embed_model(config).text)
    title = say(zh=f"向知识库「{base.name}」添加 {len(files)} 个文件", en=f"Add {len(files)} file(s) to {base.name!r}")
    chatbot.append([title, "…"])
    yield from update_ui(chatbot, history)
    progress: list[Progress] = []
    failure: list[BaseException] = []

    def job() -> None:
        try:
            progress.append(add_paths(base, files, config, chatbot.cancel, lambda s: progress.append(s)))
        except BaseException as exc:  # noqa: BLE001 - shown in the chat below, in the user's language
            failure.append(exc)

    worker = threading.Thread(target=job, name=f"kb-add-{base.name}", daemon=True)
    worker.start()
    while worker.is_alive():
        worker.join(POLL_SECONDS)
        if progress:
            state = progress[-1]
            chatbot[-1] = [title, f"`{_bar(state)}` {state.line(chatbot.lang)}"]
            yield from update_ui(chatbot, history)
    if failure:
        raise failure[0]
    state = progress[-1]
    lines = [f"✅ {state.summary(chatbot.lang)}" if not state.stopped else f"⏹ {state.summary(chatbot.lang)}"]
    lines += [f"- ✗ {html.escape(name)}: {why.text(chatbot.lang)}" for name, why in state.failed]
    if state.stopped:
        lines.append(say(zh="已完成的文件已保存；再次添加同样的文件会从中断处继续。", en="Finished files are kept; "
                         "adding the same files again goes on where it stopped."))  # fmt: skip
    chatbot[-1] = [title, "\n".join(lines)]
    yield from update_ui(chatbot, history)


def _citations(answer, lang: str) -> str:
    head = "引用" if lang == "zh" else "Sources"
    items = []
    for n, hit in enumerate(answer.cited, start=1):
        passage = html.escape(hit.chunk.text).replace("\n", "<br>")
        items.append(f"<details><summary>[{n}] {html.escape(place(hit, lang))}</summary>\n\n{passage}\n\n</details>")
    return f"**{head}**\n\n" + "\n".join(items)


@CatchException
def kb_ask(txt, llm_kwargs, plugin_kwargs, chatbot, history, system_prompt, user_request):
    say = chatbot.say
    config = chatbot.config
    question = (txt or "").strip()
    if not question:
        raise PluginInputError(en="Write the question in the box first.", zh="请先在输入框中写下问题。")
    spec = chatbot.allowed(llm_kwargs["llm_model"])[0]
    base = open_base(config, kb_user(chatbot.user, config), _base_name(plugin_kwargs))
    chatbot.append([question, say(zh="正在检索…", en="Searching…")])
    yield from update_ui(chatbot, history)
    answer = ask(base, question, spec.text, config, chatbot.lang, chatbot.cancel, options=options_from(llm_kwargs))
    notes = "".join(f"> {n.text(chatbot.lang)}\n\n" for n in answer.notices)
    if answer.stream is None:
        chatbot[-1] = [question, notes + answer.nothing_found(chatbot.lang)]
        history.extend([question, chatbot[-1][1]])
        yield from update_ui(chatbot, history)
        return
    throttle, status = Throttle(), ""
    try:
        for event in answer.stream.events():
            if isinstance(event, Status):
                status = f"*{event.text(chatbot.lang)}*\n\n"
            elif isinstance(event, Thought | Rethought):
                continue
            if throttle.due():
                chatbot[-1] = [question, notes + status + answer.stream.text]
                yield from update_ui(chatbot, history)
    except LLMError as exc:
        chatbot[-1] = [
            question,
            notes + answer.stream.text + f"\n\n{exc.text(chatbot.lang)}\n\n" + _citations(answer, chatbot.lang),
        ]
        yield from update_ui(chatbot, history)
        return
    line = figures(answer.stream, chatbot.lang)
    body = notes + answer.stream.text + "\n\n" + _citations(answer, chatbot.lang) + (f"\n\n<sub>{line}</sub>" if line else "")
    chatbot[-1] = [question, body]
    history.extend([question, answer.stream.text])
    yield from update_ui(chatbot, history)


@CatchException
def kb_manage(txt, llm_kwargs, plugin_kwargs, chatbot, history, system_prompt, user_request):
    say = chatbot.say
    config = chatbot.config
    user = kb_user(chatbot.user, config)
    name = (plugin_kwargs.get("base") or "").strip()
    remove = (plugin_kwargs.get("remove") or "").strip()
    drop = (plugin_kwargs.get("drop") or "").strip()
    if not name:
        bases = list_bases(config, user)
        rows = [f"| {html.escape(b.name)} | {len(b.store.files())} | {b.store.count_chunks()} | {b.model} |" for b in bases]
        head = say(zh="| 知识库 | 文件 | 片段 | 向量模型 |", en="| Knowledge base | Files | Chunks | Embedding model |")
        body = (
            "\n".join([head, "|---|---|---|---|", *rows])
            if rows
            else say(
                zh="还没有知识库：上传文件，在「知识库」栏填一个名称，运行「知识库：添加文件」。",
                en="No knowledge bases yet: upload files, name one in the Knowledge base field and run "
                "“Knowledge base: add files”.",
            )
        )
        chatbot.append([say(zh="我的知识库", en="My knowledge bases"), body])
        yield from update_ui(chatbot, history)
        return
    base = open_base(config, user, name)
    if drop:
        if drop != base.name:
            raise KnowledgeError(
                en=f"To delete {base.name!r}, type its name exactly in the Delete field.",
                zh=f"如要删除「{base.name}」，请在「删除」栏准确填写它的名称。",
            )
        drop_base(base)
        chatbot.append([say(zh=f"删除知识库「{base.name}」", en=f"Delete {base.name!r}"), "✅"])
        yield from update_ui(chatbot, history)
        return
    if remove:
        if not base.store.remove_file(remove):
            raise KnowledgeError(
                en=f"{base.name!r} has no file named {remove!r}.", zh=f"知识库「{base.name}」中没有文件「{remove}」。"
            )
        chatbot.append([say(zh=f"从「{base.name}」移除 {remove}", en=f"Remove {remove} from {base.name!r}"), "✅"])
        yield from update_ui(chatbot, history)
        return
    records = base.store.files()
    head = say(zh="| 文件 | 状态 | 片段 | 添加时间 |", en="| File | State | Chunks | Added |")
    rows = []
    for record in records:
        row = record.as_dict(chatbot.lang)
        state = say(zh="已索引", en="indexed") if record.state == "indexed" else "✗ " + (row["reason"] or "")
        if record.state == "indexed" and record.model != base.model:
            state = say(zh="待重建索引", en="to re-index")
        rows.append(f"| {html.escape(record.name)} | {html.escape(state)} | {record.chunks} | {row['added']} |")
    title = say(zh=f"知识库「{base.name}」（{base.model}）", en=f"Knowledge base {base.name!r} ({base.model})")
    chatbot.append([title, "\n".join([head, "|---|---|---|---|", *rows]) if rows else say(zh="（空）", en="(empty)")])
    yield from update_ui(chatbot, history)


BASE_FIELD = Field("base", zh="知识库", en="Knowledge base")

PLUGINS = (
    Plugin(
        key="kb_add",
        zh="知识库：添加文件",
        en="Knowledge base: add files",
        group="knowledge",
        about_zh="把上传的文件（PDF、Word、Markdown、LaTeX、文本、源代码或它们的 zip）加入「知识库」栏所填的知识库"
        "（没有则新建）。内容未变的文件不会重复处理；可随时停止，已完成的文件会保留。",
        about_en="Add the uploaded files (PDF, Word, Markdown, LaTeX, text, source code, or zips of them) to the base "
        "named in the Knowledge base field (made if new). Unchanged files cost nothing; Stop keeps what was finished.",
        run=kb_add,
        files=TAKES,
        fields=(BASE_FIELD,),
    ),
    Plugin(
        key="kb_ask",
        zh="知识库：提问",
        en="Knowledge base: ask",
        group="knowledge",
        about_zh="用所选模型回答输入框中的问题，只依据「知识库」栏所填知识库中检索到的片段，每个论断注明出处 [n]，"
        "点开引用可看原文；找不到相关内容时直接说明。",
        about_en="Answer the question in the box with the chosen model from the passages found in the base named in "
        "the Knowledge base field, citing [n] for every claim; open a citation to read its passage. When nothing "
        "relevant is found, it says so.",
        run=kb_ask,
        fields=(BASE_FIELD,),
    ),
    Plugin(
        key="kb_manage",
        zh="知识库：查看与管理",
        en="Knowledge base: view and manage",
        group="knowledge",
        about_zh="「知识库」栏留空：列出你的知识库；填写名称：列出其中的文件及状态。「移除文件」栏填文件名可移除该文件；"
        "「删除」栏再次填写知识库名称可删除整个知识库。",
        about_en="Knowledge base field empty: your bases; a name: its files and their state. Type a file's name in "
        "Remove file to take it out; type the base's name again in Delete to delete the whole base.",
        run=kb_manage,
        fields=(
            BASE_FIELD,
            Field("remove", zh="移除文件", en="Remove file"),
            Field("drop", zh="删除（再次填写知识库名称）", en="Delete (type the base's name again)"),
        ),
    ),
)

"""A cited answer from a base: the passages found, numbered, given to a chat model within its window.

The passages that count as found (retrieval.Hit.relevant) go to the model best first, as many as fit its
context budget after the question, the instructions and room for the answer; each is numbered [n] and
the model is told to cite them so, and to say when they do not answer the question. With no passage
found, no model is asked: the answer says so, in the user's language.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from request_llms.chat import ChatStream, chat
from request_llms.messages import MESSAGE_OVERHEAD, estimate_tokens
from request_llms.model_spec import ModelSpec, parse_model
from request_llms.request import CancelToken, ChatOptions
from request_llms.runtime import runtime_of
from request_llms.text import Text

from .bases import Base
from .retrieval import Found, Hit, search

DEFAULT_WINDOW = 8192  # a model whose server does not say its window (cloud models)
ANSWER_TOKENS = 1024
SEARCHED = 8  # passages looked up for a question; as many as fit are given to the model

SYSTEM = Text(
    zh="你根据用户知识库中的文献片段回答问题。只使用下面编号的片段，不要使用片段以外的知识。"
    "每个论断后用方括号注明出处编号，例如 [1] 或 [2][3]。若片段不足以回答问题，直接说明知识库中没有找到答案，不要编造。"
    "用中文回答。",
    en="You answer questions from passages of the user's own papers. Use only the numbered passages below, "
    "nothing else you know. Cite the passage after every claim with its number in brackets, e.g. [1] or [2][3]. "
    "If the passages do not answer the question, say plainly that the knowledge base does not answer it; never "
    "invent an answer. Answer in English.",
)
NOTHING_FOUND = Text(
    zh="知识库「{base}」中没有找到与这个问题相关的内容，因此不作回答（以免编造）。可以换个说法，或先添加相关文献。",
    en="Nothing in the knowledge base {base!r} is about this question, so no answer is given (rather than an "
    "invented one). Ask it another way, or add the papers that answer it first.",
)


def place(hit_or_chunk, lang: str) -> str:
    """Where a passage is: file, page and section, as a citation shows it."""
    chunk = getattr(hit_or_chunk, "chunk", hit_or_chunk)
    parts = [chunk.file]
    if chunk.page:
        pages = f"{chunk.page}" if chunk.page_end in (None, chunk.page) else f"{chunk.page}–{chunk.page_end}"
        parts.append(f"第 {pages} 页" if lang == "zh" else f"p. {pages}")
    if chunk.section:
        parts.append(chunk.section)
    return " · ".join(parts)


@dataclass
class Answer:
    """What `ask` returns at once: the passages it gives the model and the stream of the model's answer."""

    base: str
    question: str
    cited: list[Hit]  # numbered [1]..[n] in this order
    stream: ChatStream | None  # None when nothing was found
    notices: list[Text] = field(default_factory=list)

    def nothing_found(self, lang: str) -> str:
        return NOTHING_FOUND.text(lang).format(base=self.base)

    def citations(self) -> list[dict]:
        return [
            {"n": n, "file": h.chunk.file, "page": h.chunk.page, "section": h.chunk.section, "text": h.chunk.text}
            for n, h in enumerate(self.cited, start=1)
        ]


def window_of(spec: ModelSpec, config) -> int:
    return runtime_of(config).backend_for(spec).context_budget(spec) or DEFAULT_WINDOW


def ask(
    base: Base,
    question: str,
    model: str,
    config,
    lang: str,
    cancel: CancelToken | None = None,
    files: list[str] | None = None,
    options: ChatOptions | None = None,
) -> Answer:
    """Search `base` for `question` and start the cited answer of `model` (the stream is read by the caller)."""
    cancel = cancel or CancelToken()
    spec = parse_model(model)
    found = search(base, question, config, k=SEARCHED, files=files, cancel=cancel)
    notices = model_notices(base, found, config) + found.notices
    relevant = found.relevant
    if not relevant:
        return Answer(base.name, question, [], None, notices)
    system = SYSTEM.text(lang)
    window = window_of(spec, config)
    answer = min(ANSWER_TOKENS, window // 4)
    room = window - answer - estimate_tokens(system) - estimate_tokens(question) - 4 * MESSAGE_OVERHEAD - window // 50
    given: list[Hit] = []
    for hit in relevant:
        cost = estimate_tokens(_passage(len(given) + 1, hit, lang))
        if cost > room:
            break
        given.append(hit)
        room -= cost
    if not given:  # the window is smaller than one passage: the best one, cut to fit
        given = relevant[:1]
    prompt = _prompt(given, question, lang, max(room, 64) if len(given) == 1 else None)
    options = options or ChatOptions(max_tokens=answer)
    stream = chat(spec, prompt, system=system, options=options, cancel=cancel, config=config, affinity=f"kb:{base.name}")
    return Answer(base.name, question, given, stream, notices)


def _passage(n: int, hit: Hit, lang: str) -> str:
    return f"[{n}] ({place(hit, lang)})\n{hit.chunk.text}"


def _prompt(given: list[Hit], question: str, lang: str, cut: int | None) -> str:
    passages = "\n\n".join(_passage(n, hit, lang) for n, hit in enumerate(given, start=1))
    if cut is not None:
        passages = passages[: cut * 3]
    head = "知识库片段：" if lang == "zh" else "Passages:"
    ask_line = "问题：" if lang == "zh" else "Question: "
    return f"{head}\n\n{passages}\n\n{ask_line}{question}"


def model_notices(base: Base, found: Found, config) -> list[Text]:
    """What the user should know about the base's embedding model and the state of its files."""
    notices = []
    configured = config["EMBED_MODEL"]
    if configured and configured != found.model:
        notices.append(
            Text(
                zh=f"知识库「{base.name}」用 {found.model} 建立索引，与当前 EMBED_MODEL（{configured}）不同："
                f"检索仍用 {found.model}。如需改用新模型，请重建索引（kb reindex {base.name}）。",
                en=f"The knowledge base {base.name!r} was indexed with {found.model}, not the EMBED_MODEL now set "
                f"({configured}): it is searched with {found.model}. To move it to the new model, re-index it "
                f"(kb reindex {base.name}).",
            )
        )
    records = base.store.files()
    if not records:
        notices.append(
            Text(
                zh=f"知识库「{base.name}」还没有文件：请先添加（kb add {base.name} 文件...）。",
                en=f"The knowledge base {base.name!r} has no files yet: add some first (kb add {base.name} FILE...).",
            )
        )
    failed = [r.name for r in records if r.state == "failed"]
    stale = [r.name for r in records if r.state == "indexed" and r.model != found.model]
    if failed:
        names = ", ".join(failed[:5]) + (" …" if len(failed) > 5 else "")
        notices.append(
            Text(
                zh=f"有 {len(failed)} 个文件未能建立索引，未参与检索：{names}（kb list {base.name} 可查看原因）。",
                en=f"{len(failed)} file(s) could not be indexed and were not searched: {names} (kb list {base.name} says why).",
            )
        )
    if stale:
        notices.append(
            Text(
                zh=f"有 {len(stale)} 个文件尚未用 {found.model} 重建索引，只按关键词检索：请再次运行 kb reindex {base.name}。",
                en=f"{len(stale)} file(s) are not yet re-indexed with {found.model} and were searched by keywords "
                f"only: run kb reindex {base.name} again.",
            )
        )
    return notices

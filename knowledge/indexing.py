"""Adding documents to a base: read, cut into chunks, embed, and write each file whole.

A file's content hash decides what is done: the same file again costs a hash and nothing more; a changed
file's chunks replace the old ones; a file that cannot be read is kept as failed, with why, and tried
again next time. Each file is written in one transaction after all its vectors are made, so a stopped
or killed job leaves the files it finished and nothing half-written; adding the same paths again goes on
where it stopped. One job a base at a time (bases.indexing_lock).

A base embeds with the model it was made with. `reindex` moves it to another: the chunks' stored text is
embedded again, file by file; until a file is done its vectors are left out of searches (its keywords
still count), and running it again goes on where it stopped.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path

from request_llms.embeddings import embed
from request_llms.errors import LLMError
from request_llms.request import CancelToken
from request_llms.text import Text

from .bases import Base, KnowledgeError, indexing_lock
from .chunking import chunk_blocks
from .readers import Source, sources
from .retrieval import terms
from .store import Chunk, FileRecord

EMBED_BATCH = 32  # chunks a request: progress and Stop are seen between batches


@dataclass
class Progress:
    files: int = 0  # documents found
    done: int = 0  # of them handled (added, unchanged or failed)
    added: list[str] = field(default_factory=list)
    replaced: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    failed: list[tuple[str, Text]] = field(default_factory=list)
    chunks: int = 0  # chunks embedded
    embed_seconds: float = 0.0
    started: float = field(default_factory=time.perf_counter)
    ended: float | None = None
    current: str = ""
    stopped: bool = False
    notices: list[Text] = field(default_factory=list)

    @property
    def rate(self) -> float:
        return self.chunks / self.embed_seconds if self.embed_seconds else 0.0

    @property
    def seconds(self) -> float:
        return (self.ended or time.perf_counter()) - self.started

    def line(self, lang: str) -> str:
        now = f" · {self.current}" if self.current else ""
        if lang == "zh":
            return f"文件 {self.done}/{self.files} · 已向量化 {self.chunks} 个片段 · {self.rate:.0f} 片段/秒{now}"
        return f"files {self.done}/{self.files} · {self.chunks} chunks embedded · {self.rate:.0f} chunks/s{now}"

    def summary(self, lang: str) -> str:
        zh = lang == "zh"
        parts = [
            (f"新增 {len(self.added)}" if zh else f"{len(self.added)} added"),
            (f"更新 {len(self.replaced)}" if zh else f"{len(self.replaced)} changed"),
            (f"未变 {len(self.unchanged)}" if zh else f"{len(self.unchanged)} unchanged"),
            (f"失败 {len(self.failed)}" if zh else f"{len(self.failed)} failed"),
        ]
        head = ("已停止：" if zh else "Stopped: ") if self.stopped else ""
        tail = f"{self.chunks} 个片段，{self.seconds:.1f} 秒" if zh else f"{self.chunks} chunks in {self.seconds:.1f} s"
        return head + ("，".join(parts) if zh else ", ".join(parts)) + ("；" if zh else "; ") + tail


def add_paths(
    base: Base,
    paths: list[Path],
    config,
    cancel: CancelToken | None = None,
    progress: Callable[[Progress], None] | None = None,
) -> Progress:
    """Index the documents in `paths` into `base`; returns what was done (also when stopped)."""
    cancel = cancel or CancelToken()
    state = Progress()
    report = progress or (lambda _: None)
    with indexing_lock(base), ExitStack() as stack:
        found = list(sources(paths, stack))
        _refuse_twins(found)
        state.files = len(found)
        known = {record.name: record for record in base.store.files()}
        model = base.model

        def one(source: Source) -> bool:
            before = known.get(source.name)
            if before and before.sha256 == source.digest and before.state == "indexed" and before.model == model:
                state.unchanged.append(source.name)
            elif _index(base, source, model, config, cancel, state, report):
                (state.replaced if before else state.added).append(source.name)
            return True

        _each(found, lambda source: source.name, one, state, cancel, report)
    return state


def _each(items: list, name: Callable, handle: Callable[..., bool], state: Progress, cancel: CancelToken, report) -> None:
    """`handle` each item in turn, with progress, until one returns False or Stop is pressed."""
    for item in items:
        if cancel.is_set():
            break
        state.current = name(item)
        report(state)
        if not handle(item):
            break
        state.done += 1
    state.stopped = state.stopped or cancel.is_set()
    state.current = ""
    state.ended = time.perf_counter()
    report(state)


def _refuse_twins(found: list[Source]) -> None:
    """Two documents that would have one name in the base (two folders both called `notes`): neither is added."""
    seen, twins = set(), []
    for source in found:
        if source.name in seen and source.name not in twins:
            twins.append(source.name)
        seen.add(source.name)
    if twins:
        names = ", ".join(twins[:5]) + (" …" if len(twins) > 5 else "")
        raise KnowledgeError(
            en=f"Two of the paths given hold documents of the same name ({names}): add them in separate runs, or "
            "rename one folder.",
            zh=f"所给路径中有同名文档（{names}）：请分两次添加，或给其中一个文件夹改名。",
        )


def _index(base: Base, source: Source, model: str, config, cancel: CancelToken, state: Progress, report) -> bool:
    """Read, cut, embed and write one document; False when it failed (kept as failed) or the job was stopped."""
    try:
        chunks = chunk_blocks(source.read())
        if not chunks:
            raise LLMError(en="no text was found in it", zh="其中没有找到文字")
    except LLMError as exc:
        _failed(base, source, model, exc.message, state)
        return False
    except Exception as exc:  # noqa: BLE001 - a reader's library failing on a damaged file: the file fails, not the job
        why = Text(zh=f"读取失败（{type(exc).__name__}）", en=f"it could not be read ({type(exc).__name__})")
        _failed(base, source, model, why, state)
        return False
    vectors, notices = _embed_chunks(chunks, model, config, cancel, state, report)
    if vectors is None:
        return False
    notes = Text(zh="；".join(n.zh for n in notices), en="; ".join(n.en for n in notices)) if notices else None
    record = FileRecord(source.name, source.digest, source.size, time.time(), "indexed", None, len(chunks), model, notes)
    base.store.put_file(record, chunks, [" ".join(terms(f"{c.section or ''} {c.text}")) for c in chunks], vectors)
    return True


def _failed(base: Base, source: Source, model: str, why: Text, state: Progress) -> None:
    record = FileRecord(source.name, source.digest, source.size, time.time(), "failed", why, 0, model)
    base.store.put_file(record, [], [], [])
    state.failed.append((source.name, why))


def embedding_text(chunk: Chunk) -> str:
    """What is embedded for a chunk: its section's heading, then its text."""
    return f"{chunk.section}\n{chunk.text}" if chunk.section else chunk.text


def _embed_chunks(chunks, model: str, config, cancel: CancelToken, state: Progress, report):
    """The chunks' vectors in their order, a batch at a time; (None, []) when the job was stopped in between.

    Batches are made of chunks of like length (a batch is padded to its longest text), then put back in order."""
    texts = [embedding_text(chunk) for chunk in chunks]
    order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
    vectors, notices = [None] * len(texts), []
    for start in range(0, len(order), EMBED_BATCH):
        if cancel.is_set():
            state.stopped = True
            return None, []
        picked = order[start : start + EMBED_BATCH]
        batch = [texts[i] for i in picked]
        try:
            result = embed(model, batch, config, cancel)
        except LLMError:
            if cancel.is_set():  # Stop pressed while the batch was embedded: the file is left out, the job ends
                state.stopped = True
                return None, []
            raise
        for i, got in zip(picked, result.vectors, strict=True):
            vectors[i] = got
        notices += result.notices[:3]
        state.chunks += len(batch)
        state.embed_seconds += result.seconds
        report(state)
    return vectors, notices


def reindex(
    base: Base,
    model: str,
    config,
    cancel: CancelToken | None = None,
    progress: Callable[[Progress], None] | None = None,
) -> Progress:
    """Embed every chunk of `base` again with `model` and make it the base's model."""
    cancel = cancel or CancelToken()
    state = Progress()
    report = progress or (lambda _: None)
    with indexing_lock(base):
        if base.model != model:
            base.store.set_model(model)
        records = [r for r in base.store.files() if r.state == "indexed"]
        state.files = len(records)

        def one(record: FileRecord) -> bool:
            if record.model == model:
                state.unchanged.append(record.name)
                return True
            vectors, _ = _embed_chunks(base.store.file_chunks(record.name), model, config, cancel, state, report)
            if vectors is None:
                return False
            base.store.put_vectors(record.name, model, vectors)
            state.replaced.append(record.name)
            return True

        _each(records, lambda record: record.name, one, state, cancel, report)
    return state

"""`python -m request_llms kb ...`: the machine owner's knowledge bases from the command line.

    kb add BASE PATH...          add files, folders and zips (made if new; unchanged files cost nothing)
    kb list [BASE]               the bases, or one base's files with their state
    kb remove BASE FILE          take one file out
    kb drop BASE                 delete the base
    kb search BASE "query" [-k N] [--file F] --json   retrieval alone, no chat model
    kb ask BASE "question" [--model M] [--file F] [--json]   a cited answer
    kb reindex BASE [--model M]  embed the base again with another embedding model (EMBED_MODEL by default)

Progress goes to stderr, results to stdout. Exit codes as for the other commands: 2 bad input, 3 a model
or server that cannot serve, 130 after Ctrl-C (the files finished by then stay in the base).
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

from request_llms.config_loader import Config
from request_llms.embeddings import embed_model
from request_llms.errors import LLMError
from request_llms.request import CancelToken, Status
from request_llms.thinking import Rethought, Thought

from .answering import ask, place
from .bases import OWNER, KnowledgeError, create_base, drop_base, list_bases, open_base
from .indexing import Progress, add_paths, reindex
from .readers import check_kind
from .retrieval import search

PROGRESS_SECONDS = 2.0  # between progress lines when stderr is not a terminal


def add_parser(sub) -> None:
    kb = sub.add_parser("kb", help="knowledge bases of your papers: add, list, search, ask (kb -h)")
    commands = kb.add_subparsers(dest="kb_command", required=True)
    add = commands.add_parser("add", help="add files, folders and zips to a base (made if new)")
    add.add_argument("base")
    add.add_argument("paths", nargs="+", type=Path)
    listing = commands.add_parser("list", help="the bases, or the files of one")
    listing.add_argument("base", nargs="?")
    listing.add_argument("--json", action="store_true")
    remove = commands.add_parser("remove", help="take a file out of a base")
    remove.add_argument("base")
    remove.add_argument("file", help="the file's name as kb list shows it")
    drop = commands.add_parser("drop", help="delete a base")
    drop.add_argument("base")
    found = commands.add_parser("search", help="the passages that best answer a query (no chat model)")
    found.add_argument("base")
    found.add_argument("query")
    found.add_argument("-k", type=int, default=5, help="passages to return (default 5, at most 50)")
    found.add_argument("--file", action="append", help="search only this file (repeatable)")
    found.add_argument("--json", action="store_true")
    asked = commands.add_parser("ask", help="a cited answer from a base")
    asked.add_argument("base")
    asked.add_argument("question", help="the question; - reads it from stdin")
    asked.add_argument("--model", default=None, help="the chat model (LLM_MODEL by default)")
    asked.add_argument("--file", action="append", help="ask only this file (repeatable)")
    asked.add_argument("--json", action="store_true", help='print {"answer", "citations"} at the end')
    again = commands.add_parser("reindex", help="embed a base again with another embedding model")
    again.add_argument("base")
    again.add_argument("--model", default=None, help="the embedding model (EMBED_MODEL by default)")


def run(args, config: Config) -> int:
    return {
        "add": _add,
        "list": _list,
        "remove": _remove,
        "drop": _drop,
        "search": _search,
        "ask": _ask,
        "reindex": _reindex,
    }[args.kb_command](args, config)


def _zh(config: Config) -> bool:
    return config.lang == "zh"


class _Printer:
    """Progress lines on stderr: one line redrawn on a terminal, else a line every PROGRESS_SECONDS."""

    def __init__(self, lang: str) -> None:
        self.lang, self.last, self.tty = lang, 0.0, sys.stderr.isatty()

    def __call__(self, state: Progress) -> None:
        now = time.monotonic()
        if self.tty:
            sys.stderr.write("\r\033[K" + state.line(self.lang)[:200])
            sys.stderr.flush()
        elif now - self.last >= PROGRESS_SECONDS:
            print(state.line(self.lang), file=sys.stderr, flush=True)
            self.last = now

    def done(self) -> None:
        if self.tty:
            sys.stderr.write("\r\033[K")


def _indexing(job, config: Config) -> Progress:
    cancel = CancelToken()
    printer = _Printer(config.lang)
    try:
        return job(cancel, printer)
    except KeyboardInterrupt:
        cancel.cancel()
        raise
    finally:
        printer.done()


def _add(args, config: Config) -> int:
    for path in args.paths:
        if not path.exists():
            raise KnowledgeError(en=f"{path} does not exist.", zh=f"{path} 不存在。")
        check_kind(path)  # before the base is made
    base = create_base(config, OWNER, args.base, embed_model(config).text)
    state = _indexing(lambda cancel, report: add_paths(base, args.paths, config, cancel, report), config)
    print(state.summary(config.lang))
    for name, why in state.failed:
        print(f"  ✗ {name}: {why.text(config.lang)}", file=sys.stderr)
    if base.model != config["EMBED_MODEL"]:
        zh = f"（此知识库使用向量模型 {base.model}；如需改用 {config['EMBED_MODEL']}：kb reindex {base.name}）"
        en = f"(this base embeds with {base.model}; to move it to {config['EMBED_MODEL']}: kb reindex {base.name})"
        print(zh if _zh(config) else en, file=sys.stderr)
    return 0


def _reindex(args, config: Config) -> int:
    base = open_base(config, OWNER, args.base)
    model = args.model or embed_model(config).text
    state = _indexing(lambda cancel, report: reindex(base, model, config, cancel, report), config)
    print(state.summary(config.lang))
    return 0


def _list(args, config: Config) -> int:
    zh = _zh(config)
    if args.base is None:
        bases = list_bases(config, OWNER)
        rows = []
        for base in bases:
            records = base.store.files()
            rows.append(
                {
                    "base": base.name,
                    "files": len(records),
                    "failed": sum(r.state == "failed" for r in records),
                    "chunks": sum(r.chunks for r in records),
                    "model": base.model,
                }
            )
        if args.json:
            print(json.dumps({"bases": rows}, ensure_ascii=False, indent=2))
        elif not rows:
            print(
                "还没有知识库：kb add 名称 文件... 可新建。" if zh else "No knowledge bases yet: kb add NAME FILE... makes one."
            )
        for row in rows if not args.json else ():
            failed = (f"，{row['failed']} 个失败" if zh else f", {row['failed']} failed") if row["failed"] else ""
            files = (
                f"{row['files']} 个文件{failed}，{row['chunks']} 个片段"
                if zh
                else f"{row['files']} files{failed}, {row['chunks']} chunks"
            )
            print(f"{row['base']}  {files}  [{row['model']}]")
        return 0
    base = open_base(config, OWNER, args.base)
    records = base.store.files()
    if args.json:
        shown = [record.as_dict(config.lang) for record in records]
        print(json.dumps({"base": base.name, "model": base.model, "files": shown}, ensure_ascii=False, indent=2))
        return 0
    print(f"{base.name}  [{base.model}]")
    for record in records:
        row = record.as_dict(config.lang)
        if record.state == "failed":
            state = f"✗ {'失败' if zh else 'failed'}: {row['reason']}"
        else:
            state = f"{record.chunks} 个片段" if zh else f"{record.chunks} chunks"
            if record.model != base.model:
                state += "（待重建索引）" if zh else " (to re-index)"
        print(f"  {record.name}  {state}  {row['added']}")
    return 0


def _remove(args, config: Config) -> int:
    base = open_base(config, OWNER, args.base)
    if not base.store.remove_file(args.file):
        names = ", ".join(r.name for r in base.store.files()[:10]) or "—"
        raise KnowledgeError(
            en=f"{args.base!r} has no file named {args.file!r}. Its files: {names}",
            zh=f"知识库「{args.base}」中没有名为「{args.file}」的文件。现有：{names}",
        )
    print(f"已移除 {args.file}" if _zh(config) else f"Removed {args.file}")
    return 0


def _drop(args, config: Config) -> int:
    base = open_base(config, OWNER, args.base)
    drop_base(base)
    print(f"已删除知识库「{base.name}」" if _zh(config) else f"Deleted the knowledge base {base.name!r}")
    return 0


def _search(args, config: Config) -> int:
    base = open_base(config, OWNER, args.base)
    found = search(base, args.query, config, k=args.k, files=args.file)
    for notice in found.notices:
        print(notice.text(config.lang), file=sys.stderr)
    if args.json:
        print(json.dumps({"results": [hit.as_dict() for hit in found.hits]}, ensure_ascii=False, indent=2))
        return 0
    for n, hit in enumerate(found.hits, start=1):
        print(f"[{n}] {hit.score:.3f}  {place(hit, config.lang)}")
        print("    " + " ".join(hit.chunk.text.split())[:300])
    if not found.hits:
        print("没有找到。" if _zh(config) else "Nothing found.")
    return 0


def _ask(args, config: Config) -> int:
    base = open_base(config, OWNER, args.base)
    question = sys.stdin.read() if args.question == "-" else args.question
    cancel = CancelToken()
    answer = ask(base, question, args.model or config["LLM_MODEL"], config, config.lang, cancel, files=args.file)
    for notice in answer.notices:
        print(notice.text(config.lang), file=sys.stderr)
    if answer.stream is None:
        text = answer.nothing_found(config.lang)
        print(json.dumps({"answer": text, "citations": []}, ensure_ascii=False, indent=2) if args.json else text)
        return 0
    parts = []
    try:
        for event in answer.stream.events():
            if isinstance(event, Status):
                print(event.text(config.lang), file=sys.stderr, flush=True)
            elif isinstance(event, Thought | Rethought):
                continue
            else:
                parts.append(event)
                if not args.json:
                    sys.stdout.write(event)
                    sys.stdout.flush()
    except KeyboardInterrupt:
        cancel.cancel()
        answer.stream.close()
        raise
    except LLMError:
        if parts and not args.json:
            sys.stdout.write("\n")
        raise
    if args.json:
        print(json.dumps({"answer": answer.stream.text, "citations": answer.citations()}, ensure_ascii=False, indent=2))
        return 0
    print("\n")
    for n, hit in enumerate(answer.cited, start=1):
        print(f"[{n}] {place(hit, config.lang)}")
    return 0

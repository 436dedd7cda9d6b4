"""The command line: list models, ask one, run the deployment check, pull weights, serve the API, knowledge bases.

Exit codes: 0 done; 2 bad input or configuration; 3 a backend that cannot serve; 130 after Ctrl-C,
once the backend has stopped. Failures print one or two lines with the fix to stderr.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import unicodedata
from concurrent.futures import ThreadPoolExecutor

from knowledge import cli as kb_cli

from .chat import chat, complete
from .config_loader import Config, get_config
from .deploy_check import MAX_CONCURRENCY, format_embedding_report, format_report, run_checks, run_embedding_check
from .embeddings import embed_model
from .errors import LLMError, WrongKindOfModel
from .listing import list_models
from .model_spec import parse_model, parse_models
from .request import CancelToken, ChatOptions, Status
from .runtime import runtime_of
from .stability import MAX_MINUTES, format_stability, run_stability
from .text import language
from .thinking import Rethought, Thought

INTERRUPTED = 130


def _concurrency(value: str) -> int:
    number = int(value)
    if not 1 <= number <= MAX_CONCURRENCY:
        raise argparse.ArgumentTypeError(f"1 to {MAX_CONCURRENCY} / 1 到 {MAX_CONCURRENCY}")
    return number


def _minutes(value: str) -> float:
    try:
        number = float(value)
    except ValueError:
        number = -1.0
    if not 0 < number <= MAX_MINUTES:
        raise argparse.ArgumentTypeError(f"above 0 and at most {MAX_MINUTES} / 大于 0 且不超过 {MAX_MINUTES}")
    return number


def _dim(text: str) -> str:
    return f"\033[2m{text}\033[0m" if sys.stderr.isatty() else text


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m request_llms", description="LocalScholar 本地学术助手: models from the command line."
    )
    sub = parser.add_subparsers(dest="command", required=True)
    listing = sub.add_parser("list", help="every usable model identifier and whether it answers now")
    listing.add_argument("--json", action="store_true", help="print JSON")
    ask = sub.add_parser("ask", help="stream one answer to stdout")
    ask.add_argument("model", help="a model identifier, e.g. ollama-qwen2.5:7b")
    ask.add_argument("prompt", help="the question; - reads it from stdin")
    ask.add_argument("--system", default="", help="system prompt")
    ask.add_argument("--max-tokens", type=int, default=None, help="longest answer in tokens")
    ask.add_argument("--temperature", type=float, default=None, help="sampling temperature, 0 to 2")
    ask.add_argument("--no-thinking", action="store_true", help="do not print a reasoning model's thinking (stderr)")
    check = sub.add_parser("check", help="deployment check: answers, context, instructions, speed, memory")
    check.add_argument("model", nargs="?", default=None, help="the model (with --embed: EMBED_MODEL when left out)")
    check.add_argument("--embed", action="store_true", help="check an embedding model (EMBED_MODEL is checked so anyway)")
    check.add_argument("--json", action="store_true", help="print the figures as JSON")
    check.add_argument(
        "--concurrency", type=_concurrency, default=4, help=f"parallel requests in the burst test (1 to {MAX_CONCURRENCY})"
    )
    check.add_argument(
        "--stability",
        type=_minutes,
        default=None,
        metavar="MINUTES",
        help=f"stability mode: keep the model busy this many minutes at --concurrency (up to {MAX_MINUTES})",
    )
    pull = sub.add_parser("pull", help="download a model's weights (Ollama pull, or ModelScope / Hugging Face for native models)")
    pull.add_argument("model")
    pull.add_argument("--repo", default=None, help="the hub repository to download (ORG/NAME); needed for local-NAME")
    serve = sub.add_parser("serve", help="serve the OpenAI-compatible API alone (no page) at http://HOST:PORT/v1")
    serve.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1; others need API_SERVE_KEYS)")
    serve.add_argument("--port", type=int, default=8000, help="port (default 8000)")
    kb_cli.add_parser(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    lang = language()
    try:
        config = get_config()
        lang = config.lang
        for warning in config.warnings:
            print(warning.text(lang), file=sys.stderr)
        return COMMANDS[args.command](args, config)
    except LLMError as exc:
        print(exc.text(lang), file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        print("\n已停止。" if lang == "zh" else "\nStopped.", file=sys.stderr)
        return INTERRUPTED
    except BrokenPipeError:  # the reader went away (`| head`): the request is stopped, nothing more to say
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())  # so the exit's flush cannot fail again
        return 0


def cmd_list(args, config: Config) -> int:
    entries = list_models(runtime_of(config).backends, embedding=True)
    if args.json:
        print(json.dumps([e.as_dict() for e in entries], ensure_ascii=False, indent=2))
        return 0
    zh = config.lang == "zh"
    mark = {True: "是" if zh else "yes", False: "否" if zh else "no", None: "—"}
    head = ("模型", "后端", "可用", "说明") if zh else ("model", "backend", "reachable", "detail")
    rows = [head] + [
        (e.identifier, e.backend, mark[e.reachable], e.problem.line(config.lang) if e.problem else e.detail_in(config.lang))
        for e in entries
    ]
    widths = [max(_width(r[i]) for r in rows) for i in range(3)]
    for row, entry in zip(rows, [None, *entries], strict=True):
        if entry is not None and entry.source == "embedding":
            print("向量模型（EMBED_MODEL）：" if zh else "Embedding model (EMBED_MODEL):")
        print("  ".join(cell + " " * (widths[i] - _width(cell)) for i, cell in enumerate(row[:3])) + "  " + row[3])
        for server in entry.servers if entry else ():
            print(f"    └ {server.text(config.lang)}")
    return 0


def _width(text: str) -> int:
    """Columns on a terminal: Chinese characters take two."""
    return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in text)


def cmd_ask(args, config: Config) -> int:
    specs = parse_models(args.model)
    prompt = sys.stdin.read() if args.prompt == "-" else args.prompt
    options = ChatOptions(args.temperature, None, args.max_tokens)
    if len(specs) > 1:
        return _ask_several(specs, prompt, args.system, options, config)
    cancel = CancelToken()
    stream = chat(specs[0], prompt, system=args.system, options=options, cancel=cancel, config=config)
    try:
        for event in stream.events():
            if isinstance(event, Status):
                print(event.text(config.lang), file=sys.stderr, flush=True)
            elif isinstance(event, Thought):  # thinking to stderr, dimmed on a terminal; the answer alone on stdout
                if not args.no_thinking:
                    sys.stderr.write(_dim(event.text))
                    sys.stderr.flush()
            elif isinstance(event, Rethought):
                if not args.no_thinking:
                    zh = "\n（以上是模型的思考过程）\n"
                    print(_dim(zh if config.lang == "zh" else "\n(the text above was the model's thinking)\n"), file=sys.stderr)
            else:
                sys.stdout.write(event)
                sys.stdout.flush()
    except KeyboardInterrupt:
        cancel.cancel()
        stream.close()
        sys.stdout.write("\n")
        raise
    except BrokenPipeError:  # the reader of stdout went away: stop the server's work too
        cancel.cancel()
        stream.close()
        raise
    except LLMError as exc:
        if exc.partial:
            sys.stdout.write("\n")
        raise
    sys.stdout.write("\n")
    if notice := stream.prompt.notice(config.lang):
        print(notice, file=sys.stderr)
    if stream.usage and stream.usage.finish_reason == "length":
        zh = "（回答达到长度上限，已截断；可调大 --max-tokens。）"
        print(
            zh if config.lang == "zh" else "(The answer reached its length limit; raise --max-tokens for more.)", file=sys.stderr
        )
    return 0


def _ask_several(specs, prompt: str, system: str, options: ChatOptions, config: Config) -> int:
    """A multi-model query: all models at once; each answer printed whole under its name, in the order given."""
    cancel = CancelToken()

    def answer(spec):
        try:
            return complete(spec, prompt, system=system, options=options, cancel=cancel, config=config), None
        except LLMError as exc:
            return None, exc

    worst = 0
    with ThreadPoolExecutor(max_workers=len(specs)) as pool:
        try:
            for spec, (stream, error) in zip(specs, pool.map(answer, specs), strict=True):
                print(f"── {spec.text} ──")
                if error is not None:
                    print(error.partial, error.text(config.lang), sep="\n" if error.partial else "")
                    worst = max(worst, error.exit_code)
                else:
                    print(stream.text)
        except KeyboardInterrupt:
            cancel.cancel()
            raise
    return worst


def cmd_check(args, config: Config) -> int:
    if args.embed or args.model is None or args.model == config["EMBED_MODEL"]:
        return _check_embeddings(args, config)
    if args.stability is not None:
        return _stability(args, config)
    try:
        reports = run_checks(parse_model(args.model), config, concurrency=args.concurrency)
    except WrongKindOfModel:  # an embedding model: its own check
        return _check_embeddings(args, config)
    if args.json:
        shown = [r.as_dict() for r in reports]
        print(json.dumps(shown[0] if len(shown) == 1 else shown, ensure_ascii=False, indent=2))
    else:
        print("\n\n".join(format_report(report, config.lang) for report in reports))
    return 0


def _stability(args, config: Config) -> int:
    def progress(seconds: float, answered: int, failed: int) -> None:
        if not args.json:
            print(f"\r{seconds:6.0f} s  {answered} ✓  {failed} ✗", end="", file=sys.stderr, flush=True)

    report = run_stability(parse_model(args.model), config, args.stability, args.concurrency, progress=progress)
    if not args.json:
        print(file=sys.stderr)
    print(json.dumps(report.as_dict(), ensure_ascii=False, indent=2) if args.json else format_stability(report, config.lang))
    return 0 if report.answered and report.recovery.get("answered", True) else 1


def _check_embeddings(args, config: Config) -> int:
    spec = parse_model(args.model) if args.model else embed_model(config)
    report = run_embedding_check(spec, config)
    shown = json.dumps(report.as_dict(), ensure_ascii=False, indent=2) if args.json else None
    print(shown or format_embedding_report(report, config.lang))
    return 0 if report.passed else 1


def cmd_pull(args, config: Config) -> int:
    spec = parse_model(args.model)
    pulling = runtime_of(config).backend_for(spec).pull(spec, args.repo)
    while True:
        try:
            status, done, total = next(pulling)
        except StopIteration as end:
            closing = end.value
            break
        bar = f" {done / total:6.1%}" if total else ""
        print(f"\r{status[:60]:60}{bar}", end="", file=sys.stderr, flush=True)
    if closing:
        print(closing[1] if config.lang == "zh" else closing[0])
    else:
        print(file=sys.stderr)
    return 0


def cmd_serve(args, config: Config) -> int:
    from .api.serve import serve  # fastapi and uvicorn load only for the command that serves

    return serve(config, args.host, args.port)


COMMANDS = {"list": cmd_list, "ask": cmd_ask, "check": cmd_check, "pull": cmd_pull, "serve": cmd_serve, "kb": kb_cli.run}

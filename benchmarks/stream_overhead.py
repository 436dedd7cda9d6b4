"""What our streaming path costs: `chat()` against a hand-written httpx loop, on a real llama-server and a real Ollama.

For each server (started here with one slot; both arms talk to the same server) the "plain" arm is a
minimal httpx streaming loop and the "ours" arm is request_llms.chat.chat(). Both send the same JSON
body to the same endpoint (Ollama /api/chat NDJSON, llama-server /v1/chat/completions SSE); the
script checks that by recording the body our backend sends. Every answer must be exactly --tokens
tokens by the server's own count: llama-server runs with --ignore-eos, and the prompt keeps the
base model going on Ollama. Runs alternate ours, plain, ours, plain ... after warm-ups.

Time to first token runs from the call (chat() or client.stream()) to the first non-empty text;
tokens/s is (server's token count - 1) / (time from the first text to the end of the stream).

The servers get --server-threads threads (llama-server --threads, Ollama num_thread through a
model made from gemma3:270m for this run and deleted after) and OMP_WAIT_POLICY=PASSIVE, so that
a server and this client fit on two cores without spinning threads stealing the client's core.

    python benchmarks/stream_overhead.py [--runs 10] [--tokens 200] [--servers llama-server ollama]
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
from common import (
    CI_NOTE,
    GOAL_NOTE,
    SpeedGoal,
    interleave,
    load,
    machine,
    median,
    ollama_copy,
    progress,
    read_sse,
    speed_cells,
    table,
    write_config,
)

from request_llms.chat import chat
from request_llms.config_loader import Config, load_config
from request_llms.errors import LLMError
from request_llms.request import CancelToken, ChatOptions
from request_llms.transport import client_for, open_stream
from tests.support.servers.running import OLLAMA_MODEL, RunningServer, ServerStartError, start_llama_server, start_ollama

PROMPT = "Count from 1 to 1000, separated by commas: 1, 2, 3, 4, 5,"
GOAL = SpeedGoal(ttft_ms=5.0, ratio=0.98)
DIAGNOSTIC_RUNS = 30


@dataclass
class Run:
    """One answer as one arm saw it (seconds)."""

    ttft: float  # from the call to the first text
    generating: float  # from the first text to the end of the stream
    tokens: int | None  # the server's count of generated tokens
    cpu: float  # this process's CPU time for the whole request
    setup: float = 0.0  # time inside chat() before it returned (ours only)

    @property
    def tokens_per_s(self) -> float:
        return (self.tokens - 1) / self.generating if self.tokens and self.generating > 0 else float("nan")


@dataclass
class Target:
    """One running server and what both arms need to ask it."""

    name: str
    model_id: str  # our identifier
    environ: dict[str, str]  # settings for load_config
    url: str  # the chat endpoint
    body: dict  # the plain arm's JSON body
    read: Callable[[httpx.Response], Iterator[str | int]]  # plain arm: text deltas, then the server's token count
    probe: str  # a cheap GET, for the round-trip diagnostic


@dataclass
class Result:
    target: Target
    runs: dict[str, list[Run]]
    diagnostics: dict[str, float]  # name -> median milliseconds
    load_before: str
    load_after: str


def read_ndjson(response: httpx.Response) -> Iterator[str | int]:
    """Ollama /api/chat: each line's message content, then eval_count from the `done` line."""
    for line in response.iter_lines():
        if not line:
            continue
        chunk = json.loads(line)
        if chunk.get("done"):
            yield chunk["eval_count"]
        elif chunk["message"]["content"]:
            yield chunk["message"]["content"]


def run_plain(client: httpx.Client, target: Target) -> Run:
    cpu, start = time.process_time(), time.perf_counter()
    first, tokens = None, None
    with client.stream("POST", target.url, json=target.body) as response:
        response.raise_for_status()
        for item in target.read(response):
            if isinstance(item, int):
                tokens = item
            elif first is None:
                first = time.perf_counter()
    end = time.perf_counter()
    if first is None:
        raise RuntimeError(f"{target.name}: the plain arm got no text")
    return Run(first - start, end - first, tokens, time.process_time() - cpu)


def run_ours(config: Config, target: Target, tokens: int) -> Run:
    cpu, start = time.process_time(), time.perf_counter()
    stream = chat(target.model_id, PROMPT, options=ChatOptions(temperature=0.0, max_tokens=tokens), config=config)
    setup = time.perf_counter() - start
    first = None
    for _ in stream:
        if first is None:
            first = time.perf_counter()
    end = time.perf_counter()
    if first is None:
        raise RuntimeError(f"{target.name}: chat() gave no text")
    count = stream.usage.completion_tokens if stream.usage else None
    return Run(first - start, end - first, count, time.process_time() - cpu, setup)


@contextmanager
def recorded_bodies(client: httpx.Client) -> Iterator[dict[str, bytes]]:
    """The body of each request `client` sends while the block runs, by URL."""
    bodies: dict[str, bytes] = {}
    saved = client.event_hooks
    client.event_hooks = {
        "request": [*saved["request"], lambda request: bodies.__setitem__(str(request.url), request.content)],
        "response": list(saved["response"]),
    }
    try:
        yield bodies
    finally:
        client.event_hooks = saved


def our_client(config: Config, url: str) -> httpx.Client:
    """The shared client our backends use for `url` (transport.client_for keeps one per kind of URL)."""
    return client_for(url, config["CONNECT_TIMEOUT"], config["READ_TIMEOUT"], config["PROXIES"])


def diagnose(target: Target, private: Path, plain: httpx.Client, config: Config) -> dict[str, float]:
    """Where our time before the first token goes: chat() itself, the first call's metadata lookup, the connection."""
    options = ChatOptions(temperature=0.0, max_tokens=1)
    ours = our_client(config, target.probe)

    def setup_time(fresh: bool) -> float:
        setup_config = load_config(environ=target.environ, private=private) if fresh else config
        start = time.perf_counter()
        stream = chat(target.model_id, PROMPT, options=options, config=setup_config)
        elapsed = time.perf_counter() - start
        stream.close()  # never iterated: no chat request is sent
        return elapsed

    def timed(request: Callable[[], object]) -> float:
        start = time.perf_counter()
        request()
        return time.perf_counter() - start

    def through_transport() -> None:
        with open_stream(
            ours,
            "GET",
            target.probe,
            json=None,
            headers={},
            cancel=CancelToken(),
            unreachable=lambda: LLMError("unreachable", "无法连接"),
            status_error=lambda status, body: LLMError(f"status {status}", f"状态 {status}"),
            retries=0,
        ) as response:
            response.read()

    with httpx.Client(trust_env=False, limits=httpx.Limits(max_keepalive_connections=0)) as fresh_connections:
        measures: dict[str, Callable[[], float]] = {
            "chat() setup, warm": lambda: setup_time(fresh=False),
            "chat() setup, first call": lambda: setup_time(fresh=True),
            "GET keep-alive": lambda: timed(lambda: plain.get(target.probe).raise_for_status()),
            "GET new connection": lambda: timed(lambda: fresh_connections.get(target.probe).raise_for_status()),
            "GET our transport": lambda: timed(through_transport),
        }
        times: dict[str, list[float]] = {name: [] for name in measures}
        for _ in range(DIAGNOSTIC_RUNS):
            for name, measure_once in measures.items():
                times[name].append(measure_once())
    return {name: median(values) * 1000 for name, values in times.items()}


def measure(target: Target, private: Path, runs: int, warmup: int, tokens: int) -> Result:
    load_before = load()
    config = load_config(environ=target.environ, private=private)
    with httpx.Client(timeout=300.0, trust_env=False) as plain:
        arms: dict[str, Callable[[], Run]] = {
            "ours": lambda: run_ours(config, target, tokens),
            "plain": lambda: run_plain(plain, target),
        }
        progress(f"{target.name}: warm-up ")
        with recorded_bodies(our_client(config, target.url)) as bodies:
            interleave(arms, warmup)
        sent = json.loads(bodies[target.url])
        if sent != target.body:
            raise SystemExit(
                f"{target.name}: the arms do not send the same body\n  ours:  {json.dumps(sent)}\n  plain: {json.dumps(target.body)}"
            )
        progress(" runs ")
        results = interleave(arms, runs)
        progress(" diagnostics ")
        diagnostics = diagnose(target, private, plain, config)
        progress("done\n")
    return Result(target, results, diagnostics, load_before, load())


def bench_llama_server(args: argparse.Namespace, private: Path) -> Result:
    extra = ["--ignore-eos"] + (["--threads", str(args.server_threads)] if args.server_threads else [])
    server = start_llama_server(parallel=1, ctx=4096, extra_args=extra)
    try:
        target = Target(
            name="llama-server",
            model_id=f"llamacpp-{server.model}",
            environ={"LOCAL_SERVER_URLS": json.dumps({"llamacpp": server.base_url + "/v1"})},
            url=server.base_url + "/v1/chat/completions",
            body={
                "model": server.model,
                "messages": [{"role": "user", "content": PROMPT}],
                "stream": True,
                "stream_options": {"include_usage": True},
                "temperature": 0.0,
                "max_tokens": args.tokens,
            },
            read=read_sse,
            probe=server.base_url + "/health",
        )
        return measure(target, private, args.runs, args.warmup, args.tokens)
    finally:
        server.stop()


@contextmanager
def ollama_model(server: RunningServer, threads: int) -> Iterator[str]:
    """The model to ask: gemma3:270m, or for a thread count a copy with PARAMETER num_thread, deleted afterwards."""
    if not threads:
        yield server.model
        return
    with ollama_copy(server.base_url, OLLAMA_MODEL, f"{OLLAMA_MODEL}-bench-t{threads}", {"num_thread": threads}) as name:
        yield name


def bench_ollama(args: argparse.Namespace, private: Path) -> Result:
    server = start_ollama(parallel=1)
    try:
        with ollama_model(server, args.server_threads) as model:
            target = Target(
                name="ollama",
                model_id=f"ollama-{model}",
                environ={"OLLAMA_API_BASE": server.base_url},
                url=server.base_url + "/api/chat",
                body={
                    "model": model,
                    "messages": [{"role": "user", "content": PROMPT}],
                    "stream": True,
                    "options": {"num_ctx": 4096, "temperature": 0.0, "num_predict": args.tokens},
                },
                read=read_ndjson,
                probe=server.base_url + "/api/version",
            )
            return measure(target, private, args.runs, args.warmup, args.tokens)
    finally:
        server.stop()


BENCHES = {"llama-server": bench_llama_server, "ollama": bench_ollama}


def report(results: list[Result], args: argparse.Namespace) -> str:
    rows, verdicts, where = [], [], []
    short: list[str] = []
    for result in results:
        name = result.target.name
        for arm in ("plain", "ours"):
            runs = result.runs[arm]
            cells, miscount = speed_cells(runs, args.tokens)
            if miscount:
                short.append(f"{name} {arm}: {miscount}")
            rows.append([name, arm, *cells, f"{median([run.cpu for run in runs]) * 1000:.0f}"])
        loads = f"{result.load_before} -> {result.load_after}"
        verdicts.append([name, *GOAL.runs_row(result.runs["ours"], result.runs["plain"], loads)])
        where.append([name, *(f"{value:.2f}" for value in result.diagnostics.values())])
    threads = args.server_threads or "server default"
    lines = [
        f"stream_overhead: {args.tokens} tokens per answer, {args.runs} runs per arm interleaved after {args.warmup} warm-up(s) each, "
        "temperature 0, one server slot",
        f"{machine()}",
        f"server threads {threads}; OMP_WAIT_POLICY={os.environ.get('OMP_WAIT_POLICY', '')}",
        "",
        table(
            ["server", "arm", "TTFT ms", "TTFT IQR", "tok/s", "tok/s IQR", "tokens", "client CPU ms/answer"],
            rows,
        ),
        "",
        table(["server", *GOAL.header("ours", "plain")], verdicts),
        CI_NOTE,
        GOAL_NOTE,
    ]
    if where:
        lines += [
            "",
            f"Where ours spends its time before the request (medians of {DIAGNOSTIC_RUNS}, ms):",
            table(["server", *results[0].diagnostics.keys()], where),
            "  chat() setup: the call until it returns, warm (metadata cached) and on a fresh configuration, where",
            "  the context lookup (Ollama /api/show, llama-server /v1/models) goes to the server. GET: one small request",
            "  with a kept-alive connection, with a new connection each time, and through our transport (new connection,",
            "  socket trace, cancel hook).",
        ]
    lines += [f"WARNING: {line}" for line in short]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=10, help="measured runs per arm (default 10)")
    parser.add_argument("--tokens", type=int, default=200, help="tokens per answer (default 200)")
    parser.add_argument("--warmup", type=int, default=2, help="warm-up runs per arm (default 2)")
    parser.add_argument(
        "--server-threads", type=int, default=1, help="threads for the server; 0 leaves the server's default (default 1)"
    )
    parser.add_argument("--servers", nargs="+", choices=list(BENCHES), default=list(BENCHES), help="servers to measure")
    args = parser.parse_args(argv)
    if args.runs < 1 or args.warmup < 1 or args.tokens < 2:
        parser.error("--runs and --warmup must be at least 1, --tokens at least 2")
    os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")  # the servers inherit this process's environment
    results, failed = [], []
    with tempfile.TemporaryDirectory() as folder:
        private = write_config(Path(folder) / "config_private.py")
        for name in args.servers:
            try:
                results.append(BENCHES[name](args, private))
            except ServerStartError as exc:
                failed.append(f"{name} did not start: {exc}")
    print(report(results, args))
    for line in failed:
        print(line, file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())

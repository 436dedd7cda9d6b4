"""What the OpenAI-compatible API costs: `python -m request_llms serve` against each server's own /v1/chat/completions.

The script starts a real llama-server (4 slots, --ignore-eos), a real Ollama (one slot) and the API in a
process of its own (`python -m request_llms serve --port P`, its configuration through LOCALSCHOLAR_CONFIG:
LOCAL_SERVER_URLS and OLLAMA_API_BASE pointing at those servers, DATA_DIR in a temporary folder,
DISCOVER_LOCAL_MODELS False, API_MAX_WAITING high enough that no request of the burst is refused). All are
stopped in `finally`. Both arms send the same body (the model's name aside) and read it the same way: one
kept-alive httpx client, streaming, `stream_options.include_usage`, temperature 0, max_tokens N.

1. One answer at a time, per server: the API ("api") against the server's own OpenAI endpoint ("direct"),
   alternating api, direct, api, direct ... after warm-ups. Time to first token runs from the request to the
   first non-empty content delta; tokens/s is (server's token count - 1) / (time from the first content to
   the end of the stream). The prompt and --ignore-eos come from stream_overhead.py, so every answer is
   --tokens tokens long.
2. --burst requests at once (llama-server only), each its own prompt and --burst-tokens tokens, all released
   together from threads; the API queues them at PARALLEL_REQUESTS (4 for llamacpp, capped by the 4 slots),
   llama-server queues the direct ones itself. Each request has a connection of its own, closed after its
   answer. A warm-up round (every prompt once per arm, one token each) puts every prompt in llama-server's
   prompt cache, so that each measured round finds the same cache. Rounds alternate which arm goes first.
   llama-server's log gives how long a freed slot waits for its next request, in each arm.
3. The API process's resident memory before the runs and after them.

The servers get --server-threads threads (llama-server --threads; Ollama num_thread through a model made
from gemma3:270m for this run, with num_ctx 4096 so that its OpenAI endpoint and the API's /api/chat ask for
the same context and Ollama never reloads the model; deleted after) and OMP_WAIT_POLICY=PASSIVE.

    python benchmarks/api_overhead.py [--runs 10] [--tokens 100] [--warmup 2] [--burst 100] [--burst-tokens 16] [--burst-rounds 3] [--server-threads 1]
"""

from __future__ import annotations

import argparse
import os
import re
import sys
import tempfile
import threading
import time
from collections import deque
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from contextlib import nullcontext
from dataclasses import dataclass, field
from pathlib import Path

import httpx
from common import (
    CI_NOTE,
    GOAL_NOTE,
    SpeedGoal,
    cpu_seconds,
    interleave,
    load,
    loads_line,
    machine,
    median,
    ollama_copy,
    page_config,
    peak_rss,
    percentile,
    progress,
    ratio,
    read_sse,
    speed_cells,
    start_web,
    stop_group,
    table,
    verdict,
)
from stream_overhead import PROMPT

from request_llms.procinfo import process_rss
from tests.support.servers.running import (
    OLLAMA_MODEL,
    RunningServer,
    ServerStartError,
    free_port,
    start_llama_server,
    start_ollama,
)

GOAL = SpeedGoal(ttft_ms=5.0, ratio=0.98)
BURST_GOAL = 1.1  # wall time of the burst through the API over straight to llama-server
SLOTS = 4
NUM_CTX = 4096
MIB = 1024 * 1024


@dataclass
class Run:
    """One streamed answer as the client saw it (seconds)."""

    ttft: float  # from the request to the first non-empty content delta
    generating: float  # from the first content to the end of the stream
    tokens: int | None  # the server's count (usage.completion_tokens)
    api_cpu: float = 0.0  # the API process's CPU time for the request (api arm only)

    @property
    def tokens_per_s(self) -> float:
        return (self.tokens - 1) / self.generating if self.tokens and self.generating > 0 else float("nan")


@dataclass
class Target:
    name: str
    direct_url: str  # the server's own /v1/chat/completions
    model: str  # the server's name of the model
    model_id: str  # ours


@dataclass
class Streamed:
    target: Target
    runs: dict[str, list[Run]]
    load_before: str
    load_after: str


@dataclass
class Answer:
    """One request of a burst."""

    seconds: float = float("nan")  # from the release of the burst to the end of this answer
    tokens: int | None = None
    text: str = ""
    error: str = ""

    @property
    def answered(self) -> bool:
        return not self.error and bool(self.text) and self.tokens is not None


@dataclass
class Burst:
    arm: str
    answers: list[Answer]
    wall: float  # from the release to the last answer
    api_cpu: float  # the API process's CPU seconds during the burst
    server_cpu: float  # llama-server's
    log_from: int  # where llama-server's log stood when the burst began
    handovers: list[float] = field(default_factory=list)  # seconds from a slot's release to the next launch
    prompt_tokens: list[int] = field(default_factory=list)  # prompt tokens llama-server evaluated per request


@dataclass
class Memory:
    before: int = 0
    after: int = 0
    peak: int = 0


@dataclass
class Results:
    streamed: list[Streamed] = field(default_factory=list)
    bursts: list[tuple[str, list[Burst]]] = field(default_factory=list)  # (which went first, both bursts of a round)
    burst_loads: tuple[str, str] = ("", "")
    memory: Memory = field(default_factory=Memory)
    api_started_s: float = 0.0


def chat_body(model: str, prompt: str, tokens: int) -> dict:
    return {
        "model": model,
        "messages": [{"role": "user", "content": prompt}],
        "stream": True,
        "stream_options": {"include_usage": True},
        "temperature": 0.0,
        "max_tokens": tokens,
    }


def stream_once(client: httpx.Client, url: str, body: dict) -> Run:
    start = time.perf_counter()
    first, tokens = None, None
    with client.stream("POST", url, json=body) as response:
        response.raise_for_status()
        for item in read_sse(response):
            if isinstance(item, int):
                tokens = item
            elif first is None:
                first = time.perf_counter()
    end = time.perf_counter()
    if first is None:
        raise RuntimeError(f"{url}: no text in the answer")
    return Run(first - start, end - first, tokens)


def measure_streaming(target: Target, api_url: str, api_pid: int, args: argparse.Namespace) -> Streamed:
    direct = chat_body(target.model, PROMPT, args.tokens)
    ours = {**direct, "model": target.model_id}  # the same body, our name of the model
    load_before = load()
    with httpx.Client(timeout=300.0, trust_env=False) as client:

        def api_arm() -> Run:
            cpu = cpu_seconds(api_pid)
            run = stream_once(client, api_url, ours)
            run.api_cpu = cpu_seconds(api_pid) - cpu
            return run

        arms: dict[str, Callable[[], Run]] = {"api": api_arm, "direct": lambda: stream_once(client, target.direct_url, direct)}
        progress(f"{target.name}: warm-up ")
        interleave(arms, args.warmup)
        progress(" runs ")
        runs = interleave(arms, args.runs)
        progress(" done\n")
    return Streamed(target, runs, load_before, load())


# ---------------------------------------------------------------- many requests at once


def burst_prompts(count: int) -> list[str]:
    """A prompt of its own per request, the same in both arms."""
    return [f"Count from {i} to 1000, separated by commas: {i}, {i + 1}, {i + 2}," for i in range(1, count + 1)]


def one_request(client: httpx.Client, url: str, body: dict, release: threading.Barrier, started: list[float]) -> Answer:
    release.wait()
    answer = Answer()
    try:
        with client.stream("POST", url, json=body) as response:
            if response.status_code != 200:
                answer.error = f"{response.status_code}: {response.read()[:200]!r}"
                return answer
            for item in read_sse(response):
                if isinstance(item, int):
                    answer.tokens = item
                else:
                    answer.text += item
    except (httpx.HTTPError, ValueError, KeyError) as exc:
        answer.error = f"{type(exc).__name__}: {exc}"
    finally:
        answer.seconds = time.perf_counter() - started[0]
    return answer


def burst(arm: str, url: str, model: str, prompts: list[str], tokens: int, api_pid: int, server: RunningServer) -> Burst:
    """All `prompts` at once from threads released together; one connection per request, closed after it."""
    limits = httpx.Limits(max_connections=None, max_keepalive_connections=0)
    release = threading.Barrier(len(prompts) + 1)
    started = [0.0]
    log_from = server.log_path.stat().st_size
    with (
        httpx.Client(timeout=600.0, trust_env=False, limits=limits) as client,
        ThreadPoolExecutor(max_workers=len(prompts)) as pool,
    ):
        futures = [
            pool.submit(one_request, client, url, chat_body(model, prompt, tokens), release, started) for prompt in prompts
        ]
        api_cpu, server_cpu = cpu_seconds(api_pid), cpu_seconds(server.process.pid)
        started[0] = time.perf_counter()
        release.wait()
        answers = [future.result() for future in futures]
        wall = time.perf_counter() - started[0]
        api_cpu, server_cpu = cpu_seconds(api_pid) - api_cpu, cpu_seconds(server.process.pid) - server_cpu
    progress(".")
    return Burst(arm, answers, wall, api_cpu, server_cpu, log_from)


SLOT_LINE = re.compile(r"^(\d+)\.(\d+)\.(\d+)\.(\d+) I slot +(launch_slot_|release): id +\d+ \| task \d+")
PROMPT_LINE = re.compile(r"prompt eval time = +[\d.]+ ms / +(\d+) tokens")


def slot_log(text: str, slots: int) -> tuple[list[float], list[int]]:
    """From llama-server's log of one burst (its lines carry minutes.seconds.ms.us since its start): for each
    request launched after the first `slots`, the seconds its slot had been free (from the release it follows,
    taken in order, to its launch); and the prompt tokens each request had evaluated (not in the prompt cache)."""
    handovers, prompt_tokens, launches, freed = [], [], 0, deque()
    for line in text.splitlines():
        if match := PROMPT_LINE.search(line):
            prompt_tokens.append(int(match[1]))
        if not (match := SLOT_LINE.match(line)):
            continue
        minutes, seconds, ms, us = (int(v) for v in match.groups()[:4])
        at = minutes * 60 + seconds + ms / 1e3 + us / 1e6
        if match[5] == "release":
            freed.append(at)
            continue
        launches += 1
        if launches > slots and freed:
            handovers.append(at - freed.popleft())
    return handovers, prompt_tokens


def measure_bursts(server: RunningServer, api_url: str, api_pid: int, args: argparse.Namespace, results: Results) -> None:
    direct_url = server.base_url + "/v1/chat/completions"
    arms = {
        "api": lambda prompts, tokens: burst("api", api_url, f"llamacpp-{server.model}", prompts, tokens, api_pid, server),
        "direct": lambda prompts, tokens: burst("direct", direct_url, server.model, prompts, tokens, api_pid, server),
    }
    prompts = burst_prompts(args.burst)
    progress(f"{args.burst} at once: warm-up ")
    for run in arms.values():  # one token each: every prompt goes into llama-server's prompt cache before the rounds
        run(prompts, 1)
    progress(" rounds ")
    before = load()
    for number in range(args.burst_rounds):
        order = ["api", "direct"] if number % 2 == 0 else ["direct", "api"]
        done = {name: arms[name](prompts, args.burst_tokens) for name in order}
        results.bursts.append((order[0], [done["api"], done["direct"]]))
    results.burst_loads = (before, load())
    time.sleep(0.5)  # llama-server writes its log from a thread of its own
    text = server.log_path.read_bytes()
    ordered = sorted((b for _, pair in results.bursts for b in pair), key=lambda b: b.log_from)
    for this, following in zip(ordered, [*ordered[1:], None], strict=True):
        chunk = text[this.log_from : following.log_from if following else len(text)].decode("utf-8", "replace")
        this.handovers, this.prompt_tokens = slot_log(chunk, SLOTS)
    progress(" done\n")


# ---------------------------------------------------------------- the servers and the API process


def ollama_bench_model(server: RunningServer, threads: int):
    """A model made from gemma3:270m with num_ctx 4096 (what the API asks for) and num_thread, deleted afterwards."""
    parameters = {"num_ctx": NUM_CTX, **({"num_thread": threads} if threads else {})}
    return ollama_copy(server.base_url, OLLAMA_MODEL, f"{OLLAMA_MODEL}-api-bench", parameters)


def start_api(folder: Path, settings: dict, models: list[str]) -> tuple[object, str, float]:
    """`python -m request_llms serve` on a free port; the process, its /v1 URL and the seconds until /v1/models answered."""
    config = page_config(folder, AVAIL_LLM_MODELS=models, **settings)
    port = free_port()
    url = f"http://127.0.0.1:{port}/v1"
    env = dict(os.environ, LOCALSCHOLAR_CONFIG=str(config), PYTHONUNBUFFERED="1")
    args = ["-m", "request_llms", "serve", "--port", str(port)]
    with httpx.Client(timeout=30.0, trust_env=False) as client:
        process, answered = start_web(args, env, folder / "api.log", [url + "/models"], 60.0, 0.1, client)
        listed = {card["id"] for card in client.get(url + "/models").json()["data"]}
    missing = set(models) - listed
    if missing:
        stop_group(process)
        raise ServerStartError(f"the API does not list {sorted(missing)} (it lists {sorted(listed)})")
    return process, url, answered[0]


def run_all(args: argparse.Namespace, folder: Path, results: Results, failed: list[str]) -> None:
    llama = ollama = api = None
    try:
        progress("starting llama-server, Ollama and the API ")
        extra = ["--ignore-eos"] + (["--threads", str(args.server_threads)] if args.server_threads else [])
        try:
            llama = start_llama_server(parallel=SLOTS, ctx=NUM_CTX, extra_args=extra)
        except ServerStartError as exc:
            failed.append(f"llama-server did not start: {exc}")
        try:
            ollama = start_ollama(parallel=1)
        except ServerStartError as exc:
            failed.append(f"ollama did not start: {exc}")
        with nullcontext() if ollama is None else ollama_bench_model(ollama, args.server_threads) as model:
            settings: dict = {"API_MAX_WAITING": max(200, 2 * args.burst)}
            targets = []
            if llama is not None:
                settings["LOCAL_SERVER_URLS"] = {"llamacpp": llama.base_url + "/v1"}
                targets.append(
                    Target("llama-server", llama.base_url + "/v1/chat/completions", llama.model, f"llamacpp-{llama.model}")
                )
            if ollama is not None:
                settings["OLLAMA_API_BASE"] = ollama.base_url
                targets.append(Target("ollama", ollama.base_url + "/v1/chat/completions", model, f"ollama-{model}"))
            if not targets:
                return
            models = [target.model_id for target in targets]
            api, api_url, results.api_started_s = start_api(folder, settings, models)
            progress("\n")
            results.memory.before = process_rss(api.pid)
            chat_url = api_url + "/chat/completions"
            for target in targets:
                results.streamed.append(measure_streaming(target, chat_url, api.pid, args))
            if llama is not None and args.burst:
                measure_bursts(llama, chat_url, api.pid, args, results)
            results.memory.after, results.memory.peak = process_rss(api.pid), peak_rss(api.pid)
    finally:
        if api is not None:
            stop_group(api)
        for server in (ollama, llama):
            if server is not None:
                server.stop()


# ---------------------------------------------------------------- the report


def streaming_report(results: Results, args: argparse.Namespace) -> list[str]:
    rows, verdicts, short = [], [], []
    for result in results.streamed:
        name = result.target.name
        for arm in ("direct", "api"):
            runs = result.runs[arm]
            cells, miscount = speed_cells(runs, args.tokens)
            if miscount:
                short.append(f"{name} {arm}: {miscount}")
            cpu = f"{median([run.api_cpu for run in runs]) * 1000:.0f}" if arm == "api" else "-"
            rows.append([name, arm, *cells, cpu])
        loads = f"{result.load_before} -> {result.load_after}"
        verdicts.append([name, *GOAL.runs_row(result.runs["api"], result.runs["direct"], loads)])
    if not rows:
        return []
    return [
        f"1. One answer at a time: {args.tokens} tokens, {args.runs} runs per arm interleaved after {args.warmup} warm-up(s) each",
        table(["server", "arm", "TTFT ms", "TTFT IQR", "tok/s", "tok/s IQR", "tokens", "API CPU ms/answer"], rows),
        "",
        table(["server", *GOAL.header("api", "direct")], verdicts),
        CI_NOTE,
        GOAL_NOTE,
        *(f"WARNING: {line}" for line in short),
    ]


def burst_report(results: Results, args: argparse.Namespace) -> list[str]:
    if not results.bursts:
        return []
    size = len(results.bursts[0][1][0].answers)
    rounds, arms = [], []
    for number, (first, (api, direct)) in enumerate(results.bursts, 1):
        rounds.append(
            [
                number,
                first,
                f"{sum(a.answered for a in api.answers)}/{size}",
                f"{api.wall:.2f}",
                f"{sum(a.answered for a in direct.answers)}/{size}",
                f"{direct.wall:.2f}",
                f"{api.wall / direct.wall:.3f}x",
            ]
        )
    for index, arm in enumerate(("api", "direct")):
        bursts = [pair[index] for _, pair in results.bursts]
        answers = [a for b in bursts for a in b.answers]
        seconds = [a.seconds for a in answers if a.answered]
        counts = sorted({a.tokens or 0 for a in answers})
        handovers = [gap * 1000 for b in bursts for gap in b.handovers]
        prompt_tokens = [n for b in bursts for n in b.prompt_tokens]
        arms.append(
            [
                arm,
                f"{sum(a.answered for a in answers)}/{len(answers)}",
                f"{median([b.wall for b in bursts]):.2f}",
                f"{median(seconds):.2f}" if seconds else "-",
                f"{percentile(seconds, 0.9):.2f}" if seconds else "-",
                ",".join(map(str, counts)),
                f"{sum(b.api_cpu for b in bursts) / len(answers) * 1000:.1f}",
                f"{sum(b.server_cpu for b in bursts) / sum(b.wall for b in bursts):.2f}",
                f"{median(handovers):.1f}" if handovers else "-",
                f"{percentile(handovers, 0.9):.1f}" if handovers else "-",
                f"{median(prompt_tokens):.0f}" if prompt_tokens else "-",
            ]
        )
    walls = ratio([pair[0].wall for _, pair in results.bursts], [pair[1].wall for _, pair in results.bursts])
    errors = sorted({a.error for _, pair in results.bursts for b in pair for a in b.answers if a.error})
    return [
        f"2. {size} requests at once to llama-server ({SLOTS} slots; the API lets PARALLEL_REQUESTS of them through), "
        f"{args.burst_tokens} tokens each, {args.burst_rounds} round(s) per arm after a warm-up round of 1 token each; "
        + loads_line(*results.burst_loads, during="rounds"),
        table(["round", "first", "api answered", "api wall s", "direct answered", "direct wall s", "api / direct"], rounds),
        "",
        table(
            [
                "arm",
                "answered",
                "wall s (median)",
                "end-to-end s median",
                "p90",
                "tokens",
                "API CPU ms/request",
                "llama-server cores",
                "slot free ms median",
                "p90",
                "prompt tokens",
            ],
            arms,
        ),
        "  wall: from the release of all requests to the last answer. end-to-end: each request from the release to",
        "  the end of its answer, every round. API CPU: the API process's CPU time per request (the direct arm's is its",
        "  idle cost). llama-server cores: its CPU seconds per second of wall time. From llama-server's log: slot free,",
        "  from a slot's release to the launch of the next request on it; prompt tokens evaluated per request (median;",
        "  the warm-up put every prompt in llama-server's prompt cache, so each round finds the same).",
        "",
        table(
            ["goal", "value", "95% CI", "verdict"],
            [
                [
                    f"wall ratio (api / direct) <= {BURST_GOAL}",
                    *walls.cells(".3f"),
                    verdict(walls, below=BURST_GOAL),
                ]
            ],
        ),
        f"  medians of the rounds; 95% CI: bootstrap of the two medians over {args.burst_rounds} round(s) per arm.",
        *(f"ERROR: {line}" for line in errors[:5]),
    ]


def report(results: Results, args: argparse.Namespace) -> str:
    threads = args.server_threads or "server default"
    memory = results.memory
    lines = [
        "api_overhead: the OpenAI-compatible API (python -m request_llms serve) against each server's own "
        "/v1/chat/completions; streaming, temperature 0",
        machine(),
        f"server threads {threads}; OMP_WAIT_POLICY={os.environ.get('OMP_WAIT_POLICY', '')}; llama-server {SLOTS} slots with "
        f"--ignore-eos, Ollama 1 slot; the API answered /v1/models {results.api_started_s:.1f} s after its launch",
        "",
        *streaming_report(results, args),
    ]
    if results.bursts:
        lines += ["", *burst_report(results, args)]
    if memory.before:
        lines += [
            "",
            f"3. The API process's resident memory: {memory.before / MIB:.1f} MiB before the runs, "
            f"{memory.after / MIB:.1f} MiB after them (peak {memory.peak / MIB:.1f} MiB)",
        ]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=10, help="measured runs per arm and server (default 10)")
    parser.add_argument("--tokens", type=int, default=100, help="tokens per answer, one at a time (default 100)")
    parser.add_argument("--warmup", type=int, default=2, help="warm-up runs per arm (default 2)")
    parser.add_argument("--burst", type=int, default=100, help="requests at once to llama-server; 0 skips it (default 100)")
    parser.add_argument("--burst-tokens", type=int, default=16, help="tokens per answer in the burst (default 16)")
    parser.add_argument("--burst-rounds", type=int, default=3, help="bursts per arm, alternating which goes first (default 3)")
    parser.add_argument(
        "--server-threads", type=int, default=1, help="threads for each server; 0 leaves the server's default (default 1)"
    )
    args = parser.parse_args(argv)
    if args.runs < 1 or args.warmup < 1 or args.tokens < 2 or args.burst < 0 or args.burst_tokens < 1 or args.burst_rounds < 1:
        parser.error("--runs, --warmup, --burst-tokens and --burst-rounds must be at least 1, --tokens at least 2")
    os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")  # the servers inherit this process's environment
    results, failed = Results(), []
    with tempfile.TemporaryDirectory(prefix="api-overhead-") as name:
        try:
            run_all(args, Path(name), results, failed)
        except ServerStartError as exc:
            failed.append(f"the API did not start: {exc}")
    print(report(results, args))
    for line in failed:
        print(line, file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())

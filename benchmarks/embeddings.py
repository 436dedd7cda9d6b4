"""What asking for embeddings costs: `embed()` against each server's own endpoint, and the built-in model against
sentence-transformers.

Four comparisons, the arms on one model interleaved (ours, baseline, ours, baseline ...) after warm-ups, in texts
per second:

1. llama-server (started here: two slots, --embeddings --pooling mean, --llama-threads threads):
   `request_llms.embeddings.embed("llamacpp-gemma-270m", texts)` against a plain httpx POST of the same batches
   to the server's own /v1/embeddings.
2. Ollama (started here, gemma3:270m, Ollama's own thread count): `embed("ollama-gemma3:270m", texts)` against a
   plain POST /api/embed of the same batches.
3. The built-in model, builtin-all-minilm-l6-v2 (EMBED_MODEL's default, run in a worker process, on an empty
   LOCAL_MODEL_CACHE in a temporary folder): `embed(None, texts)` against the sentence-transformers package in
   this process on the folder the worker unpacked, the same texts, the same batch size and the same torch
   threads (LOCAL_MODEL_THREADS; 0 leaves torch's default in both). Also the first use (worker start, unpack,
   load) once, and the worker's memory against sentence-transformers alone in a fresh process.
4. The API (`python -m request_llms serve`, in a process of its own, EMBED_MODEL llamacpp-gemma-270m) in front of
   the same llama-server: its /v1/embeddings against the plain POST of 1., the same batches, a third arm in the
   same rounds. Where the API has no /v1/embeddings yet, this arm is left out with a line saying so.

Our backends send up to 32 texts per request (Backend.embed_batch); the plain arms send the same batches, one
request at a time, on one kept-alive client. With the default --texts 16 a run is one request per arm (the
servers here embed about 100 tokens a second on their one thread, and the script must end in about 6 minutes);
--texts 64 sends two full batches per run. Both arms of a server comparison send the same body (the model's name aside
for the API): the script records the body our backend sends during the warm-ups and stops if it differs from the
plain arm's. Each measured run embeds --texts texts (--builtin-texts for the built-in model) of academic prose,
a few hundred characters each, new ones for every run, so no server reuses a cached prompt; on a server the two
arms' texts differ in their first word only, so they are the same length in tokens. A warm-up run embeds a few
texts: it loads the model and reads the server's facts.

    python benchmarks/embeddings.py [--rounds 5] [--warmup 1] [--texts 16] [--builtin-texts 256] [--llama-threads 1]
                                    [--threads 0] [--arms llama-server ollama builtin api]
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import multiprocessing
import os
import random
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import httpx
from api_overhead import start_api
from common import (
    CI_NOTE,
    GOAL_NOTE,
    cpu_seconds,
    interleave,
    iqr,
    load,
    loads_line,
    machine,
    median,
    peak_rss,
    progress,
    ratio,
    stop_group,
    table,
    verdict,
    write_config,
)
from stream_overhead import our_client, recorded_bodies

from request_llms.config_loader import Config, load_config
from request_llms.embeddings import embed
from request_llms.model_spec import parse_model
from request_llms.native.catalog import BUILTIN_EMBED
from request_llms.native.worker.encoder import BUILTIN_FOLDER
from request_llms.procinfo import process_rss
from request_llms.runtime import runtime_of
from tests.support.servers.running import (
    GEMMA_ALIAS,
    RunningServer,
    ServerStartError,
    start_llama_server,
    start_ollama,
)

BATCH = 32  # texts per request: what LocalScholar sends at once (Backend.embed_batch)
SERVER_GOAL, BUILTIN_GOAL = 0.95, 0.9  # texts/s, ours over the baseline, at least
NUM_CTX = 4096  # what our Ollama backend asks for (OLLAMA_NUM_CTX; gemma3:270m's own window is larger)
WARMUP_TEXTS = 4  # a warm-up loads the model and reads the server's facts: a few texts do
LEADS = ("Abstract.", "Summary.", "Overview.")  # the first word of each arm's texts on a server: the rest is the same
MIB = 1024 * 1024

# ---------------------------------------------------------------- texts

TOPICS = [
    "citation recommendation",
    "retrieval-augmented generation",
    "protein structure prediction",
    "low-resource machine translation",
    "graph neural networks for molecules",
    "causal inference in observational studies",
    "federated learning on edge devices",
    "climate model downscaling",
    "automatic grading of student essays",
    "named entity recognition in clinical notes",
    "topic modelling of parliamentary debates",
    "semantic search over scientific abstracts",
]
METHODS = [
    "contrastive pre-training",
    "Bayesian hierarchical modelling",
    "sparse mixture-of-experts routing",
    "gradient boosting",
    "self-supervised representation learning",
    "instrumental variable estimation",
    "active learning with uncertainty sampling",
    "dense passage retrieval",
]
METRICS = ["macro F1", "mean reciprocal rank", "BLEU", "area under the ROC curve", "nDCG@10", "top-1 accuracy"]
OPENINGS = [
    "Recent work on {topic} has relied on {method}, yet the conditions under which it generalises remain poorly understood.",
    "We study {topic} through the lens of {method}, asking whether the gains reported in earlier studies survive a careful replication.",
    "This paper revisits {topic}, a problem that has drawn steady attention since the first large-scale evaluations appeared.",
    "Although {method} is widely used for {topic}, its behaviour on small and noisy datasets has rarely been examined.",
]
FINDINGS = [
    "Using a corpus of {n} annotated documents, we compare three baselines and report {metric} with bootstrap confidence intervals.",
    "On a held-out set of {n} examples, our approach improves {metric} by {x} points over the strongest baseline.",
    "An ablation over {k} configurations and {n} documents shows that most of the gain comes from the training data, not the architecture.",
    "Across {n} test items the effect is largest for rare categories, where {metric} rises from {y} to {z} percent.",
    "A survey of {n} practitioners suggests that reproducibility, not accuracy, is the main obstacle to adoption.",
]


def academic_texts(count: int, rng: random.Random) -> list[str]:
    """`count` passages of academic prose (an abstract's opening and a finding), each with numbers of its own."""
    texts = []
    for _ in range(count):
        words = {
            "topic": rng.choice(TOPICS),
            "method": rng.choice(METHODS),
            "metric": rng.choice(METRICS),
            "n": f"{rng.randint(1_200, 98_000):,}",
            "k": rng.randint(12, 96),
            "x": f"{rng.uniform(0.8, 9.5):.1f}",
            "y": rng.randint(21, 48),
            "z": rng.randint(52, 79),
        }
        sentences = [rng.choice(OPENINGS), rng.choice(FINDINGS)]
        texts.append(" ".join(sentence.format(**words) for sentence in sentences))
    return texts


# ---------------------------------------------------------------- runs


@dataclass
class Run:
    """One arm embedding one run's texts."""

    seconds: float
    texts: int
    tokens: int | None  # prompt tokens, as the server counted them
    cpu: float  # this process's CPU seconds
    other_cpu: float | None = None  # CPU seconds of the process that serves the arm: the API's, our worker's

    @property
    def rate(self) -> float:
        return self.texts / self.seconds


@dataclass
class Measured:
    """The interleaved runs of the arms on one model; the first arm listed in `compared` pairs is ours."""

    name: str
    runs: dict[str, list[Run]]
    compared: list[tuple[str, str, float]]  # (ours, baseline, goal: ours/baseline texts/s at least)
    loads: tuple[str, str]
    chars: list[int] = field(default_factory=list)  # characters of each text embedded in the measured runs


def ours_run(model: str | None, texts: list[str], config: Config) -> Run:
    cpu, start = time.process_time(), time.perf_counter()
    got = embed(model, texts, config=config)
    seconds = time.perf_counter() - start
    if len(got.vectors) != len(texts) or got.notices:
        raise RuntimeError(f"embed({model}) gave {len(got.vectors)} vectors for {len(texts)} texts, notices {got.notices}")
    return Run(seconds, len(texts), got.prompt_tokens, time.process_time() - cpu)


def posted_run(client: httpx.Client, url: str, body: Callable[[list[str]], dict], texts: list[str], read) -> Run:
    """`texts` POSTed to `url` in batches of BATCH, one after another; `read(answer)` -> (vectors, prompt tokens)."""
    cpu, start = time.process_time(), time.perf_counter()
    tokens: int | None = 0
    for first in range(0, len(texts), BATCH):
        batch = texts[first : first + BATCH]
        vectors, counted = read(client.post(url, json=body(batch)).raise_for_status().json())
        if vectors != len(batch):
            raise RuntimeError(f"{url} gave {vectors} vectors for {len(batch)} texts")
        tokens = None if counted is None or tokens is None else tokens + counted
    return Run(time.perf_counter() - start, len(texts), tokens, time.process_time() - cpu)


def with_cpu_of(pid: int, run: Callable[[list[str]], Run]) -> Callable[[list[str]], Run]:
    """`run`, noting the CPU seconds process `pid` spent during it."""

    def measured(texts: list[str]) -> Run:
        before = cpu_seconds(pid)
        result = run(texts)
        result.other_cpu = cpu_seconds(pid) - before
        return result

    return measured


def read_openai(answer: dict) -> tuple[int, int | None]:
    return len(answer["data"]), (answer.get("usage") or {}).get("prompt_tokens")


def read_ollama(answer: dict) -> tuple[int, int | None]:
    return len(answer["embeddings"]), answer.get("prompt_eval_count")


def measure(
    name: str,
    args: argparse.Namespace,
    arms: dict[str, Callable[[list[str]], Run]],
    texts: int,
    seed: int,
    leads: bool,
    check: Callable[[], None] = lambda: None,
) -> tuple[dict[str, list[Run]], tuple[str, str], list[int]]:
    """The arms interleaved: --warmup runs of WARMUP_TEXTS texts each, `check()`, then --rounds runs of `texts`. Every
    round has new texts; with `leads` each arm gets them with a first word of its own (LEADS), else the very same."""
    rng = random.Random(seed)
    sizes = iter([WARMUP_TEXTS] * args.warmup + [texts] * args.rounds)
    drawn: list[list[str]] = []
    chars: list[int] = []

    def arm(index: int, run: Callable[[list[str]], Run]) -> Callable[[], Run]:
        def once() -> Run:
            if index == 0:  # the round's first arm draws its texts
                drawn.append(academic_texts(next(sizes), rng))
                chars.extend(len(text) for text in drawn[-1])
            return run([f"{LEADS[index]} {text}" for text in drawn[-1]] if leads else drawn[-1])

        return once

    each = {label: arm(index, run) for index, (label, run) in enumerate(arms.items())}
    progress(f"{name}: warm-up ")
    interleave(each, args.warmup)
    check()
    chars.clear()
    progress(" runs ")
    before = load()
    runs = interleave(each, args.rounds)
    progress(" done\n")
    return runs, (before, load()), chars


def sends_batches(config: Config, model: str) -> None:
    """Stop unless our backend sends BATCH texts per request for `model`, as the plain arm does."""
    spec = parse_model(model)
    size = runtime_of(config).backend_for(spec).embed_batch(spec)
    if size != BATCH:
        raise SystemExit(f"{model}: our backend sends {size} texts per request, the plain arm {BATCH}")


def same_body(name: str, recorded: dict[str, bytes], url: str, plain: dict) -> None:
    """Stop unless our backend sent the plain arm's body (its texts aside) to `url`."""
    if url not in recorded:
        raise SystemExit(f"{name}: our backend sent nothing to {url} (it sent to {sorted(recorded)})")
    sent = json.loads(recorded[url])
    texts = sent.pop("input", [])
    plain = {key: value for key, value in plain.items() if key != "input"}
    if sent != plain or len(texts) != WARMUP_TEXTS:
        raise SystemExit(f"{name}: the arms do not send the same body\n  ours:  {sent} ({len(texts)} texts)\n  plain: {plain}")


# ---------------------------------------------------------------- llama-server (with the API in front of it) and Ollama


def bench_llama_server(args: argparse.Namespace, folder: Path, results: list[Measured], notes: list[str]) -> None:
    extra = ["--embeddings", "--pooling", "mean"] + (["--threads", str(args.llama_threads)] if args.llama_threads else [])
    server = start_llama_server(parallel=2, extra_args=extra)
    api = None
    try:
        model_id, url = f"llamacpp-{GEMMA_ALIAS}", server.base_url + "/v1/embeddings"
        private = write_config(
            folder / "llama.py", LOCAL_SERVER_URLS={"llamacpp": server.base_url + "/v1"}, DISCOVER_LOCAL_MODELS=False
        )
        config = load_config(environ={}, private=private)
        sends_batches(config, model_id)

        def body(batch: list[str]) -> dict:  # what LocalServerBackend.embed sends
            return {"model": GEMMA_ALIAS, "input": batch, "encoding_format": "float"}

        with httpx.Client(timeout=600.0, trust_env=False) as client, recorded_bodies(our_client(config, url)) as recorded:
            arms: dict[str, Callable[[list[str]], Run]] = {}
            compared = []
            if "llama-server" in args.arms:
                arms["embed()"] = lambda texts: ours_run(model_id, texts, config)
                compared.append(("embed()", "plain POST", SERVER_GOAL))
            arms["plain POST"] = lambda texts: posted_run(client, url, body, texts, read_openai)
            if "api" in args.arms:
                api = start_api_arm(folder, server, model_id, notes)
            if api is not None:
                api_url = api[1] + "/embeddings"
                arms["API"] = with_cpu_of(
                    api[0].pid,
                    lambda texts: posted_run(
                        client, api_url, lambda batch: {**body(batch), "model": model_id}, texts, read_openai
                    ),
                )
                compared.append(("API", "plain POST", SERVER_GOAL))
            if not compared:
                return

            def check() -> None:
                if "embed()" in arms:
                    same_body("llama-server", recorded, url, body([]))

            runs, loads, chars = measure("llama-server", args, arms, args.texts, 1, True, check)
            results.append(Measured("llama-server", runs, compared, loads, chars))
            if api is not None:
                notes.append(
                    f"API: answered /v1/models {api[2]:.1f} s after its launch; its resident memory after the runs "
                    f"{(process_rss(api[0].pid) or 0) / MIB:.0f} MiB (peak {peak_rss(api[0].pid) / MIB:.0f} MiB)"
                )
    finally:
        if api is not None:
            stop_group(api[0])
        server.stop()


def start_api_arm(folder: Path, server: RunningServer, model_id: str, notes: list[str]):
    """The API in front of `server` (its process, /v1 URL and start seconds); None where it has no /v1/embeddings."""
    if importlib.util.find_spec("request_llms.api.embedding") is None:
        notes.append("API: not measured, this LocalScholar's API has no POST /v1/embeddings.")
        return None
    where = folder / "api"
    where.mkdir()
    settings = {"LOCAL_SERVER_URLS": {"llamacpp": server.base_url + "/v1"}, "EMBED_MODEL": model_id}
    progress("starting the API ")
    started = start_api(where, settings, [model_id])
    progress(f"({started[2]:.1f} s)\n")
    return started


def bench_ollama(args: argparse.Namespace, folder: Path, results: list[Measured], notes: list[str]) -> None:
    server = start_ollama()
    try:
        model_id, url = f"ollama-{server.model}", server.base_url + "/api/embed"
        private = write_config(folder / "ollama.py", OLLAMA_API_BASE=server.base_url, DISCOVER_LOCAL_MODELS=False)
        config = load_config(environ={}, private=private)
        sends_batches(config, model_id)

        def body(batch: list[str]) -> dict:  # what OllamaBackend.embed sends (OLLAMA_KEEP_ALIVE is unset)
            return {"model": server.model, "input": batch, "truncate": False, "options": {"num_ctx": NUM_CTX}}

        with httpx.Client(timeout=600.0, trust_env=False) as client, recorded_bodies(our_client(config, url)) as recorded:
            arms = {
                "embed()": lambda texts: ours_run(model_id, texts, config),
                "plain POST": lambda texts: posted_run(client, url, body, texts, read_ollama),
            }
            runs, loads, chars = measure(
                "ollama", args, arms, args.texts, 2, True, lambda: same_body("ollama", recorded, url, body([]))
            )
        results.append(Measured("ollama", runs, [("embed()", "plain POST", SERVER_GOAL)], loads, chars))
    finally:
        server.stop()


# ---------------------------------------------------------------- the built-in model

ALONE = """\
import json, sys, torch
from sentence_transformers import SentenceTransformer
folder, threads, batch = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
if threads:
    torch.set_num_threads(threads)
texts = json.loads(sys.stdin.read())
SentenceTransformer(folder, device="cpu").encode(texts, batch_size=batch, show_progress_bar=False)
status = dict(line.split(":", 1) for line in open("/proc/self/status"))
print(json.dumps({key: int(status[key].split()[0]) * 1024 for key in ("VmRSS", "VmHWM")}))
"""


@dataclass
class Builtin:
    first_use: float = 0.0  # embed() of one text on an empty cache: worker start, unpack, load, the text
    worker_load: float = 0.0  # in the worker: imports, unpack and load
    imported: float = 0.0  # importing sentence-transformers here
    loaded: float = 0.0  # SentenceTransformer(folder)
    threads: int = 0
    worker_rss: int = 0
    worker_peak: int = 0
    alone_rss: int = 0
    alone_peak: int = 0


def worker_pid() -> int:
    """The built-in model's worker: this process's one multiprocessing child."""
    children = [child for child in multiprocessing.active_children() if child.name.startswith("localscholar-")]
    if len(children) != 1 or children[0].pid is None:
        raise RuntimeError(f"expected one worker process, found {[child.name for child in children]}")
    return children[0].pid


def bench_builtin(args: argparse.Namespace, folder: Path, results: list[Measured], builtin: Builtin) -> None:
    cache = folder / "model-cache"
    private = write_config(
        folder / "builtin.py", LOCAL_MODEL_CACHE=str(cache), LOCAL_MODEL_THREADS=args.threads, DISCOVER_LOCAL_MODELS=False
    )
    config = load_config(environ={}, private=private)
    runtime = runtime_of(config)
    spec = parse_model(BUILTIN_EMBED)
    sends_batches(config, BUILTIN_EMBED)
    try:
        progress("builtin: first use ")
        start = time.perf_counter()
        embed(None, academic_texts(1, random.Random(0)), config=config)
        builtin.first_use = time.perf_counter() - start
        builtin.worker_load = runtime.backend_for(spec).memory(spec).get("load_seconds") or 0.0
        pid = worker_pid()
        start = time.perf_counter()
        import torch  # noqa: PLC0415 (torch for the baseline only, after our worker's first use)
        from sentence_transformers import SentenceTransformer  # noqa: PLC0415

        builtin.imported = time.perf_counter() - start
        if args.threads:
            torch.set_num_threads(args.threads)
        builtin.threads = torch.get_num_threads()
        unpacked = cache / "builtin" / BUILTIN_FOLDER
        start = time.perf_counter()
        model = SentenceTransformer(str(unpacked), device="cpu")
        builtin.loaded = time.perf_counter() - start
        progress("\n")

        def baseline(texts: list[str]) -> Run:
            cpu, start = time.process_time(), time.perf_counter()
            vectors = model.encode(texts, batch_size=BATCH, show_progress_bar=False)
            return Run(time.perf_counter() - start, len(vectors), None, time.process_time() - cpu)

        arms = {"embed()": with_cpu_of(pid, lambda texts: ours_run(None, texts, config)), "sentence-transformers": baseline}
        runs, loads, chars = measure("builtin", args, arms, args.builtin_texts, 3, False)
        builtin.worker_rss, builtin.worker_peak = process_rss(pid) or 0, peak_rss(pid)
        progress("builtin: sentence-transformers alone ")
        alone = subprocess.run(
            [sys.executable, "-c", ALONE, str(unpacked), str(args.threads), str(BATCH)],
            input=json.dumps(academic_texts(args.builtin_texts, random.Random(4))),
            capture_output=True,
            text=True,
            check=True,
            timeout=300,
        )
        figures = json.loads(alone.stdout.strip().splitlines()[-1])
        builtin.alone_rss, builtin.alone_peak = figures["VmRSS"], figures["VmHWM"]
        progress("done\n")
        results.append(Measured("builtin", runs, [("embed()", "sentence-transformers", BUILTIN_GOAL)], loads, chars))
    finally:
        runtime.shutdown()


# ---------------------------------------------------------------- the report


def arm_rows(result: Measured) -> list[list[object]]:
    rows = []
    for arm, runs in result.runs.items():
        tokens = [run.tokens / run.texts for run in runs if run.tokens]
        batches = -(-runs[0].texts // BATCH)
        other = [run.other_cpu for run in runs if run.other_cpu is not None]
        rows.append(
            [
                result.name,
                arm,
                runs[0].texts,
                f"{median([run.rate for run in runs]):.2f}",
                iqr([run.rate for run in runs], 2),
                f"{median(tokens):.1f}" if tokens else "-",
                f"{median([run.cpu for run in runs]) / batches * 1000:.1f}",
                f"{median(other) / batches * 1000:.1f}" if other else "-",
            ]
        )
    return rows


def report(results: list[Measured], builtin: Builtin | None, notes: list[str], args: argparse.Namespace, wall: float) -> str:
    rows, verdicts = [], []
    for result in results:
        rows += arm_rows(result)
        for ours, base, goal in result.compared:
            estimate = ratio([run.rate for run in result.runs[ours]], [run.rate for run in result.runs[base]])
            verdicts.append(
                [
                    result.name,
                    f"{ours} / {base}",
                    *estimate.cells(".3f"),
                    f">= {goal}",
                    verdict(estimate, at_least=goal),
                    " -> ".join(result.loads),
                ]
            )
    chars = [n for result in results for n in result.chars]
    threads = args.llama_threads or "its default"
    lines = [
        "embeddings: texts/s of embed() and the API against each server's own endpoint, and of the built-in model "
        "against sentence-transformers",
        machine(),
        f"{args.rounds} runs per arm interleaved after {args.warmup} warm-up(s) of {WARMUP_TEXTS} texts; requests of at most "
        f"{BATCH} texts, one at a time; llama-server threads {threads}, Ollama its default; "
        f"OMP_WAIT_POLICY={os.environ.get('OMP_WAIT_POLICY', '')}",
        f"texts: academic prose, new for every round, {min(chars, default=0)}-{max(chars, default=0)} characters "
        f"(median {median(chars):.0f})",
        "",
        table(
            [
                "model",
                "arm",
                "texts/run",
                "texts/s",
                "texts/s IQR",
                "tokens/text",
                "this process CPU ms/batch",
                "API/worker CPU ms/batch",
            ],
            rows,
        ),
        "",
        table(["model", "texts/s", "ratio", "95% CI", "goal", "verdict", "load 1/5/15 before -> after"], verdicts),
        CI_NOTE,
        GOAL_NOTE,
    ]
    if any(result.name == "builtin" for result in results):
        lines.append("  this process CPU: the client's, and for sentence-transformers the model's own work (it runs here).")
    if builtin is not None and builtin.first_use:
        threads_note = f"LOCAL_MODEL_THREADS={args.threads}" if args.threads else "LOCAL_MODEL_THREADS=0 (torch's default)"
        lines += [
            "",
            f"Built-in model, {threads_note}: {builtin.threads} torch threads in both arms",
            f"  first use on an empty LOCAL_MODEL_CACHE: {builtin.first_use:.1f} s from embed() to its vector, of which "
            f"{builtin.worker_load:.1f} s in the worker (imports, unpack, load)",
            f"  sentence-transformers in this process: import {builtin.imported:.1f} s, load from the unpacked folder "
            f"{builtin.loaded:.1f} s",
            f"  memory: the worker {builtin.worker_rss / MIB:.0f} MiB resident after the runs (peak {builtin.worker_peak / MIB:.0f} MiB);"
            f" sentence-transformers alone in a fresh process, {args.builtin_texts} texts: {builtin.alone_rss / MIB:.0f} MiB "
            f"(peak {builtin.alone_peak / MIB:.0f} MiB); worker / alone {builtin.worker_rss / max(builtin.alone_rss, 1):.2f}",
        ]
    lines += ["", *notes] if notes else []
    lines += [f"whole run {wall / 60:.1f} min"]
    return "\n".join(lines)


ARMS = ("llama-server", "ollama", "builtin", "api")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5, help="measured runs per arm (default 5)")
    parser.add_argument("--warmup", type=int, default=1, help=f"warm-up runs per arm, {WARMUP_TEXTS} texts each (default 1)")
    parser.add_argument("--texts", type=int, default=16, help="texts per run on a server (default 16)")
    parser.add_argument("--builtin-texts", type=int, default=256, help="texts per run on the built-in model (default 256)")
    parser.add_argument("--llama-threads", type=int, default=1, help="llama-server's threads; 0 leaves its default (default 1)")
    parser.add_argument(
        "--threads", type=int, default=0, help="LOCAL_MODEL_THREADS and torch threads for the built-in model (default 0: torch's)"
    )
    parser.add_argument("--arms", nargs="+", choices=ARMS, default=list(ARMS), help="what to measure (default all)")
    args = parser.parse_args(argv)
    if min(args.warmup, args.texts, args.builtin_texts) < 1 or args.rounds < 2:
        parser.error("--rounds must be at least 2; --warmup, --texts and --builtin-texts at least 1")
    os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")  # the servers and the worker inherit this process's environment
    started, before = time.perf_counter(), load()
    results: list[Measured] = []
    notes: list[str] = []
    failed: list[str] = []
    builtin = Builtin()
    with tempfile.TemporaryDirectory(prefix="embeddings-bench-") as name:
        folder = Path(name)
        benches = [
            ("llama-server", {"llama-server", "api"}, lambda: bench_llama_server(args, folder, results, notes)),
            ("ollama", {"ollama"}, lambda: bench_ollama(args, folder, results, notes)),
            ("builtin", {"builtin"}, lambda: bench_builtin(args, folder, results, builtin)),
        ]
        for label, wanted, run in benches:
            if wanted & set(args.arms):
                try:
                    run()
                except ServerStartError as exc:
                    failed.append(f"{label} did not start: {exc}")
    wall = time.perf_counter() - started
    notes.append(loads_line(before, load(), "whole run"))
    print(report(results, builtin, notes, args, wall))
    for line in failed:
        print(line, file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())

"""A plugin's pieces on a pool of two real llama-servers against one, and with one of the two killed halfway.

Each server is a llama-server with the test model, one thread (--threads 1 --threads-batch 1) and two
slots of 1024 tokens, on 127.0.0.1. A run asks --pieces pieces (a paragraph of academic prose to sum up in
one sentence, at most --answer tokens, temperature 0) through the plugin runtime (crazy_functions.runtime.
parallel.ask_in_parallel, as the summary and translation plugins do), as many at once as the pool takes.

Arms, in turn for --rounds rounds: `one` (LOCAL_SERVER_URLS names server A), `pool` (A and B) and `pool,
B killed` (A and B; B is killed with SIGKILL once half the pieces are done, and started again on its port
after the run). Each run has a fresh configuration (no rest carried over) and its own words in the prompts,
so no server reuses a prompt it cached. Figures: wall time, pieces done, failed and asked again, the
throughput ratio pool / one and the extra time of the kill, pool killed / pool, each with a 95% bootstrap
interval.

    python benchmarks/pool_plugin.py [--pieces 16] [--answer 48] [--rounds 3]
"""

from __future__ import annotations

import argparse
import os
import random
import signal
import tempfile
import threading
import time
from pathlib import Path

from common import load, loads_line, machine, progress, ratio, table, write_config

from crazy_functions.runtime.parallel import DONE, FAILED, Piece, ask_in_parallel
from crazy_functions.runtime.session import PluginChatbot
from request_llms.config_loader import load_config
from request_llms.runtime import runtime_of
from tests.support.servers.running import RunningServer, start_llama_server

WORDS = ["retrieval", "quantisation", "attention", "distillation", "tokenisation", "alignment", "evaluation", "pruning"]
MODEL = "llamacpp-gemma-270m"


def paragraph(rng: random.Random, tag: str) -> str:
    topic = rng.choice(WORDS)
    return (
        f"[{tag}] We study how {topic} changes the accuracy of small language models on reading comprehension. "
        f"Across {rng.randint(3, 9)} benchmarks the {topic} variant keeps {rng.randint(90, 99)}% of the baseline's "
        f"score while using {rng.randint(20, 60)}% less memory. The gain is largest for contexts longer than "
        f"{rng.randint(2, 8)} thousand tokens, and smallest on arithmetic questions."
    )


def start(port: int | None = None) -> RunningServer:
    return start_llama_server(parallel=2, ctx=2048, extra_args=["--threads", "1", "--threads-batch", "1"], port=port)


def run(servers: list[RunningServer], pieces_n: int, answer: int, tag: str, kill: RunningServer | None = None) -> dict:
    folder = Path(tempfile.mkdtemp(prefix="pool-bench-"))
    urls = [f"{server.base_url}/v1" for server in servers]
    config = load_config(environ={}, private=write_config(folder / "config_private.py", LOCAL_SERVER_URLS={"llamacpp": urls}))
    rng = random.Random(tag)
    pieces = [Piece(f"Sum up in one sentence:\n\n{paragraph(rng, f'{tag}-{i}')}") for i in range(pieces_n)]
    chatbot = PluginChatbot(lang="en", config=config)
    llm_kwargs = {"llm_model": MODEL, "temperature": 0, "max_length": answer}
    killed_at = None

    def killer() -> None:
        nonlocal killed_at
        while sum(1 for piece in pieces if piece.state == DONE) < pieces_n // 2:
            time.sleep(0.02)
        os.killpg(kill.process.pid, signal.SIGKILL)
        killed_at = time.perf_counter() - started

    started = time.perf_counter()
    if kill is not None:
        threading.Thread(target=killer, daemon=True).start()
    asking = ask_in_parallel(chatbot, [], pieces, llm_kwargs, "You are a concise research assistant.")
    try:
        while True:
            next(asking)
    except StopIteration as end:
        done = end.value
    wall = time.perf_counter() - started
    server = runtime_of(config).servers.known(urls[-1])
    return {
        "wall": wall,
        "done": sum(1 for piece in done if piece.state == DONE and piece.answer.strip()),
        "failed": sum(1 for piece in done if piece.state == FAILED),
        "empty": sum(1 for piece in done if piece.state == DONE and not piece.answer.strip()),
        "killed_at": killed_at,
        "failures_seen": server.failures if server else 0,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--pieces", type=int, default=16)
    parser.add_argument("--answer", type=int, default=48)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    print(machine())
    before = load()
    a, b = start(), start()
    results: dict[str, list[dict]] = {"one": [], "pool": [], "pool, B killed": []}
    try:
        for round_ in range(args.rounds):
            for arm in ["one", "pool", "pool, B killed"] if round_ % 2 == 0 else ["pool, B killed", "pool", "one"]:
                progress(f"round {round_ + 1}: {arm}")
                servers = [a] if arm == "one" else [a, b]
                tag = f"{arm}-{round_}"
                result = run(servers, args.pieces, args.answer, tag, kill=b if arm == "pool, B killed" else None)
                results[arm].append(result)
                progress(f"  {result}")
                if arm == "pool, B killed":
                    b.process.wait()
                    b = start(port=b.port)
    finally:
        a.stop()
        b.stop()
    after = load()
    rows = []
    for arm, runs in results.items():
        walls = sorted(r["wall"] for r in runs)
        rows.append(
            [
                arm,
                f"{walls[len(walls) // 2]:.1f}",
                f"{min(walls):.1f} to {max(walls):.1f}",
                f"{sum(r['done'] for r in runs)}/{args.pieces * len(runs)}",
                sum(r["failed"] for r in runs),
                sum(r["empty"] for r in runs),
                f"{args.pieces / walls[len(walls) // 2]:.2f}",
            ]
        )
    print()
    print(table(["arm", "wall s (median)", "range", "pieces answered", "failed", "empty", "pieces/s"], rows))
    one = [args.pieces / r["wall"] for r in results["one"]]
    pool = [args.pieces / r["wall"] for r in results["pool"]]
    killed = [r["wall"] for r in results["pool, B killed"]]
    speed, extra = ratio(pool, one), ratio(killed, [r["wall"] for r in results["pool"]])
    print()
    print(
        table(
            ["comparison", "ratio", "95% CI"],
            [
                ["throughput, pool of two / one server", *speed.cells(".2f", "x")],
                ["wall time, pool with B killed halfway / pool", *extra.cells(".2f", "x")],
            ],
        )
    )
    lost = sum(args.pieces - r["done"] for r in results["pool, B killed"])
    print(f"\npieces lost with B killed halfway: {lost} of {args.pieces * args.rounds}")
    print(loads_line(before, after))


if __name__ == "__main__":
    main()

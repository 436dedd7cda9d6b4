"""What telling thinking apart from the answer costs.

1. The inline parser (request_llms/thinking.py) on a stream of `<think>...</think>answer` cut into deltas of
   1 to 8 characters, against the baseline of keeping the deltas as they come: microseconds per delta.
2. End to end on a real llama-server whose grammar makes the test model answer `<think>...</think>answer`:
   `chat()` (which splits the thinking) against a plain httpx read of the same stream, interleaved, one slot.
   Tokens per second from the first delta to the end (the server's own count of tokens), and their ratio.
    python benchmarks/thinking.py [--runs N] [--deltas N]
"""

from __future__ import annotations

import argparse
import random
import time

import httpx
from common import SpeedGoal, interleave, load, loads_line, machine, median, progress, read_sse, table

from request_llms.chat import chat
from request_llms.config_loader import load_config
from request_llms.request import ChatOptions
from request_llms.thinking import ThinkSplitter
from tests.support.servers import running
from tests.support.servers.fixtures import THINKING_GRAMMAR
from tests.support.servers.provision import cache_root

WORDS = ["the", "model", "weighs", "the", "question", "and", "the", "likely", "answer", "before", "it", "writes"]


def deltas_of(count: int, seed: int = 0) -> list[str]:
    rng = random.Random(seed)
    text = "<think>" + " ".join(rng.choice(WORDS) for _ in range(count)) + "</think>\n\n"
    text += " ".join(rng.choice(WORDS) for _ in range(count // 3))
    cuts, at = [], 0
    while at < len(text):
        step = rng.randint(1, 8)
        cuts.append(text[at : at + step])
        at += step
    return cuts


def parser_cost(deltas: list[str], rounds: int = 20) -> tuple[float, float]:
    """Median microseconds per delta: the splitter, and keeping the deltas as they come."""
    split, keep = [], []
    for _ in range(rounds):
        started = time.perf_counter()
        splitter = ThinkSplitter()
        for delta in deltas:
            splitter.feed(delta)
        splitter.close()
        split.append((time.perf_counter() - started) / len(deltas) * 1e6)
        started = time.perf_counter()
        kept: list[str] = []
        for delta in deltas:
            kept.append(delta)
        keep.append((time.perf_counter() - started) / len(deltas) * 1e6)
    return median(split), median(keep)


def ours(config, tokens: int) -> tuple[float, float]:
    """(ms to the first delta of any kind, tokens/s from it to the end) through chat()."""
    started = time.perf_counter()
    stream = chat("llamacpp-gemma-270m(max_token=1024)", "Say hello.", options=ChatOptions(0.0, None, tokens), config=config)
    first = None
    for _ in stream.events():
        first = first or time.perf_counter()
    ended = time.perf_counter()
    count = stream.usage.completion_tokens if stream.usage else 0
    return (first - started) * 1e3, (count - 1) / (ended - first)


def plain(url: str, tokens: int) -> tuple[float, float]:
    """The same request, read as plain SSE with httpx: nothing split. Its first delta is the first one that shows
    something beyond the opening tag, as ours does (the tag itself arrives over several tokens)."""
    body = {"model": "gemma-270m", "messages": [{"role": "user", "content": "Say hello."}], "stream": True,
            "stream_options": {"include_usage": True}, "temperature": 0.0, "max_tokens": tokens}  # fmt: skip
    started = time.perf_counter()
    first, count, text = None, 0, ""
    with httpx.stream("POST", f"{url}/v1/chat/completions", json=body, timeout=120) as response:
        for item in read_sse(response):
            if isinstance(item, int):
                count = item
            else:
                text += item
                if first is None and not "<think>".startswith(text.lstrip()) and text.lstrip() != "<think>":
                    first = time.perf_counter()
    ended = time.perf_counter()
    return (first - started) * 1e3, (count - 1) / (ended - first)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=10, help="interleaved runs per arm (after one warm-up each)")
    parser.add_argument("--deltas", type=int, default=2000, help="words of thinking in the parser's stream")
    parser.add_argument("--tokens", type=int, default=120, help="longest answer per request")
    args = parser.parse_args()
    print(machine())
    deltas = deltas_of(args.deltas)
    split, keep = parser_cost(deltas)
    print(f"\n1. The parser on {len(deltas)} deltas of 1-8 characters (a thought of {args.deltas} words, then the answer)")
    print(
        table(
            ["splitter us/delta", "keep as they come us/delta", "added us/delta"],
            [[f"{split:.2f}", f"{keep:.2f}", f"{split - keep:+.2f}"]],
        )
    )

    grammar = cache_root() / "think.gbnf"
    grammar.write_text(THINKING_GRAMMAR, encoding="utf-8")
    progress("starting llama-server with the thinking grammar\n")
    server = running.start_llama_server(parallel=1, ctx=1024, extra_args=["--grammar-file", str(grammar)])
    try:
        config = load_config(environ={"LOCAL_SERVER_URLS": f'{{"llamacpp": "{server.base_url}/v1"}}'})
        ours(config, args.tokens), plain(server.base_url, args.tokens)  # warm-up
        before = load()
        results = interleave(
            {"ours": lambda: ours(config, args.tokens), "plain": lambda: plain(server.base_url, args.tokens)}, args.runs
        )
        after = load()
    finally:
        server.stop()
    progress("\n")
    goal = SpeedGoal(ttft_ms=5.0, ratio=0.98)
    first = ([r[0] for r in results["ours"]], [r[0] for r in results["plain"]])
    rates = ([r[1] for r in results["ours"]], [r[1] for r in results["plain"]])
    print(f"\n2. End to end on llama-server, thinking split by chat() against plain httpx; {args.runs} runs each, interleaved")
    print(
        table(
            ["arm", "first delta ms", "tok/s"],
            [[name, f"{median(first[i]):.1f}", f"{median(rates[i]):.1f}"] for i, name in enumerate(("ours", "plain"))],
        )
    )
    print(table(goal.header("ours", "plain"), [goal.row(first, rates, loads_line(before, after))]))


if __name__ == "__main__":
    main()

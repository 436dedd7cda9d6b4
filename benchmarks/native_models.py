"""Native models: our worker process against `generate` in one process, on the built-in model.

The same prepared built-in folder (Gemma 3 270M, bfloat16 on the CPU, which is what quant=FP16 means
there), the same prompt and the same generation settings (greedy, repetition_penalty 1.2, --tokens new
tokens; the prompt keeps the base model going, and the script checks both token counts and that both
arms wrote the same text). The "worker" arm is request_llms.chat.chat(); the "in-process" arm is a
child process of this script that loads the folder with transformers and calls model.generate() with a
streamer that only notes the time of the first new token. Both get OMP_WAIT_POLICY=PASSIVE and torch's
default thread count. After warm-ups the runs alternate worker, in-process, worker, ... Medians:
tokens/s ratio (goal >= 0.95) and the first-token latency the worker adds (goal < 20 ms), each with a
bootstrap interval, and the same two figures paired run by run.

This process never imports torch (checked at the end); the models run in the worker and the child.

    python benchmarks/native_models.py [--runs 10] [--tokens 100] [--warmup 1]
"""

from __future__ import annotations

import argparse
import json
import math
import os
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from common import (
    CI_NOTE,
    GOAL_NOTE,
    SpeedGoal,
    cpu_seconds,
    interleave,
    iqr,
    load,
    machine,
    median,
    progress,
    table,
    write_config,
)

from request_llms.chat import chat
from request_llms.config_loader import Config, load_config
from request_llms.model_spec import parse_model
from request_llms.native.backend import NativeBackend, Worker
from request_llms.native.plan import cache_dir, resolve_plan
from request_llms.procinfo import process_rss
from request_llms.request import ChatOptions
from tests.support.servers.provision import cache_root

MODEL = "builtin-gemma3-270m"
MODEL_ID = f"{MODEL}(quant=FP16, device=cpu)"
# Already in the completion form the worker gives a base model ("Question: ...\nAnswer:"), so both arms see
# the same text; greedy with repetition_penalty 1.2 it runs for over 300 tokens without a stop text or <eos>.
PROMPT = "Question: Describe the history of Europe in great detail, century by century.\nAnswer:"
REPETITION_PENALTY = 1.2  # what the worker uses for the completion-style built-in model (native/worker/generation.py)
GOAL = SpeedGoal(ttft_ms=20.0, ratio=0.95)
LOAD_TIMEOUT = 900.0
MIB = 1024 * 1024


# ---------------------------------------------------------------- the in-process arm (a child process)


def child(folder: str) -> None:
    """Load `folder` as the worker does and answer JSON requests on stdin with timings on stdout ("REPLY {...}")."""
    os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")  # the worker's settings, before torch is imported
    os.environ["HF_HUB_OFFLINE"] = "1"
    os.environ["TRANSFORMERS_OFFLINE"] = "1"
    os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")
    os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
    os.environ.setdefault("TQDM_DISABLE", "1")
    started = time.perf_counter()
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer
    from transformers.generation.streamers import BaseStreamer

    def reply(**values) -> None:
        print("REPLY " + json.dumps(values), flush=True)

    tokenizer = AutoTokenizer.from_pretrained(folder, local_files_only=True)
    model = AutoModelForCausalLM.from_pretrained(folder, dtype=torch.bfloat16, local_files_only=True).to("cpu").eval()
    pad = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else tokenizer.eos_token_id
    reply(
        load_seconds=time.perf_counter() - started,
        threads=torch.get_num_threads(),
        dtype=str(next(model.parameters()).dtype).removeprefix("torch."),
        omp_wait_policy=os.environ["OMP_WAIT_POLICY"],
    )

    class FirstToken(BaseStreamer):
        """Notes when generate hands over the first new token; nothing else, so it costs nothing per token."""

        def __init__(self) -> None:
            self.prompt_seen = False
            self.first: float | None = None

        def put(self, value) -> None:
            if not self.prompt_seen:  # generate passes the prompt first
                self.prompt_seen = True
            elif self.first is None:
                self.first = time.perf_counter()

        def end(self) -> None:
            pass

    for line in sys.stdin:
        request = json.loads(line)
        start = time.perf_counter()
        ids = tokenizer(request["prompt"]).input_ids
        input_ids = torch.tensor([ids])
        streamer = FirstToken()
        with torch.inference_mode():
            output = model.generate(
                input_ids=input_ids,
                attention_mask=torch.ones_like(input_ids),
                max_new_tokens=request["tokens"],
                do_sample=False,
                repetition_penalty=REPETITION_PENALTY,
                streamer=streamer,
                pad_token_id=pad,
            )
        end = time.perf_counter()
        new = output[0, len(ids) :].tolist()
        reply(
            ttft=streamer.first - start,
            generating=end - streamer.first,
            tokens=len(new),
            prompt_tokens=len(ids),
            text=tokenizer.decode(new, skip_special_tokens=True),
        )


class InProcess:
    """The child process that runs generate in its own process."""

    def __init__(self, folder: Path) -> None:
        self.log = tempfile.TemporaryFile(mode="w+")  # noqa: SIM115 (closed in close())
        self.process = subprocess.Popen(
            [sys.executable, str(Path(__file__).resolve()), "--child", str(folder)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=self.log,
            text=True,
            bufsize=1,
        )
        try:
            self.ready = self.read()
        except BaseException:
            self.close()
            raise

    def read(self) -> dict:
        for line in self.process.stdout:
            if line.startswith("REPLY "):
                return json.loads(line[len("REPLY ") :])
        self.log.seek(0)
        raise SystemExit(f"the in-process child stopped:\n{self.log.read()[-3000:]}")

    def ask(self, **request) -> dict:
        self.process.stdin.write(json.dumps(request) + "\n")
        return self.read()

    def close(self) -> None:
        self.process.stdin.close()
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        self.log.close()


# ---------------------------------------------------------------- both arms


@dataclass
class Answer:
    """One answer as a caller saw it (seconds)."""

    ttft: float  # first token as measured by the arm (ChatStream.time_to_first_token for the worker)
    rate: float  # (tokens - 1) / (first token to end)
    tokens: int
    prompt_tokens: int | None
    text: str
    model_cpu: float  # CPU time of the process running the model (all threads)
    caller_cpu: float  # CPU time of this process
    inner_rate: float | None = None  # the worker's own figure (usage.server_tokens_per_s)


def ask_worker(config: Config, tokens: int, pid: int) -> Answer:
    model_cpu, caller_cpu = cpu_seconds(pid), time.process_time()
    stream = chat(MODEL_ID, PROMPT, options=ChatOptions(temperature=0.0, max_tokens=tokens), config=config)
    for _ in stream:  # iterated at once: ChatStream's clock starts at the call
        pass
    caller_cpu = time.process_time() - caller_cpu
    usage = stream.usage
    return Answer(
        stream.time_to_first_token,
        stream.tokens_per_second,
        usage.completion_tokens,
        usage.prompt_tokens,
        stream.text,
        cpu_seconds(pid) - model_cpu,
        caller_cpu,
        usage.server_tokens_per_s,
    )


def ask_child(arm: InProcess, tokens: int) -> Answer:
    model_cpu, caller_cpu = cpu_seconds(arm.process.pid), time.process_time()
    got = arm.ask(prompt=PROMPT, tokens=tokens)
    caller_cpu = time.process_time() - caller_cpu
    rate = (got["tokens"] - 1) / got["generating"] if got["tokens"] > 1 else float("nan")
    return Answer(
        got["ttft"],
        rate,
        got["tokens"],
        got["prompt_tokens"],
        got["text"],
        cpu_seconds(arm.process.pid) - model_cpu,
        caller_cpu,
    )


def backend_of(config: Config) -> NativeBackend:
    from request_llms.runtime import runtime_of

    return runtime_of(config).backend_for(parse_model(MODEL))


def start_worker(config: Config) -> Worker:
    """Start the FP16 worker (as the first request would) and wait until the model is loaded."""
    worker = backend_of(config).worker(resolve_plan(parse_model(MODEL_ID), config))
    if not worker.loaded.wait(LOAD_TIMEOUT) or worker.failure is not None:
        raise SystemExit(f"the FP16 worker: {worker.failure or 'did not load'}")
    return worker


def make_config(cache: Path, private: Path) -> Config:
    config = load_config(environ={"LOCAL_MODEL_CACHE": str(cache)}, private=private)
    if config["LOCAL_MODEL_THREADS"] or config["LOCAL_MODEL_IDLE_TIMEOUT"]:
        raise SystemExit("config.py sets LOCAL_MODEL_THREADS or LOCAL_MODEL_IDLE_TIMEOUT; this benchmark needs both 0")
    return config


def worker_vs_inprocess(args: argparse.Namespace, config: Config, worker: Worker) -> list[str]:
    pid = worker.info["pid"]
    progress("in-process child: loading ")
    arm = InProcess(cache_dir(config) / "builtin" / "gemma3-270m")
    try:
        arms = {"worker": lambda: ask_worker(config, args.tokens, pid), "in-process": lambda: ask_child(arm, args.tokens)}
        progress("warm-up ")
        interleave(arms, args.warmup)
        progress(" runs ")
        load_before = load()
        runs = interleave(arms, args.runs)
        load_after = load()
        rss = {"worker": process_rss(pid) / MIB, "in-process": process_rss(arm.process.pid) / MIB}
        progress(" done\n")
    finally:
        arm.close()

    warnings, rows = [], []
    for name, answers in runs.items():
        counts = sorted({a.tokens for a in answers})
        if counts != [args.tokens]:
            warnings.append(f"{name}: {counts} tokens, not {args.tokens}")
        inner = median([a.inner_rate for a in answers])
        rows.append(
            [
                name,
                f"{median([a.ttft for a in answers]) * 1000:.1f}",
                iqr([a.ttft * 1000 for a in answers]),
                f"{median([a.rate for a in answers]):.2f}",
                iqr([a.rate for a in answers]),
                "-" if math.isnan(inner) else f"{inner:.2f}",
                ",".join(map(str, counts)),
                ",".join(sorted({str(a.prompt_tokens) for a in answers})),
                f"{median([a.model_cpu for a in answers]):.2f}",
                f"{median([a.caller_cpu for a in answers]) * 1000:.0f}",
                f"{rss[name]:.0f}",
            ]
        )
    texts = {a.text for answers in runs.values() for a in answers}
    if len(texts) != 1:
        warnings.append(f"the arms wrote {len(texts)} different texts (greedy decoding should give one)")
    ours, base = runs["worker"], runs["in-process"]
    pairs = list(zip(ours, base, strict=True))  # each worker run and the in-process run right after it
    paired_ratio = [w.rate / i.rate for w, i in pairs]
    paired_added = [(w.ttft - i.ttft) * 1000 for w, i in pairs]
    header = [
        "arm",
        "TTFT ms",
        "TTFT IQR",
        "tok/s",
        "tok/s IQR",
        "tok/s inside the worker",
        "tokens",
        "prompt tokens",
        "model process CPU s/answer",
        "this process CPU ms/answer",
        "RSS MiB after the runs",
    ]
    verdict_row = GOAL.row(
        ([a.ttft * 1000 for a in ours], [a.ttft * 1000 for a in base]),
        ([a.rate for a in ours], [a.rate for a in base]),
        f"{load_before} -> {load_after}",
    )
    lines = [
        f"Worker against generate in one process: FP16 (bfloat16 on the CPU), {args.tokens} tokens, greedy, "
        f"repetition_penalty {REPETITION_PENALTY}; {args.runs} runs per arm interleaved after {args.warmup} warm-up(s)",
        f"in-process child: torch threads {arm.ready['threads']}, dtype {arm.ready['dtype']}, "
        f"OMP_WAIT_POLICY={arm.ready['omp_wait_policy']}; worker: LOCAL_MODEL_THREADS 0 (torch's default), "
        f"dtype {worker.info['dtype']}",
        "",
        table(header, rows),
        f"  same text from both arms: {'yes' if len(texts) == 1 else 'NO'}. Model process CPU: utime + stime of the worker or the",
        "  in-process child (/proc/PID/stat) across one answer; this process: the benchmark's own CPU time.",
        "",
        table(GOAL.header("worker", "in-process"), [verdict_row]),
        CI_NOTE,
        GOAL_NOTE,
        f"  paired (each worker run against the in-process run right after it): TTFT added median {median(paired_added):+.1f} ms "
        f"(IQR {iqr(paired_added)}), tok/s ratio median {median(paired_ratio):.3f} (IQR {iqr(paired_ratio, 3)})",
        "  TTFT: worker from the chat() call (ChatStream.time_to_first_token), in-process from before tokenising to the",
        "  streamer's first put. tok/s: (tokens - 1) / (first token to end of answer).",
    ]
    return lines + [f"WARNING: {w}" for w in warnings]


def main(argv: list[str] | None = None) -> int:
    if argv is None and sys.argv[1:2] == ["--child"]:
        child(sys.argv[2])
        return 0
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=10, help="measured runs per arm (default 10)")
    parser.add_argument("--tokens", type=int, default=100, help="tokens per answer (default 100)")
    parser.add_argument("--warmup", type=int, default=1, help="warm-up runs per arm (default 1)")
    args = parser.parse_args(argv)
    if args.runs < 1 or args.warmup < 1 or args.tokens < 2:
        parser.error("--runs and --warmup must be at least 1, --tokens at least 2")
    os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")  # what the worker sets for itself; the child gets the same
    with tempfile.TemporaryDirectory() as folder:
        config = make_config(cache_root() / "localscholar-cache", write_config(Path(folder) / "config_private.py"))
        try:
            progress("loading the FP16 worker (the first time also prepares the built-in model) ")
            worker = start_worker(config)
            progress("done\n")
            lines = worker_vs_inprocess(args, config, worker)
        finally:
            backend_of(config).shutdown()
    head = [
        f"native_models: {MODEL} on the CPU, temperature 0",
        machine(),
        f"OMP_WAIT_POLICY={os.environ['OMP_WAIT_POLICY']}; this process imported torch: {'YES' if 'torch' in sys.modules else 'no'}",
        "",
    ]
    print("\n".join(head + lines))
    return 1 if "torch" in sys.modules else 0


if __name__ == "__main__":
    sys.exit(main())

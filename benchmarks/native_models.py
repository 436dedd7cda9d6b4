"""Native models: our worker process against `generate` in one process, quantisation modes, first use, a queue of four.

1. Worker against in-process. The same prepared built-in folder (Gemma 3 270M, bfloat16 on the CPU,
   which is what quant=FP16 means there), the same prompt and the same generation settings (greedy,
   repetition_penalty 1.2, --tokens new tokens; the prompt keeps the base model going, and the
   script checks both token counts and that both arms wrote the same text). The "worker" arm is
   request_llms.chat.chat(); the "in-process" arm is a child process of this script that loads the
   folder with transformers and calls model.generate() with a streamer that only notes the time of
   the first new token. Both get OMP_WAIT_POLICY=PASSIVE and torch's default thread count. After
   warm-ups the runs alternate worker, in-process, worker, ... Medians: tokens/s ratio (goal >= 0.95)
   and the first-token latency the worker adds (goal < 20 ms).
2. The built-in model at FP16, INT8 and INT4 on the CPU: worker RSS after load and after the runs
   (/proc/PID/status), load time, tokens/s (runs interleaved across the three), and each against FP16.
3. First use of the built-in model with an empty LOCAL_MODEL_CACHE (the GGUF is assembled and
   converted) against later loads from the cache.
4. Four requests at once to one model from four threads: total tokens/s against one request alone,
   the queue positions each request was told, and whether they were served in that order.

This process never imports torch (checked at the end); the models run in the worker and the child.

    python benchmarks/native_models.py [--runs 10] [--tokens 100] [--warmup 1] [--quant-runs 3] [--cached-loads 2]
                                       [--parts 1 2 3 4]
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import queue
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from common import interval, load, machine, table, verdict

from request_llms.backends.base import ChatOptions, Status
from request_llms.backends.local import POLL, LocalBackend, Worker
from request_llms.chat import ChatStream, chat
from request_llms.config_loader import Config, load_config
from request_llms.model_spec import parse_model
from request_llms.native_plan import cache_dir, resolve_plan
from tests.servers.provision import cache_root

MODEL = "builtin-gemma3-270m"
QUANTS = ("FP16", "INT8", "INT4")
# Already in the completion form the worker gives a base model ("Question: ...\nAnswer:"), so both arms see
# the same text; greedy with repetition_penalty 1.2 it runs for over 300 tokens without a stop text or <eos>.
PROMPT = "Question: Describe the history of Europe in great detail, century by century.\nAnswer:"
REPETITION_PENALTY = 1.2  # what the worker uses for the completion-style built-in model (local_worker/generation.py)
TTFT_GOAL_MS = 20.0
RATIO_GOAL = 0.95
LOAD_TIMEOUT = 900.0
MIB = 1024 * 1024
PIPE_MESSAGES = 300


def model_id(quant: str) -> str:
    return f"{MODEL}(quant={quant}, device=cpu)"


def progress(text: str) -> None:
    print(text, end="", file=sys.stderr, flush=True)


def memory(pid: int) -> dict[str, float]:
    """VmRSS, VmHWM (peak), RssAnon and RssFile of a process, in MiB."""
    values = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        key, _, value = line.partition(":")
        if key in ("VmRSS", "VmHWM", "RssAnon", "RssFile"):
            values[key] = int(value.split()[0]) * 1024 / MIB
    return values


def cpu_seconds(pid: int) -> float:
    """User plus system CPU time of a process, all its threads (/proc/PID/stat)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def median(values: list[float]) -> float:
    values = [v for v in values if v is not None]
    return statistics.median(values) if values else float("nan")


def spread(values: list[float], scale: float = 1.0, digits: int = 1) -> str:
    """The interquartile range, as text."""
    values = sorted(v * scale for v in values)
    q1, _, q3 = statistics.quantiles(values, n=4) if len(values) > 1 else (values[0],) * 3
    return f"{q1:.{digits}f}{' to ' if q1 < 0 else '-'}{q3:.{digits}f}"


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

    from request_llms.local_worker.generation import COMPLETION_STOPS, DeltaStreamer

    def reply(**values) -> None:
        print("REPLY " + json.dumps(values), flush=True)

    tokenizer = AutoTokenizer.from_pretrained(folder, local_files_only=True)
    model = AutoModelForCausalLM.from_pretrained(folder, dtype=torch.bfloat16, local_files_only=True).to("cpu").eval()
    pad = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else tokenizer.eos_token_id
    reply(
        load_seconds=time.perf_counter() - started,
        threads=torch.get_num_threads(),
        dtype=str(next(model.parameters()).dtype).removeprefix("torch."),
        memory=memory(os.getpid()),
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
        if request["op"] == "generate":
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
                ids=new,
            )
        elif request["op"] == "streamer":
            # The worker's DeltaStreamer fed one token at a time (as generate does), timed per put, at growing lengths.
            ids = request["ids"]
            sequence = (ids * (request["length"] // len(ids) + 1))[: request["length"]]
            streamer = DeltaStreamer(tokenizer, lambda text: None, COMPLETION_STOPS)
            streamer.put(torch.tensor([[2]]))  # the prompt
            costs = []
            for token in sequence:
                value = torch.tensor([token])
                began = time.perf_counter()
                streamer.put(value)
                costs.append(time.perf_counter() - began)
            reply(costs=costs, stopped=streamer.stopped)
        elif request["op"] == "memory":
            reply(memory=memory(os.getpid()))


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


# ---------------------------------------------------------------- our worker


@dataclass
class Answer:
    """One answer as a caller saw it (seconds)."""

    ttft: float  # first token as measured by the arm (ChatStream.time_to_first_token for the worker)
    rate: float  # (tokens - 1) / (first token to end)
    tokens: int
    prompt_tokens: int | None = None
    text: str = ""
    inner_rate: float | None = None  # the worker's own figure (usage.server_tokens_per_s)
    ids: list[int] = field(default_factory=list)
    model_cpu: float = 0.0  # CPU time of the process running the model (all threads)
    caller_cpu: float = 0.0  # CPU time of this process


def ask_worker(config: Config, quant: str, tokens: int, pid: int | None = None) -> Answer:
    model_cpu, caller_cpu = cpu_seconds(pid) if pid else 0.0, time.process_time()
    stream = chat(
        model_id(quant), PROMPT, options=ChatOptions(temperature=0.0, max_tokens=tokens), config=config
    )  # iterated at once: ChatStream's clock starts here
    for _ in stream:
        pass
    caller_cpu = time.process_time() - caller_cpu
    model_cpu = cpu_seconds(pid) - model_cpu if pid else 0.0
    usage = stream.usage
    return Answer(
        stream.time_to_first_token,
        stream.tokens_per_second,
        usage.completion_tokens,
        usage.prompt_tokens,
        stream.text,
        usage.server_tokens_per_s,
        model_cpu=model_cpu,
        caller_cpu=caller_cpu,
    )


def ask_child(arm: InProcess, tokens: int) -> Answer:
    model_cpu, caller_cpu = cpu_seconds(arm.process.pid), time.process_time()
    got = arm.ask(op="generate", prompt=PROMPT, tokens=tokens)
    caller_cpu = time.process_time() - caller_cpu
    model_cpu = cpu_seconds(arm.process.pid) - model_cpu
    rate = (got["tokens"] - 1) / got["generating"] if got["tokens"] > 1 else float("nan")
    return Answer(
        got["ttft"],
        rate,
        got["tokens"],
        got["prompt_tokens"],
        got["text"],
        ids=got["ids"],
        model_cpu=model_cpu,
        caller_cpu=caller_cpu,
    )


@dataclass
class Loaded:
    worker: Worker
    ready_seconds: float  # from starting the worker process to its "ready" message
    memory: dict[str, float]  # right after loading, before any request


def start_worker(config: Config, quant: str) -> Loaded:
    """Start the worker for `quant` (as the first request would) and wait until the model is loaded."""
    spec = parse_model(model_id(quant))
    backend = backend_of(config)
    began = time.perf_counter()
    worker = backend.worker(resolve_plan(spec, config))
    if not worker.loaded.wait(LOAD_TIMEOUT) or worker.failure is not None:
        raise RuntimeError(f"{quant}: {worker.failure or 'did not load'}")
    ready = time.perf_counter() - began
    return Loaded(worker, ready, memory(worker.info["pid"]))


def backend_of(config: Config) -> LocalBackend:
    from request_llms.registry import backend_for

    return backend_for(parse_model(MODEL), config)


def stop_worker(config: Config, worker: Worker) -> None:
    backend = backend_of(config)
    with backend.lock:
        backend.workers.pop(worker.plan, None)
    worker.stop()


def make_config(cache: Path, private: Path) -> Config:
    config = load_config(environ={"LOCAL_MODEL_CACHE": str(cache)}, private=private)
    if config["LOCAL_MODEL_THREADS"] or config["LOCAL_MODEL_IDLE_TIMEOUT"]:
        raise SystemExit("config.py sets LOCAL_MODEL_THREADS or LOCAL_MODEL_IDLE_TIMEOUT; this benchmark needs both 0")
    return config


# ---------------------------------------------------------------- 1. worker against in-process


def pipe_sender(conn, count: int, gap: float) -> None:
    """In a spawned process: `count` delta messages shaped like the worker's, each stamped with its send time."""
    costs = []
    for i in range(count):
        time.sleep(gap)
        began = time.perf_counter()
        conn.send(("delta", "r1", f" word{i}", began))
        costs.append(time.perf_counter() - began)
    conn.send(("done", "r1", costs))
    conn.close()


def pipe_latency(count: int = PIPE_MESSAGES, gap: float = 0.005) -> tuple[list[float], list[float]]:
    """The worker's delivery path without a model: Pipe -> reader thread -> queue.Queue -> get(timeout=POLL).

    Returns the time each send() took in the sending process and each message's time from send to consumer.
    """
    context = multiprocessing.get_context("spawn")
    conn, other = context.Pipe()
    process = context.Process(target=pipe_sender, args=(other, count, gap), daemon=True)
    process.start()
    other.close()
    inbox: queue.Queue = queue.Queue()

    def read() -> None:
        while True:
            try:
                inbox.put(conn.recv())
            except EOFError:
                return

    threading.Thread(target=read, daemon=True).start()
    latencies = []
    while True:
        try:
            message = inbox.get(timeout=POLL)
        except queue.Empty:
            continue
        if message[0] == "done":
            break
        latencies.append(time.perf_counter() - message[3])
    process.join(timeout=10)
    return message[2], latencies


def part_worker_vs_inprocess(args: argparse.Namespace, config: Config, fp16: Loaded) -> list[str]:
    load_before = load()
    folder = cache_dir(config) / "builtin" / "gemma3-270m"
    progress("1. in-process child: loading ")
    arm = InProcess(folder)
    try:
        arms: dict[str, Callable[[], Answer]] = {
            "worker": lambda: ask_worker(config, "FP16", args.tokens, fp16.worker.info["pid"]),
            "in-process": lambda: ask_child(arm, args.tokens),
        }
        progress("warm-up ")
        for _ in range(args.warmup):
            for run in arms.values():
                run()
                progress(".")
        progress(" runs ")
        runs: dict[str, list[Answer]] = {name: [] for name in arms}
        for _ in range(args.runs):
            for name, run in arms.items():
                runs[name].append(run())
                progress(".")
        load_after = load()
        progress(" diagnostics ")
        rss = {"worker": memory(fp16.worker.info["pid"])["VmRSS"], "in-process": arm.ask(op="memory")["memory"]["VmRSS"]}
        ids = runs["in-process"][-1].ids
        streamer_costs = {length: arm.ask(op="streamer", ids=ids, length=length)["costs"] for length in (100, 1000, 4000)}
        send_costs, pipe = pipe_latency()
        progress("done\n")
    finally:
        arm.close()

    warnings = []
    rows = []
    for name, answers in runs.items():
        counts = sorted({a.tokens for a in answers})
        if counts != [args.tokens]:
            warnings.append(f"{name}: {counts} tokens, not {args.tokens}")
        inner = median([a.inner_rate for a in answers]) if name == "worker" else None
        rows.append(
            [
                name,
                f"{median([a.ttft for a in answers]) * 1000:.1f}",
                spread([a.ttft for a in answers], 1000),
                f"{median([a.rate for a in answers]):.2f}",
                spread([a.rate for a in answers]),
                f"{inner:.2f}" if inner else "-",
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
    worker, inproc = runs["worker"], runs["in-process"]
    added = (median([a.ttft for a in worker]) - median([a.ttft for a in inproc])) * 1000
    added_low, added_high = interval([a.ttft * 1000 for a in worker], [a.ttft * 1000 for a in inproc], lambda a, b: a - b)
    ratio = median([a.rate for a in worker]) / median([a.rate for a in inproc])
    ratio_low, ratio_high = interval([a.rate for a in worker], [a.rate for a in inproc], lambda a, b: a / b)
    per_token_ms = 1000 / median([a.rate for a in inproc])

    def put_us(costs: list[float], upto: int) -> float:
        return statistics.median(costs[max(0, upto - 20) : upto]) * 1e6

    streamer_rows = [
        [
            f"{length}",
            f"{put_us(costs, min(100, length)):.0f}",
            f"{put_us(costs, length):.0f}",
            f"{sum(costs) * 1000:.1f}",
            f"{put_us(costs, length) / 1000 / per_token_ms * 100:.2f}%",
        ]
        for length, costs in streamer_costs.items()
    ]
    pipe_us = sorted(v * 1e6 for v in pipe)
    send_us = sorted(v * 1e6 for v in send_costs)
    pairs = list(zip(worker, inproc, strict=True))  # each worker run and the in-process run right after it
    paired_ratio = sorted(w.rate / i.rate for w, i in pairs)
    paired_added = sorted((w.ttft - i.ttft) * 1000 for w, i in pairs)
    lines = [
        f"1. Worker against generate in one process: FP16 (bfloat16 on the CPU), {args.tokens} tokens, greedy, "
        f"repetition_penalty {REPETITION_PENALTY}; {args.runs} runs per arm interleaved after {args.warmup} warm-up(s)",
        f"   in-process child: torch threads {arm.ready['threads']}, dtype {arm.ready['dtype']}, OMP_WAIT_POLICY={arm.ready['omp_wait_policy']}; "
        f"worker: LOCAL_MODEL_THREADS 0 (torch's default), dtype {fp16.worker.info['dtype']}",
        "",
        table(
            [
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
            ],
            rows,
        ),
        f"  same text from both arms: {'yes' if len(texts) == 1 else 'NO'}. Model process CPU: utime + stime of the worker or the",
        "  in-process child (/proc/PID/stat) across one answer; this process: the benchmark's own CPU time.",
        "",
        table(
            [
                "TTFT added ms (worker - in-process)",
                "95% CI",
                f"goal < {TTFT_GOAL_MS:g}",
                "tok/s ratio (worker / in-process)",
                "95% CI",
                f"goal >= {RATIO_GOAL}",
                "load 1/5/15 before -> after",
            ],
            [
                [
                    f"{added:+.1f}",
                    f"{added_low:+.1f} to {added_high:+.1f}",
                    verdict(added < TTFT_GOAL_MS, added_low >= TTFT_GOAL_MS),
                    f"{ratio:.3f}",
                    f"{ratio_low:.3f} to {ratio_high:.3f}",
                    verdict(ratio >= RATIO_GOAL, ratio_high < RATIO_GOAL),
                    f"{load_before} -> {load_after}",
                ]
            ],
        ),
        "  medians; 95% CI: bootstrap of the two medians. MISSED only when the whole interval is on the wrong side.",
        f"  paired (each worker run against the in-process run right after it): TTFT added median {statistics.median(paired_added):+.1f} ms "
        f"(IQR {spread(paired_added)}), tok/s ratio median {statistics.median(paired_ratio):.3f} (IQR {spread(paired_ratio, digits=3)})",
        "  TTFT: worker from the chat() call (ChatStream.time_to_first_token), in-process from before tokenising to the",
        "  streamer's first put. tok/s: (tokens - 1) / (first token to end of answer).",
        "",
        f"   Per-token work in the worker path (one token of generation takes {per_token_ms:.0f} ms here):",
        table(
            [
                "answer length (tokens)",
                "DeltaStreamer.put us, token 80-100",
                "us, last 20 tokens",
                "ms, all puts",
                "last put / token time",
            ],
            streamer_rows,
        ),
        "  DeltaStreamer (local_worker/generation.py) decodes the whole answer so far at every token; fed here one token",
        "  at a time outside generate, with the worker's stop texts and a send that does nothing.",
        f"  one delta from a spawned process to a consumer (Pipe, reader thread, queue.Queue, get(timeout={POLL})), "
        f"{len(pipe_us)} messages 5 ms apart:",
        f"  send() in the sender (on the worker's generation path) median {statistics.median(send_us):.0f} us; "
        f"send to consumer median {statistics.median(pipe_us):.0f} us, 90th percentile {pipe_us[int(0.9 * len(pipe_us))]:.0f} us",
    ]
    lines += [f"WARNING: {w}" for w in warnings]
    return lines


# ---------------------------------------------------------------- 2. quantisation modes


def part_quants(args: argparse.Namespace, config: Config, loaded: dict[str, Loaded]) -> list[str]:
    load_before = load()
    failed = {}
    for quant in QUANTS:
        if quant not in loaded:
            progress(f"2. loading {quant} ")
            try:
                loaded[quant] = start_worker(config, quant)
            except RuntimeError as exc:
                failed[quant] = str(exc).splitlines()[0][:150]
            progress("done\n")
    ready = [q for q in QUANTS if q in loaded]
    progress("2. warm-up ")
    for quant in ready:
        ask_worker(config, quant, args.tokens)
        progress(".")
    progress(" runs ")
    answers: dict[str, list[Answer]] = {q: [] for q in ready}
    for _ in range(args.quant_runs):
        for quant in ready:
            answers[quant].append(ask_worker(config, quant, args.tokens))
            progress(".")
    progress("done\n")
    after = {q: memory(loaded[q].worker.info["pid"]) for q in ready}
    rates = {q: median([a.rate for a in answers[q]]) for q in ready}
    rows = []
    for quant in ready:
        entry, now = loaded[quant], after[quant]

        def against(values: dict[str, float], quant: str = quant) -> str:
            return f"{values[quant] / values['FP16']:.2f}x" if "FP16" in values else "-"

        rows.append(
            [
                quant,
                entry.worker.info["method"],
                f"{entry.memory['VmRSS']:.0f} ({entry.memory['RssAnon']:.0f}+{entry.memory['RssFile']:.0f})",
                f"{now['VmRSS']:.0f} ({now['RssAnon']:.0f}+{now['RssFile']:.0f})",
                f"{now['VmHWM']:.0f}",
                f"{entry.worker.info['load_seconds']:.1f}",
                f"{entry.ready_seconds:.1f}",
                f"{rates[quant]:.2f}",
                ",".join(map(str, sorted({a.tokens for a in answers[quant]}))),
                against({q: after[q]["VmRSS"] for q in ready}),
                against({q: after[q]["VmHWM"] for q in ready}),
                against({q: loaded[q].worker.info["load_seconds"] for q in ready}),
                against(rates),
            ]
        )
    lines = [
        f"2. The built-in model per quantisation on the CPU: {args.tokens} tokens, {args.quant_runs} runs each interleaved "
        f"after one warm-up; load average {load_before} -> {load()}",
        "",
        table(
            [
                "quant",
                "method",
                "RSS MiB after load (anon+file)",
                "RSS MiB after runs (anon+file)",
                "peak MiB",
                "load s",
                "spawn to ready s",
                "tok/s",
                "tokens",
                "RSS after runs vs FP16",
                "peak vs FP16",
                "load vs FP16",
                "tok/s vs FP16",
            ],
            rows,
        ),
        "  RSS: the worker's VmRSS right after loading and after the runs (RssAnon + RssFile; file pages are mapped",
        "  safetensors, counted once touched); peak: VmHWM after the runs. load s: the worker's own figure (import torch to",
        "  model ready); spawn to ready: from starting the process to its ready message. tok/s: median, (tokens - 1) /",
        "  (first token to end).",
    ]
    lines += [f"WARNING: {q} could not be measured: {why}" for q, why in failed.items()]
    return lines


# ---------------------------------------------------------------- 3. first use against later loads


@dataclass
class FirstAnswer:
    load_seconds: float  # the worker's figure
    first_text: float  # chat() call to the first text
    wait_seconds: float  # ChatStream.wait_seconds
    ttft: float  # ChatStream.time_to_first_token
    stages: list[tuple[str, float]]  # loading stages shown, with the time since the call


def first_answer(config: Config) -> FirstAnswer:
    began = time.perf_counter()
    stream = chat(model_id("FP16"), PROMPT, options=ChatOptions(temperature=0.0, max_tokens=4), config=config)
    first, stages = None, []
    for event in stream.events():
        if isinstance(event, Status):
            if event.kind != "loading":
                continue
            stage = event.en.split(": ", 1)[-1].rsplit(" ", 1)[0]
            if stage not in [name for name, _ in stages]:
                stages.append((stage, time.perf_counter() - began))
        elif first is None:
            first = time.perf_counter()
    backend = backend_of(config)
    info = next(iter(backend.workers.values())).info
    backend.shutdown()
    return FirstAnswer(info["load_seconds"], first - began, stream.wait_seconds, stream.time_to_first_token, stages)


def part_first_use(args: argparse.Namespace, private: Path) -> list[str]:
    load_before = load()
    with tempfile.TemporaryDirectory(prefix="localscholar-first-use-") as folder:
        config = make_config(Path(folder), private)
        progress("3. first use (assemble and convert) ")
        first = first_answer(config)
        progress("done; cached loads ")
        cached = []
        for _ in range(args.cached_loads):
            cached.append(first_answer(config))
            progress(".")
        progress("done\n")
    rows = [
        [
            label,
            f"{answer.load_seconds:.1f}",
            f"{answer.first_text:.1f}",
            f"{answer.wait_seconds:.2f}",
            f"{answer.ttft:.2f}",
            " > ".join(f"{stage} {at:.1f}" for stage, at in answer.stages),
        ]
        for label, answer in [("first use (empty cache)", first)] + [(f"cached load {i + 1}", a) for i, a in enumerate(cached)]
    ]
    later_load = median([a.load_seconds for a in cached])
    later_first = median([a.first_text for a in cached])
    return [
        f"3. The built-in model's first use (empty LOCAL_MODEL_CACHE in a temporary folder) against loads from the cache; "
        f"load average {load_before} -> {load()}",
        "",
        table(
            [
                "load",
                "worker load s",
                "chat() to first text s",
                "ChatStream.wait_seconds",
                "ChatStream.time_to_first_token",
                "loading stages shown, s after the call",
            ],
            rows,
        ),
        f"  first use / cached (median of {len(cached)}): worker load {first.load_seconds / later_load:.1f}x "
        f"({first.load_seconds:.1f} s against {later_load:.1f} s), chat() to first text {first.first_text / later_first:.1f}x",
    ]


# ---------------------------------------------------------------- 4. four requests at once


@dataclass
class Flow:
    """One request's life as its thread saw it (perf_counter times)."""

    called: float
    first: float
    ended: float
    positions: list[int]
    tokens: int
    ttft_reported: float
    wait_reported: float

    @property
    def initial(self) -> int:
        return self.positions[0] if self.positions else 0


def one_flow(config: Config, tokens: int, barrier: threading.Barrier | None = None) -> Flow:
    if barrier is not None:
        barrier.wait()
    called = time.perf_counter()
    stream: ChatStream = chat(model_id("FP16"), PROMPT, options=ChatOptions(temperature=0.0, max_tokens=tokens), config=config)
    first, positions = None, []
    for event in stream.events():
        if isinstance(event, Status):
            if event.kind == "queued":
                positions.append(event.position)
        elif first is None:
            first = time.perf_counter()
    return Flow(
        called, first, stream.ended_at, positions, stream.usage.completion_tokens, stream.time_to_first_token, stream.wait_seconds
    )


def part_queue(args: argparse.Namespace, config: Config, count: int = 4) -> list[str]:
    load_before = load()
    progress(f"4. one request, {count} at once, one request ")
    solo = [one_flow(config, args.tokens)]
    progress(".")
    barrier = threading.Barrier(count)
    flows: list[Flow | BaseException] = [None] * count

    def run(i: int) -> None:
        try:
            flows[i] = one_flow(config, args.tokens, barrier)
        except BaseException as exc:  # reported below
            flows[i] = exc

    threads = [threading.Thread(target=run, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    progress(".")
    solo.append(one_flow(config, args.tokens))
    progress("done\n")
    errors = [f for f in flows if isinstance(f, BaseException)]
    if errors:
        return [f"4. WARNING: {len(errors)} of the {count} requests failed: {errors[0]!r}"]

    solo_rate = statistics.mean(f.tokens / (f.ended - f.called) for f in solo)
    solo_ttft = statistics.mean(f.first - f.called for f in solo)
    total = sum(f.tokens for f in flows) / (max(f.ended for f in flows) - min(f.called for f in flows))
    served = sorted(flows, key=lambda f: f.first)
    by_position = sorted(flows, key=lambda f: f.initial)
    in_order = served == by_position and all(
        later.first >= earlier.ended for earlier, later in zip(served, served[1:], strict=False)
    )
    rows = []
    for i, flow in enumerate(served):
        turn = served[i - 1].ended if i else flow.called  # a request's turn begins when the one before it ends
        rows.append(
            [
                i + 1,
                ",".join(map(str, flow.positions)) or "none (first)",
                f"{flow.first - flow.called:.2f}",
                f"{(flow.first - turn) * 1000:.0f}",
                f"{flow.ttft_reported * 1000:.0f}",
                f"{flow.wait_reported:.2f}",
                flow.tokens,
                f"{flow.tokens / (flow.ended - flow.first):.2f}",
            ]
        )
    gaps = [(later.first - earlier.ended) * 1000 for earlier, later in zip(served, served[1:], strict=False)]
    return [
        f"4. {count} requests at once to one model (FP16) from {count} threads, {args.tokens} tokens each; "
        f"load average {load_before} -> {load()}",
        "",
        table(
            ["", "tokens/s (all tokens / wall)", "vs one alone"],
            [
                ["one request alone (mean of one before and one after)", f"{solo_rate:.2f}", "1.00x"],
                [f"{count} at once", f"{total:.2f}", f"{total / solo_rate:.2f}x"],
            ],
        ),
        "",
        table(
            [
                "served",
                "queue positions told",
                "call to first text s",
                "TTFT from its turn ms",
                "ChatStream TTFT ms",
                "ChatStream wait s",
                "tokens",
                "tok/s",
            ],
            rows,
        ),
        f"  served in the order of their queue positions, one after another: {'yes' if in_order else 'NO'}",
        f"  a request's turn begins when the one before it ends; handoff to first text {statistics.median(gaps):.0f} ms "
        f"(median of {len(gaps)}) against {solo_ttft * 1000:.0f} ms TTFT for a request alone",
    ]


# ----------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    if argv is None and sys.argv[1:2] == ["--child"]:
        child(sys.argv[2])
        return 0
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=10, help="measured runs per arm in part 1 (default 10)")
    parser.add_argument("--tokens", type=int, default=100, help="tokens per answer (default 100)")
    parser.add_argument("--warmup", type=int, default=1, help="warm-up runs per arm in part 1 (default 1)")
    parser.add_argument("--quant-runs", type=int, default=3, help="measured runs per quantisation in part 2 (default 3)")
    parser.add_argument("--cached-loads", type=int, default=2, help="loads from the cache in part 3 (default 2)")
    parser.add_argument("--parts", type=int, nargs="+", choices=[1, 2, 3, 4], default=[1, 2, 3, 4], help="parts to run")
    args = parser.parse_args(argv)
    if args.runs < 1 or args.warmup < 1 or args.quant_runs < 1 or args.cached_loads < 1 or args.tokens < 2:
        parser.error("--runs, --warmup, --quant-runs and --cached-loads must be at least 1, --tokens at least 2")
    os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")  # what the worker sets for itself; the child gets the same
    sections: list[list[str]] = []
    with tempfile.TemporaryDirectory() as folder:
        private = Path(folder) / "config_private.py"
        private.touch()
        if {1, 2, 4} & set(args.parts):
            config = make_config(cache_root() / "localscholar-cache", private)
            try:
                progress("loading the FP16 worker (the first time also prepares the built-in model) ")
                loaded = {"FP16": start_worker(config, "FP16")}
                progress("done\n")
                if 1 in args.parts:
                    sections.append(part_worker_vs_inprocess(args, config, loaded["FP16"]))
                if 2 in args.parts:
                    sections.append(part_quants(args, config, loaded))
                    for quant in ("INT8", "INT4"):
                        if quant in loaded:
                            stop_worker(config, loaded.pop(quant).worker)
                if 4 in args.parts:
                    sections.append(part_queue(args, config))
            finally:
                backend_of(config).shutdown()
        if 3 in args.parts:
            sections.append(part_first_use(args, private))
    head = [
        f"native_models: {MODEL} on the CPU, temperature 0; parts {' '.join(map(str, args.parts))}",
        machine(),
        f"OMP_WAIT_POLICY={os.environ['OMP_WAIT_POLICY']}; this process imported torch: {'YES' if 'torch' in sys.modules else 'no'}",
    ]
    print("\n\n".join("\n".join(section) for section in [head, *sections]))
    return 0


if __name__ == "__main__":
    sys.exit(main())

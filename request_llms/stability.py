"""The deployment check's stability mode: keep a model busy for minutes at a chosen concurrency and watch it hold.

`concurrency` clients ask short questions back to back until the time is up. The run is cut into intervals,
each with its answers, failures, tokens per second and latency (p50, p99, first token); LocalScholar's own
resident memory and the serving process's (where it can be read) are sampled along the way and their slope
given in MiB per hour. Half-way, one request is stopped after its first token (a client that went away), and
the question asked right after it must be answered: the recovery.
"""

from __future__ import annotations

import os
import threading
import time
from collections import Counter
from dataclasses import asdict, dataclass, field

from .chat import chat
from .deploy_check import MAX_CONCURRENCY
from .errors import LLMError
from .model_spec import ModelSpec
from .request import CancelToken, ChatOptions
from .runtime import runtime_of

MAX_MINUTES = 24 * 60  # one run: a day at most
MAX_INTERVALS = 60
OPTIONS = ChatOptions(temperature=0.7, max_tokens=48)


@dataclass
class Interval:
    start_s: float
    end_s: float
    answered: int = 0
    failed: int = 0
    tokens_per_second: float | None = None  # all clients together
    latency_p50: float | None = None  # seconds per whole answer
    latency_p99: float | None = None
    first_token_p50: float | None = None


@dataclass
class StabilityReport:
    model: str
    minutes: float
    concurrency: int
    intervals: list[Interval] = field(default_factory=list)
    answered: int = 0
    failed: int = 0
    errors: dict[str, int] = field(default_factory=dict)  # each error line (in the run's language) and its count
    memory: list[tuple[float, float | None, float | None]] = field(default_factory=list)  # (s, own MiB, server MiB)
    own_slope_mib_per_hour: float | None = None
    server_slope_mib_per_hour: float | None = None
    recovery: dict = field(default_factory=dict)  # stopped_after_s, answered, seconds, error
    stopped: bool = False

    def as_dict(self) -> dict:
        return asdict(self)


@dataclass
class _Done:
    at: float  # seconds from the start, when it ended
    seconds: float
    first_token: float | None
    tokens: int
    error: str = ""


def own_memory_mib() -> float | None:
    """This process's resident memory."""
    try:
        with open(f"/proc/{os.getpid()}/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        return None
    return None


def slope_per_hour(points: list[tuple[float, float]]) -> float | None:
    """The least-squares slope of (seconds, value) points, per hour; None with fewer than three points."""
    if len(points) < 3:
        return None
    n = len(points)
    mean_t = sum(t for t, _ in points) / n
    mean_v = sum(v for _, v in points) / n
    spread = sum((t - mean_t) ** 2 for t, _ in points)
    if spread == 0:
        return None
    return sum((t - mean_t) * (v - mean_v) for t, v in points) / spread * 3600


def _percentile(values: list[float], share: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def _question(n: int) -> str:
    return f"In one short sentence, what is {n} plus {n % 7 + 2}?"


def run_stability(
    spec: ModelSpec,
    config,
    minutes: float,
    concurrency: int,
    cancel: CancelToken | None = None,
    intervals: int = 10,
    progress=None,
) -> StabilityReport:
    """Run the stability mode; `progress(done_seconds, answered, failed)` is called about once a second."""
    if not 0 < minutes <= MAX_MINUTES:
        raise ValueError(f"minutes must be above 0 and at most {MAX_MINUTES}, not {minutes}")
    if not 1 <= concurrency <= MAX_CONCURRENCY:
        raise ValueError(f"concurrency must be 1 to {MAX_CONCURRENCY}, not {concurrency}")
    intervals = max(1, min(intervals, MAX_INTERVALS))
    cancel = cancel or CancelToken()
    backend = runtime_of(config).backend_for(spec)
    report = StabilityReport(spec.text, minutes, concurrency)
    duration = minutes * 60
    started = time.monotonic()
    done: list[_Done] = []
    lock = threading.Lock()
    counter = iter(range(10**12))

    def ask_once(token: CancelToken, stop_after_first: bool = False, strict: bool = False) -> _Done:
        with lock:
            n = next(counter)
        began = time.monotonic()
        try:
            stream = chat(spec, _question(n), options=OPTIONS, config=config, cancel=token)
            for _ in stream:
                if stop_after_first:
                    token.cancel()
            end = time.monotonic()
            return _Done(end - started, end - began, stream.time_to_first_token, stream.completion_tokens or 0)
        except LLMError as exc:
            if strict:
                raise
            end = time.monotonic()
            return _Done(end - started, end - began, None, 0, exc.text(config.lang))

    def client() -> None:
        while not cancel.is_set() and time.monotonic() - started < duration:
            result = ask_once(cancel)
            if cancel.is_set():
                return  # the run was stopped: its last request is not counted
            with lock:
                done.append(result)

    def recovery() -> None:
        if cancel.wait(duration / 2):
            return
        stopped = ask_once(CancelToken(), stop_after_first=True)
        after = ask_once(cancel)
        report.recovery = {
            "stopped_after_s": round(stopped.at, 1),
            "answered": not after.error,
            "seconds": round(after.seconds, 2),
            "error": after.error,
        }

    def sample() -> None:
        server = backend.memory(spec).get("bytes")
        report.memory.append((round(time.monotonic() - started, 1), own_memory_mib(), server / 2**20 if server else None))

    first = ask_once(cancel, strict=True)  # the reachability test: a dead server stops the run with its one line
    with lock:
        done.append(first)
    threads = [threading.Thread(target=client, daemon=True, name=f"stability-{i}") for i in range(concurrency)]
    threads.append(threading.Thread(target=recovery, daemon=True, name="stability-recovery"))
    every = max(1.0, duration / 60)
    sample()
    for thread in threads:
        thread.start()
    next_sample = time.monotonic() + every
    try:
        while any(thread.is_alive() for thread in threads[:-1]) and not cancel.is_set():
            cancel.wait(1.0)
            if progress is not None:
                with lock:
                    answered = sum(1 for d in done if not d.error)
                    progress(time.monotonic() - started, answered, len(done) - answered)
            if time.monotonic() >= next_sample:
                sample()
                next_sample += every
    except KeyboardInterrupt:  # Ctrl-C: stop every request, and report what was measured
        cancel.cancel()
    for thread in threads:
        thread.join(5)
    sample()
    report.stopped = cancel.is_set()
    _summarise(report, done, min(duration, time.monotonic() - started), intervals)
    return report


def _summarise(report: StabilityReport, done: list[_Done], duration: float, intervals: int) -> None:
    width = duration / intervals
    for i in range(intervals):
        start, end = i * width, (i + 1) * width
        inside = [d for d in done if start <= d.at < end or (i == intervals - 1 and d.at >= end)]
        good = [d for d in inside if not d.error]
        report.intervals.append(
            Interval(
                round(start, 1),
                round(end, 1),
                len(good),
                len(inside) - len(good),
                sum(d.tokens for d in good) / width if width > 0 else None,
                _percentile([d.seconds for d in good], 0.5),
                _percentile([d.seconds for d in good], 0.99),
                _percentile([d.first_token for d in good if d.first_token is not None], 0.5),
            )
        )
    report.answered = sum(1 for d in done if not d.error)
    report.failed = len(done) - report.answered
    report.errors = dict(Counter(d.error for d in done if d.error).most_common(5))
    report.own_slope_mib_per_hour = slope_per_hour([(t, own) for t, own, _ in report.memory if own is not None])
    report.server_slope_mib_per_hour = slope_per_hour([(t, server) for t, _, server in report.memory if server is not None])


def _num(value: float | None, digits: int = 2) -> str:
    return "—" if value is None else f"{value:.{digits}f}"


def format_stability(report: StabilityReport, lang: str = "en") -> str:
    zh = lang == "zh"
    title = "稳定性测试" if zh else "Stability run"
    lines = [
        f"{title}: {report.model}, {report.minutes:g} {'分钟' if zh else 'min'}, "
        f"{'并发' if zh else 'concurrency'} {report.concurrency}",
        "",
    ]
    head = (
        ("时段 (s)", "成功", "失败", "tok/s", "延迟 p50", "延迟 p99", "首字 p50")
        if zh
        else ("interval (s)", "answered", "failed", "tok/s", "latency p50", "latency p99", "first token p50")
    )
    rows = [head]
    for part in report.intervals:
        rows.append(
            (
                f"{part.start_s:.0f}–{part.end_s:.0f}",
                str(part.answered),
                str(part.failed),
                _num(part.tokens_per_second, 1),
                _num(part.latency_p50),
                _num(part.latency_p99),
                _num(part.first_token_p50),
            )
        )
    widths = [max(len(row[i]) for row in rows) for i in range(len(head))]
    lines += ["  ".join(cell.ljust(widths[i]) for i, cell in enumerate(row)).rstrip() for row in rows]
    lines.append("")
    lines.append(
        f"合计：{report.answered} 个成功，{report.failed} 个失败"
        if zh
        else f"In all: {report.answered} answered, {report.failed} failed"
    )
    lines += [f"  ⚠ {count} × {line}" for line, count in report.errors.items()]
    own, server = report.own_slope_mib_per_hour, report.server_slope_mib_per_hour
    first, last = (report.memory[0], report.memory[-1]) if report.memory else ((0, None, None), (0, None, None))
    lines.append(
        (f"内存：LocalScholar {_num(first[1], 0)} → {_num(last[1], 0)} MiB（斜率 {_num(own, 1)} MiB/小时）")
        if zh
        else f"Memory: LocalScholar {_num(first[1], 0)} → {_num(last[1], 0)} MiB (slope {_num(own, 1)} MiB/hour)"
    )
    if first[2] is not None or last[2] is not None:
        lines.append(
            f"      服务进程 {_num(first[2], 0)} → {_num(last[2], 0)} MiB（斜率 {_num(server, 1)} MiB/小时）"
            if zh
            else f"        server {_num(first[2], 0)} → {_num(last[2], 0)} MiB (slope {_num(server, 1)} MiB/hour)"
        )
    r = report.recovery
    if r:
        if r["answered"]:
            lines.append(
                f"恢复：第 {r['stopped_after_s']:g} s 中途停止一个请求后，下一个问题 {r['seconds']:.2f} s 内得到回答"
                if zh
                else f"Recovery: after a request stopped mid-answer at {r['stopped_after_s']:g} s, the next question "
                f"was answered in {r['seconds']:.2f} s"
            )
        else:
            lines.append(
                f"恢复：中途停止一个请求后，下一个问题失败：{r['error']}"
                if zh
                else f"Recovery: after a request stopped mid-answer, the next question failed: {r['error']}"
            )
    if report.stopped:
        lines.append("已停止：以上为停止前的数字。" if zh else "Stopped: the figures are those before the stop.")
    return "\n".join(lines)

"""What the benchmark scripts share: the repository root on sys.path, progress on stderr, /proc readers, medians and
bootstrap intervals, goal verdicts, plain-text tables, and the web page's process (configuration, start, stop)."""

from __future__ import annotations

import datetime
import json
import operator
import os
import random
import re
import signal
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

import httpx

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from tests.support.servers.running import ServerStartError  # noqa: E402 (needs ROOT on sys.path)

BOOTSTRAP_ROUNDS = 2000
CLK_TCK = os.sysconf("SC_CLK_TCK")
CI_NOTE = f"  medians; 95% CI: bootstrap of the two medians ({BOOTSTRAP_ROUNDS} resamples)."
GOAL_NOTE = (
    "  A goal is MISSED only when the whole interval is on the wrong side; a median on the wrong side with an\n"
    "  interval that reaches the goal is noise."
)
T = TypeVar("T")


def progress(text: str) -> None:
    """A word or a dot on stderr, so that stdout holds only the report."""
    print(text, end="", file=sys.stderr, flush=True)


def interleave(arms: Mapping[str, Callable[[], T]], rounds: int) -> dict[str, list[T]]:
    """`rounds` rounds of one call of each arm in turn, a dot each; the results per arm."""
    results: dict[str, list[T]] = {name: [] for name in arms}
    for _ in range(rounds):
        for name, run in arms.items():
            results[name].append(run())
            progress(".")
    return results


# ---------------------------------------------------------------- the machine and its processes (/proc)


def load() -> str:
    """The 1, 5 and 15 minute load averages, as text."""
    return " ".join(f"{value:.2f}" for value in os.getloadavg())


def machine() -> str:
    """Date, CPU count and load, for the head of a report."""
    now = datetime.datetime.now().astimezone().strftime("%Y-%m-%d %H:%M %Z")
    return f"{now}; {os.cpu_count()} CPUs; load average {load()} (1/5/15 min); Python {sys.version.split()[0]}"


def loads_line(before: str, after: str, during: str = "runs") -> str:
    return f"load average 1/5/15 min: {before} before the {during} -> {after} after"


def cpu_seconds(pid: int) -> float:
    """User plus system CPU time of a process, all its threads (/proc/PID/stat)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLK_TCK


def machine_cpu_seconds() -> float:
    """CPU seconds spent by the whole machine, all cores, every process (user + nice + system + irq + softirq + steal)."""
    fields = Path("/proc/stat").read_text().splitlines()[0].split()[1:]
    user, nice, system, _idle, _iowait, irq, softirq, steal = (int(v) for v in fields[:8])
    return (user + nice + system + irq + softirq + steal) / CLK_TCK


def peak_rss(pid: int) -> int:
    """The most resident bytes a process has had (VmHWM); its present RSS is request_llms.procinfo.process_rss."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) * 1024
    return 0


def heavy_maps(pid: int) -> list[str]:
    """Files of torch or transformers mapped into the process (shared libraries, mmapped weights)."""
    pattern = re.compile(r"(libtorch|/torch/|/transformers/)")
    found = set()
    for line in Path(f"/proc/{pid}/maps").read_text().splitlines():
        parts = line.split(None, 5)
        if len(parts) == 6 and pattern.search(parts[5]):
            found.add(parts[5])
    return sorted(found)


def import_times(output: str) -> list[tuple[str, int, int]]:
    """(module, depth, cumulative microseconds) of each line of `python -X importtime`'s report; depth 0 is a
    top-level import."""
    rows = []
    for line in output.splitlines():
        if not line.startswith("import time:") or line.count("|") != 2:
            continue
        _, cumulative, name = line.removeprefix("import time:").split("|")
        if cumulative.strip().isdigit():  # not the header line
            rows.append((name.strip(), (len(name) - len(name.lstrip()) - 1) // 2, int(cumulative)))
    return rows


# ---------------------------------------------------------------- medians, spreads, intervals, goals


def median(values: Sequence[float | None]) -> float:
    """The median of the values that are not None; NaN when there are none."""
    present = [v for v in values if v is not None]
    return statistics.median(present) if present else float("nan")


def iqr(values: Sequence[float], digits: int = 1) -> str:
    """The interquartile range, as text."""
    q1, _, q3 = statistics.quantiles(values, n=4) if len(values) > 1 else (values[0],) * 3
    return f"{q1:.{digits}f}{' to ' if q1 < 0 else '-'}{q3:.{digits}f}"


def percentile(values: Sequence[float], q: float) -> float:
    """The value at quantile `q` (0 to 1) of the sorted values, nearest rank."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def interval(ours: Sequence[float], base: Sequence[float], compare: Callable[[float, float], float]) -> tuple[float, float]:
    """A 95% bootstrap interval of compare(median of ours, median of base)."""
    rng = random.Random(0)
    values = sorted(
        compare(statistics.median(rng.choices(ours, k=len(ours))), statistics.median(rng.choices(base, k=len(base))))
        for _ in range(BOOTSTRAP_ROUNDS)
    )
    return values[int(0.025 * BOOTSTRAP_ROUNDS)], values[int(0.975 * BOOTSTRAP_ROUNDS) - 1]


@dataclass(frozen=True)
class Estimate:
    """A comparison of two medians with its 95% bootstrap interval."""

    value: float
    low: float
    high: float

    def cells(self, spec: str, unit: str = "") -> list[str]:
        """The value and the interval as two table cells."""
        return [f"{self.value:{spec}}{unit}", f"{self.low:{spec}} to {self.high:{spec}}"]


def difference(ours: Sequence[float], base: Sequence[float]) -> Estimate:
    """Median of ours minus median of base."""
    return Estimate(statistics.median(ours) - statistics.median(base), *interval(ours, base, operator.sub))


def ratio(ours: Sequence[float], base: Sequence[float]) -> Estimate:
    """Median of ours over median of base."""
    return Estimate(statistics.median(ours) / statistics.median(base), *interval(ours, base, operator.truediv))


def verdict(estimate: Estimate, *, below: float | None = None, at_least: float | None = None) -> str:
    """ok; MISSED when the whole interval is on the wrong side of the goal; noise when only the median is."""
    if below is not None:
        return "ok" if estimate.value < below else "MISSED" if estimate.low >= below else "noise"
    assert at_least is not None
    return "ok" if estimate.value >= at_least else "MISSED" if estimate.high < at_least else "noise"


@dataclass(frozen=True)
class SpeedGoal:
    """Ours against a baseline: time to first token added under `ttft_ms`, tokens/s ratio at least `ratio`."""

    ttft_ms: float
    ratio: float

    def header(self, ours: str, base: str) -> list[str]:
        return [
            f"TTFT added ms ({ours} - {base})",
            "95% CI",
            f"goal < {self.ttft_ms:g}",
            f"tok/s ratio ({ours} / {base})",
            "95% CI",
            f"goal >= {self.ratio}",
            "load 1/5/15 before -> after",
        ]

    def row(self, ttft_ms: tuple[Sequence[float], Sequence[float]], rates: tuple[Sequence[float], Sequence[float]], loads: str):
        """The verdict row: TTFT (ms) and tokens/s of ours and of the baseline, and the load around the runs."""
        added, faster = difference(*ttft_ms), ratio(*rates)
        return [
            *added.cells("+.1f"),
            verdict(added, below=self.ttft_ms),
            *faster.cells(".3f"),
            verdict(faster, at_least=self.ratio),
            loads,
        ]

    def runs_row(self, ours: Sequence, base: Sequence, loads: str):
        """The verdict row from two arms' runs (each with `ttft` in seconds and `tokens_per_s`)."""
        return self.row(
            ([r.ttft * 1000 for r in ours], [r.ttft * 1000 for r in base]),
            ([r.tokens_per_s for r in ours], [r.tokens_per_s for r in base]),
            loads,
        )


def speed_cells(runs: Sequence, tokens: int) -> tuple[list[str], str | None]:
    """TTFT ms and tokens/s of `runs` (median and IQR each) and the token counts the server gave; with a line
    when a server counted other than the `tokens` asked for (0: it gave no count)."""
    counts = sorted({run.tokens or 0 for run in runs})
    cells = [
        f"{median([run.ttft for run in runs]) * 1000:.1f}",
        iqr([run.ttft * 1000 for run in runs]),
        f"{median([run.tokens_per_s for run in runs]):.2f}",
        iqr([run.tokens_per_s for run in runs]),
        ",".join(map(str, counts)),
    ]
    return cells, None if counts == [tokens] else f"the server counted {counts} tokens, not {tokens}"


# ---------------------------------------------------------------- tables


def table(header: Sequence[str], rows: Sequence[Sequence[object]]) -> str:
    """Columns padded to their widest cell; text left-aligned, numbers right-aligned."""
    cells = [[str(cell) for cell in header]] + [[str(cell) for cell in row] for row in rows]
    widths = [max(len(row[i]) for row in cells) for i in range(len(header))]
    numeric = [all(_is_number(row[i]) for row in cells[1:]) for i in range(len(header))]

    def line(row: list[str]) -> str:
        return "  ".join(
            cell.rjust(w) if num else cell.ljust(w) for cell, w, num in zip(row, widths, numeric, strict=True)
        ).rstrip()

    rule = "  ".join("-" * w for w in widths)
    return "\n".join([line(cells[0]), rule, *(line(row) for row in cells[1:])])


def _is_number(text: str) -> bool:
    try:
        float(text.replace("+", "", 1).replace("x", ""))
    except ValueError:
        return False
    return True


# ---------------------------------------------------------------- servers and the web page


def read_sse(response: httpx.Response) -> Iterator[str | int]:
    """An OpenAI-style chat SSE stream: each chunk's non-empty delta text, then usage.completion_tokens."""
    for line in response.iter_lines():
        if not line.startswith("data: ") or line == "data: [DONE]":
            continue
        chunk = json.loads(line[len("data: ") :])
        for choice in chunk.get("choices") or []:
            if choice["delta"].get("content"):
                yield choice["delta"]["content"]
        if chunk.get("usage"):
            yield chunk["usage"]["completion_tokens"]


def write_config(path: Path, **settings: object) -> Path:
    """A configuration file for LOCALSCHOLAR_CONFIG or load_config(private=...): one `NAME = value` line per setting."""
    path.write_text("".join(f"{name} = {value!r}\n" for name, value in settings.items()), encoding="utf-8")
    return path


def page_config(folder: Path, **settings: object) -> Path:
    """The page's configuration: its data in `folder`/data, no probing for local servers, and `settings`."""
    return write_config(folder / "config_private.py", DATA_DIR=str(folder / "data"), DISCOVER_LOCAL_MODELS=False, **settings)


def page_args(port: int, flags: Sequence[str] = ()) -> list[str]:
    """The interpreter's arguments that start the web page on `port`."""
    return [*flags, str(ROOT / "main.py"), "--port", str(port), "--no-browser"]


def start_web(
    args: Sequence[str], env: Mapping[str, str], log: Path, urls: Sequence[str], timeout: float, poll: float, client: httpx.Client
) -> tuple[subprocess.Popen, list[float]]:
    """Start `python ARGS` from the repository root in its own process group, its output in `log`, and poll each
    of `urls` in turn until it answers 200. Returns the process and the seconds from the launch until each URL
    answered. A process that exits or does not answer within `timeout` s is stopped: ServerStartError."""
    with open(log, "wb") as output:
        started = time.perf_counter()
        process = subprocess.Popen(
            [sys.executable, *args],
            cwd=ROOT,
            env=dict(env),
            stdin=subprocess.DEVNULL,
            stdout=output,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    answered: list[float] = []
    try:
        for url in urls:
            while True:
                if process.poll() is not None:
                    raise ServerStartError(f"exited with code {process.returncode} while starting; output:\n{tail(log)}")
                if time.perf_counter() > started + timeout:
                    raise ServerStartError(f"did not answer within {timeout:g} s; output:\n{tail(log)}")
                try:
                    if client.get(url).status_code == 200:
                        answered.append(time.perf_counter() - started)
                        break
                except httpx.TransportError:
                    pass
                time.sleep(poll)
    except BaseException:
        stop_group(process)
        raise
    return process, answered


def tail(log: Path, chars: int = 3000) -> str:
    try:
        return log.read_text(encoding="utf-8", errors="replace")[-chars:]
    except OSError:
        return "(no output)"


def stop_group(process: subprocess.Popen, grace: float = 10.0) -> None:
    """SIGTERM to the process group of `process` (started with start_new_session), SIGKILL after `grace` s."""
    if process.poll() is None:
        try:
            os.killpg(process.pid, signal.SIGTERM)
            process.wait(grace)
        except ProcessLookupError:
            pass
        except subprocess.TimeoutExpired:
            try:
                os.killpg(process.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
    process.wait()


@contextmanager
def ollama_copy(base_url: str, source: str, name: str, parameters: Mapping[str, object]) -> Iterator[str]:
    """A model `name` made on the Ollama at `base_url` from `source` with `parameters` (num_ctx, num_thread ...),
    deleted afterwards."""
    modelfile = f"FROM {source}\n" + "".join(f"PARAMETER {key} {value}\n" for key, value in parameters.items())
    with httpx.Client(base_url=base_url, timeout=120.0, trust_env=False) as client:
        client.post("/api/create", json={"model": name, "modelfile": modelfile, "stream": False}).raise_for_status()
        try:
            yield name
        finally:
            client.request("DELETE", "/api/delete", json={"model": name})


def text_of(content: object) -> str:
    """A chat message's text: a string, or Gradio's list of {"type": "text", "text": ...} parts."""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return "".join(text_of(part) for part in content)
    if isinstance(content, dict):
        return str(content.get("text", "")) if content.get("type", "text") == "text" else json.dumps(content)
    return str(content)

"""What starting the web page costs: `python main.py` against a bare Gradio app, time to answer and memory.

Each run launches a fresh process and times it from the launch until GET / answers 200 and then GET
/config answers 200 (the two requests a browser makes first). The process's RSS (VmRSS from
/proc/PID/status) is read right then ("ready"), and again after one more page load (GET / and GET
/config). Then the process is stopped.

"ours" is `python main.py --port P` with a configuration file of its own (LOCALSCHOLAR_CONFIG): a
data folder in a temporary directory and DISCOVER_LOCAL_MODELS = False, everything else the defaults.
"bare" is a script written to a temporary file: a gr.Blocks with a Chatbot and a Textbox,
queue().launch() on 127.0.0.1, then it blocks. Both get GRADIO_ANALYTICS_ENABLED=False (main.py sets
it itself; the bare app would otherwise try to reach Gradio's analytics server) and run from the
repository root. Runs alternate bare, ours, bare, ours ... after one warm-up of each.

Heavy frameworks: after every run of ours the script reads /proc/PID/maps and fails if a torch or
transformers file (libtorch*.so, torch/ or transformers/ paths) is mapped. transformers is pure
Python and maps no library of its own, so one extra run of ours under `python -X importtime` (not
timed) lists every module the process imports until after the page load, and must name neither
torch nor transformers (nor any of their submodules).

    python benchmarks/web_startup.py [--runs 5] [--warmup 1] [--timeout 120]

Exit status 1 only when a check fails (a process that does not start, torch or transformers
loaded); a missed speed or memory goal is printed, not an error.
"""

from __future__ import annotations

import argparse
import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx
from common import BOOTSTRAP_ROUNDS, ROOT, heavy_maps, interval, load, machine, table, verdict

TIME_GOAL = 1.3  # ours / bare
RSS_GOAL_MB = 60.0  # ours - bare
HEAVY = ("torch", "transformers")
BARE_APP = """\
import threading

import gradio as gr

with gr.Blocks() as demo:
    gr.Chatbot()
    gr.Textbox()
demo.queue().launch(server_name="127.0.0.1", server_port={port}, prevent_thread_lock=True)
threading.Event().wait()
"""


class StartFailed(RuntimeError):
    """A web process exited or did not answer in time; the message has its output's tail."""


@dataclass
class Run:
    """One launch, as measured from outside."""

    arm: str
    ready_s: float  # launch -> GET / 200 and GET /config 200
    first_page_s: float  # launch -> GET / 200
    rss_ready_mb: float
    rss_loaded_mb: float  # after one more GET / and GET /config
    hwm_mb: float  # VmHWM, the peak, after the page load
    heavy_maps: list[str] = field(default_factory=list)  # torch/transformers files mapped in the process


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def status_mb(pid: int) -> dict[str, float]:
    """VmRSS and VmHWM of a process, in MB (10^6 bytes); /proc gives kB (KiB)."""
    values = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        key, _, rest = line.partition(":")
        if key in ("VmRSS", "VmHWM"):
            values[key] = int(rest.split()[0]) * 1024 / 1e6
    return values


def stop(process: subprocess.Popen, grace: float = 10.0) -> None:
    """SIGTERM to the process group this script started, then SIGKILL after `grace` s."""
    if process.poll() is None:
        try:
            os.killpg(process.pid, signal.SIGTERM)
        except ProcessLookupError:
            pass
        try:
            process.wait(grace)
        except subprocess.TimeoutExpired:
            try:
                os.killpg(process.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
    process.wait()


def tail(path: Path, lines: int = 30) -> str:
    try:
        return "\n".join(path.read_text(encoding="utf-8", errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no output)"


def wait_ready(
    process: subprocess.Popen, client: httpx.Client, base: str, started: float, timeout: float, log: Path
) -> tuple[float, float]:
    """Poll GET / every 20 ms until 200, then GET /config until 200; the times since `started`."""
    deadline = started + timeout
    first_page = None
    while True:
        if process.poll() is not None:
            raise StartFailed(f"exited with code {process.returncode} while starting; output:\n{tail(log)}")
        if time.perf_counter() > deadline:
            raise StartFailed(f"did not answer within {timeout:g} s; output:\n{tail(log)}")
        try:
            if first_page is None:
                if client.get(base + "/").status_code == 200:
                    first_page = time.perf_counter() - started
                    continue
            elif client.get(base + "/config").status_code == 200:
                return first_page, time.perf_counter() - started
        except httpx.TransportError:
            pass
        time.sleep(0.02)


def launch(arm: str, folder: Path, timeout: float, importtime: bool = False) -> tuple[Run, str]:
    """Start one web process, measure it, stop it; also returns its output (stderr has -X importtime's list)."""
    port = free_port()
    env = dict(os.environ, GRADIO_ANALYTICS_ENABLED="False", PYTHONUNBUFFERED="1")
    flags = ["-X", "importtime"] if importtime else []
    if arm == "ours":
        env["LOCALSCHOLAR_CONFIG"] = str(folder / "config_private.py")
        command = [sys.executable, *flags, str(ROOT / "main.py"), "--port", str(port), "--no-browser"]
    else:
        script = folder / "bare_app.py"
        script.write_text(BARE_APP.format(port=port), encoding="utf-8")
        command = [sys.executable, *flags, str(script)]
    log = folder / f"{arm}-{port}.log"
    with open(log, "wb") as output, httpx.Client(timeout=10.0, trust_env=False) as client:
        started = time.perf_counter()
        process = subprocess.Popen(
            command, cwd=ROOT, env=env, stdin=subprocess.DEVNULL, stdout=output, stderr=subprocess.STDOUT, start_new_session=True
        )
        try:
            base = f"http://127.0.0.1:{port}"
            first_page, ready = wait_ready(process, client, base, started, timeout, log)
            rss_ready = status_mb(process.pid)["VmRSS"]
            client.get(base + "/").raise_for_status()
            client.get(base + "/config").raise_for_status()
            loaded = status_mb(process.pid)
            mapped = heavy_maps(process.pid)
        finally:
            stop(process)
    run = Run(arm, ready, first_page, rss_ready, loaded["VmRSS"], loaded["VmHWM"], mapped)
    return run, log.read_text(encoding="utf-8", errors="replace")


def imported_heavy(importtime_output: str) -> list[str]:
    """Modules of torch or transformers in `-X importtime` lines ("import time: self | cumulative | name")."""
    names = []
    for line in importtime_output.splitlines():
        if line.startswith("import time:") and line.count("|") == 2:
            name = line.rsplit("|", 1)[1].strip()
            if name.split(".")[0] in HEAVY:
                names.append(name)
    return names


def progress(text: str) -> None:
    print(text, end="", file=sys.stderr, flush=True)


def iqr(values: list[float], digits: int = 2) -> str:
    q1, _, q3 = statistics.quantiles(sorted(values), n=4) if len(values) > 1 else (values[0],) * 3
    return f"{q1:.{digits}f}-{q3:.{digits}f}"


def report(
    runs: dict[str, list[Run]], args: argparse.Namespace, loads: tuple[str, str], module_count: int, heavy_names: list[str]
) -> str:
    rows = []
    for arm in ("bare", "ours"):
        arm_runs = runs[arm]
        rows.append(
            [
                arm,
                f"{statistics.median(r.first_page_s for r in arm_runs):.2f}",
                f"{statistics.median(r.ready_s for r in arm_runs):.2f}",
                iqr([r.ready_s for r in arm_runs]),
                f"{statistics.median(r.rss_ready_mb for r in arm_runs):.1f}",
                f"{statistics.median(r.rss_loaded_mb for r in arm_runs):.1f}",
                iqr([r.rss_loaded_mb for r in arm_runs], 1),
                f"{statistics.median(r.hwm_mb for r in arm_runs):.1f}",
            ]
        )
    ours, bare = runs["ours"], runs["bare"]
    ratio = statistics.median(r.ready_s for r in ours) / statistics.median(r.ready_s for r in bare)
    ratio_low, ratio_high = interval([r.ready_s for r in ours], [r.ready_s for r in bare], lambda a, b: a / b)
    extra = statistics.median(r.rss_loaded_mb for r in ours) - statistics.median(r.rss_loaded_mb for r in bare)
    extra_low, extra_high = interval([r.rss_loaded_mb for r in ours], [r.rss_loaded_mb for r in bare], lambda a, b: a - b)
    goals = [
        [
            "time to ready, ours / bare",
            f"{ratio:.2f}x",
            f"{ratio_low:.2f} to {ratio_high:.2f}",
            f"< {TIME_GOAL}x",
            verdict(ratio < TIME_GOAL, ratio_low >= TIME_GOAL),
        ],
        [
            "RSS after page load, ours - bare (MB)",
            f"{extra:+.1f}",
            f"{extra_low:+.1f} to {extra_high:+.1f}",
            f"< {RSS_GOAL_MB:g}",
            verdict(extra < RSS_GOAL_MB, extra_low >= RSS_GOAL_MB),
        ],
    ]
    mapped = sorted({path for run in ours for path in run.heavy_maps})
    return "\n".join(
        [
            f"web_startup: {args.runs} launches per arm interleaved after {args.warmup} warm-up(s) each; medians",
            machine(),
            f"load average 1/5/15 min: {loads[0]} before the runs -> {loads[1]} after",
            "",
            table(
                [
                    "arm",
                    "GET / 200 s",
                    "ready s",
                    "ready IQR",
                    "RSS ready MB",
                    "RSS after load MB",
                    "RSS IQR",
                    "peak RSS MB",
                ],
                rows,
            ),
            "  ready: launch until GET / answered 200 and then GET /config answered 200 (polled every 20 ms).",
            "  RSS: VmRSS when ready, and after one more GET / and GET /config; peak: VmHWM. MB = 10^6 bytes.",
            "",
            table(["measure", "value", "95% CI", "goal", "verdict"], goals),
            f"  95% CI: bootstrap of the two medians ({BOOTSTRAP_ROUNDS} resamples); MISSED only when the whole interval"
            " is on the wrong side.",
            "",
            f"torch/transformers files mapped in ours (/proc/PID/maps, every run): {', '.join(mapped) or 'none'}",
            f"torch/transformers modules imported by ours (-X importtime, one extra run, {module_count} modules in all):"
            f" {', '.join(sorted(set(heavy_names))) or 'none'}",
        ]
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5, help="measured launches per arm (default 5)")
    parser.add_argument("--warmup", type=int, default=1, help="warm-up launches per arm (default 1)")
    parser.add_argument("--timeout", type=float, default=120.0, help="seconds a launch may take to answer (default 120)")
    args = parser.parse_args(argv)
    if args.runs < 1 or args.warmup < 0:
        parser.error("--runs must be at least 1, --warmup at least 0")
    runs: dict[str, list[Run]] = {"bare": [], "ours": []}
    with tempfile.TemporaryDirectory(prefix="web-startup-") as name:
        folder = Path(name)
        (folder / "config_private.py").write_text(
            f"DATA_DIR = {str(folder / 'data')!r}\nDISCOVER_LOCAL_MODELS = False\n", encoding="utf-8"
        )
        try:
            progress("warm-up ")
            for _ in range(args.warmup):
                for arm in runs:
                    launch(arm, folder, args.timeout)
                    progress(".")
            progress(" runs ")
            before = load()
            for _ in range(args.runs):
                for arm in runs:
                    runs[arm].append(launch(arm, folder, args.timeout)[0])
                    progress(".")
            after = load()
            progress(" -X importtime ")
            _, output = launch("ours", folder, args.timeout, importtime=True)
            progress("done\n")
        except StartFailed as exc:
            progress("\n")
            print(f"a web process did not start: {exc}", file=sys.stderr)
            return 1
    module_lines = [
        line
        for line in output.splitlines()
        if line.startswith("import time:") and line.count("|") == 2 and not line.endswith("imported package")
    ]
    heavy_names = imported_heavy(output)
    print(report(runs, args, (before, after), len(module_lines), heavy_names))
    failed = [f"{run.arm}: {', '.join(run.heavy_maps)}" for run in runs["ours"] if run.heavy_maps]
    if heavy_names:
        failed.append(f"ours imported {', '.join(sorted(set(heavy_names)))}")
    for line in failed:
        print(f"FAILED: {line}", file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())

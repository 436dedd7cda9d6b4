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
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import httpx
from common import (
    CI_NOTE,
    GOAL_NOTE,
    difference,
    heavy_maps,
    import_times,
    interleave,
    iqr,
    load,
    loads_line,
    machine,
    median,
    page_args,
    page_config,
    peak_rss,
    progress,
    ratio,
    start_web,
    stop_group,
    table,
    verdict,
)

from request_llms.procinfo import process_rss
from tests.support.servers.running import ServerStartError, free_port

TIME_GOAL = 1.3  # ours / bare
RSS_GOAL_MB = 60.0  # ours - bare
MB = 1e6
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


def launch(arm: str, folder: Path, timeout: float, importtime: bool = False) -> tuple[Run, str]:
    """Start one web process, measure it, stop it; also returns its output (stderr has -X importtime's list)."""
    port = free_port()
    env = dict(os.environ, GRADIO_ANALYTICS_ENABLED="False", PYTHONUNBUFFERED="1")
    flags = ["-X", "importtime"] if importtime else []
    if arm == "ours":
        env["LOCALSCHOLAR_CONFIG"] = str(folder / "config_private.py")
        args = page_args(port, flags)
    else:
        script = folder / "bare_app.py"
        script.write_text(BARE_APP.format(port=port), encoding="utf-8")
        args = [*flags, str(script)]
    log = folder / f"{arm}-{port}.log"
    base = f"http://127.0.0.1:{port}"
    with httpx.Client(timeout=10.0, trust_env=False) as client:
        process, (first_page, ready) = start_web(args, env, log, [base + "/", base + "/config"], timeout, 0.02, client)
        try:
            rss_ready = process_rss(process.pid) / MB
            client.get(base + "/").raise_for_status()
            client.get(base + "/config").raise_for_status()
            rss_loaded, peak = process_rss(process.pid) / MB, peak_rss(process.pid) / MB
            mapped = heavy_maps(process.pid)
        finally:
            stop_group(process)
    return Run(arm, ready, first_page, rss_ready, rss_loaded, peak, mapped), log.read_text(encoding="utf-8", errors="replace")


def report(
    runs: dict[str, list[Run]], args: argparse.Namespace, loads: tuple[str, str], module_count: int, heavy_names: list[str]
) -> str:
    rows = []
    for arm in ("bare", "ours"):
        arm_runs = runs[arm]
        rows.append(
            [
                arm,
                f"{median([r.first_page_s for r in arm_runs]):.2f}",
                f"{median([r.ready_s for r in arm_runs]):.2f}",
                iqr([r.ready_s for r in arm_runs], 2),
                f"{median([r.rss_ready_mb for r in arm_runs]):.1f}",
                f"{median([r.rss_loaded_mb for r in arm_runs]):.1f}",
                iqr([r.rss_loaded_mb for r in arm_runs]),
                f"{median([r.hwm_mb for r in arm_runs]):.1f}",
            ]
        )
    ours, bare = runs["ours"], runs["bare"]
    slower = ratio([r.ready_s for r in ours], [r.ready_s for r in bare])
    extra = difference([r.rss_loaded_mb for r in ours], [r.rss_loaded_mb for r in bare])
    goals = [
        ["time to ready, ours / bare", *slower.cells(".2f", "x"), f"< {TIME_GOAL}x", verdict(slower, below=TIME_GOAL)],
        ["RSS after page load, ours - bare (MB)", *extra.cells("+.1f"), f"< {RSS_GOAL_MB:g}", verdict(extra, below=RSS_GOAL_MB)],
    ]
    mapped = sorted({path for run in ours for path in run.heavy_maps})
    return "\n".join(
        [
            f"web_startup: {args.runs} launches per arm interleaved after {args.warmup} warm-up(s) each; medians",
            machine(),
            loads_line(*loads),
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
            CI_NOTE,
            GOAL_NOTE,
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
    with tempfile.TemporaryDirectory(prefix="web-startup-") as name:
        folder = Path(name)
        page_config(folder)
        arms = {arm: lambda arm=arm: launch(arm, folder, args.timeout)[0] for arm in ("bare", "ours")}
        try:
            progress("warm-up ")
            interleave(arms, args.warmup)
            progress(" runs ")
            before = load()
            runs = interleave(arms, args.runs)
            after = load()
            progress(" -X importtime ")
            _, output = launch("ours", folder, args.timeout, importtime=True)
            progress(" done\n")
        except ServerStartError as exc:
            progress("\n")
            print(f"a web process did not start: {exc}", file=sys.stderr)
            return 1
    modules = [name for name, _, _ in import_times(output)]
    heavy_names = [name for name in modules if name.split(".")[0] in HEAVY]
    print(report(runs, args, (before, after), len(modules), heavy_names))
    failed = [f"{run.arm}: {', '.join(run.heavy_maps)}" for run in runs["ours"] if run.heavy_maps]
    if heavy_names:
        failed.append(f"ours imported {', '.join(sorted(set(heavy_names)))}")
    for line in failed:
        print(f"FAILED: {line}", file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())

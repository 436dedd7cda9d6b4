"""What starting our command line costs: `python -m request_llms ask` against bare Python and `import httpx`.

The command asks an Ollama port where nothing listens, so it fails at once with exit code 3 after
importing everything the ask path needs: its time is startup. Each command runs --runs times,
interleaved, after a warm-up round (bytecode caches, file cache); the table has medians of the
wall time from spawn to exit and each child's own peak RSS and CPU time (/usr/bin/time). A settings file
that is empty (LOCALSCHOLAR_CONFIG) keeps a developer's config_private.py out, and the children get a
minimal environment.

A second pass runs each command once inside a wrapper that reports which modules it loaded: none of
torch, transformers, gradio or openai may be among them. Then `-X importtime` names the slowest
imports of the ask command.

    python benchmarks/import_cost.py [--runs 10]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from common import ROOT, import_times, interleave, iqr, load, loads_line, machine, median, progress, table, write_config

from tests.support.servers.running import free_port

HEAVY = ("torch", "transformers", "gradio", "openai")
ASK = ["ask", "ollama-x", "hi"]
EXPECTED_EXIT = 3  # the CLI's code for a backend that cannot serve
TIME = "/usr/bin/time"
WRAPPER = """\
import sys
code = 0
try:
    {run}
except SystemExit as exc:
    code = exc.code
loaded = set(sys.modules)
import json
print("LOADED " + json.dumps({{"exit": code, "modules": sorted(loaded)}}), file=sys.__stdout__)
"""


PHASES = """\
import contextlib, io, json, time
marks = [("start", time.perf_counter())]
from request_llms import cli
marks.append(("import request_llms.cli (httpx included)", time.perf_counter()))
config = cli.load_config()
marks.append(("load_config()", time.perf_counter()))
from request_llms.transport import client_for
client_for(config["OLLAMA_API_BASE"], config["CONNECT_TIMEOUT"], config["READ_TIMEOUT"])
marks.append(("first httpx client (httpcore import, TLS context with CA bundle)", time.perf_counter()))
with contextlib.redirect_stderr(io.StringIO()):
    cli.main({ask!r})
marks.append(("cli.main(ask) with that client cached (config again, two refused connects)", time.perf_counter()))
import httpx
httpx.Client(trust_env=False, verify=False)
marks.append(("for comparison: one more client with verify=False (no CA bundle)", time.perf_counter()))
print("PHASES " + json.dumps({{name: (t - marks[i][1]) * 1000 for i, (name, t) in enumerate(marks[1:])}}))
"""


@dataclass(frozen=True)
class Command:
    label: str
    args: list[str]  # after the interpreter
    run: str  # the same work as a statement, for the module-reporting wrapper
    exit_code: int = 0


COMMANDS = [
    Command("python -c pass", ["-c", "pass"], "pass"),
    Command('python -c "import httpx"', ["-c", "import httpx"], "import httpx"),
    Command(
        "python -m request_llms " + " ".join(ASK),
        ["-m", "request_llms", *ASK],
        f"import runpy; sys.argv = {['request_llms', *ASK]!r}; runpy.run_module('request_llms', run_name='__main__', alter_sys=True)",
        EXPECTED_EXIT,
    ),
]


@dataclass
class Sample:
    wall: float  # seconds from start to exit, as this process sees it
    max_rss_kib: int  # the child's own peak, from /usr/bin/time
    cpu: float  # the child's user + system seconds


def run_python(args: list[str], env: dict[str, str], usage_path: Path) -> tuple[subprocess.CompletedProcess[str], Sample]:
    """Run the interpreter with `args` under /usr/bin/time.

    /usr/bin/time rather than os.wait4 on our own child: a child's ru_maxrss keeps the RSS it had
    before exec, which for a child of this process is this process's size, not the interpreter's.
    """
    argv = [TIME, "-f", "%M %U %S", "-o", str(usage_path), sys.executable, *args]
    start = time.perf_counter()
    done = subprocess.run(argv, env=env, stdin=subprocess.DEVNULL, capture_output=True, text=True)
    wall = time.perf_counter() - start
    rss, user, system = usage_path.read_text(encoding="utf-8").split()[-3:]
    return done, Sample(wall, int(rss), float(user) + float(system))


def measure(command: Command, env: dict[str, str], usage_path: Path) -> Sample:
    done, sample = run_python(command.args, env, usage_path)
    if done.returncode != command.exit_code:
        raise SystemExit(f"{command.label} exited {done.returncode}, expected {command.exit_code}:\n{done.stderr[-600:]}")
    return sample


def reported(args: list[str], env: dict[str, str], usage_path: Path, marker: str) -> dict:
    """The JSON that a `-c` script printed after `marker`."""
    done, _ = run_python(args, env, usage_path)
    for line in done.stdout.splitlines():
        if line.startswith(marker + " "):
            return json.loads(line.removeprefix(marker + " "))
    raise SystemExit(f"no {marker} line from {args[:2]}:\n{done.stderr[-600:]}")


def loaded_modules(command: Command, env: dict[str, str], usage_path: Path) -> set[str]:
    """The modules in sys.modules when `command` has finished, from the wrapper's report."""
    report = reported(["-c", WRAPPER.format(run=command.run)], env, usage_path, "LOADED")
    if report["exit"] != command.exit_code:
        raise SystemExit(f"{command.label} in the wrapper exited {report['exit']}, expected {command.exit_code}")
    return set(report["modules"])


def slowest_imports(env: dict[str, str], usage_path: Path, count: int = 8) -> list[list[str]]:
    """The top-level imports of the ask command with the largest cumulative time, from `-X importtime`."""
    done, _ = run_python(["-X", "importtime", *COMMANDS[-1].args], env, usage_path)
    rows = sorted(((micros, name) for name, depth, micros in import_times(done.stderr) if depth == 0), reverse=True)
    return [[name, f"{micros / 1000:.1f}"] for micros, name in rows[:count]]


def phases(env: dict[str, str], usage_path: Path) -> dict[str, float]:
    """Milliseconds of each step of the ask command inside one interpreter (after its own startup)."""
    return reported(["-c", PHASES.format(ask=ASK)], env, usage_path, "PHASES")


def top_level(modules: set[str]) -> set[str]:
    return {name.split(".")[0] for name in modules if not name.startswith("_")}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=10, help="measured runs per command (default 10)")
    parser.add_argument("--warmup", type=int, default=1, help="warm-up rounds (default 1)")
    args = parser.parse_args(argv)
    if args.runs < 1 or args.warmup < 0:
        parser.error("--runs must be at least 1 and --warmup at least 0")
    if not os.access(TIME, os.X_OK):
        raise SystemExit(f"{TIME} is needed for each child's peak memory (Debian: apt-get install time)")
    os.chdir(ROOT)  # `python -m request_llms` finds the package in the current folder
    with tempfile.TemporaryDirectory() as folder:
        empty_config = write_config(Path(folder) / "config_private.py")
        usage_path = Path(folder) / "usage"
        env = {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "HOME": os.environ.get("HOME", folder),
            "LANG": "C.UTF-8",
            "LOCALSCHOLAR_CONFIG": str(empty_config),
            "OLLAMA_API_BASE": f"http://127.0.0.1:{free_port()}",  # nothing listens there
        }
        arms = {command.label: lambda command=command: measure(command, env, usage_path) for command in COMMANDS}
        progress("warm-up ")
        interleave(arms, args.warmup)
        progress(" runs ")
        load_before = load()
        samples = interleave(arms, args.runs)
        load_after = load()
        progress(" modules and steps ")
        modules = {command.label: loaded_modules(command, env, usage_path) for command in COMMANDS}
        imports = slowest_imports(env, usage_path)
        steps = [phases(env, usage_path) for _ in range(args.runs)]
        progress("done\n")

    def middle(label: str, field: str) -> float:
        return median([getattr(sample, field) for sample in samples[label]])

    bare, with_httpx, ours = (command.label for command in COMMANDS)
    rows = []
    for command in COMMANDS:
        label = command.label
        rows.append(
            [
                label,
                f"{middle(label, 'wall') * 1000:.1f}",
                iqr([sample.wall * 1000 for sample in samples[label]]),
                f"{middle(label, 'wall') / middle(bare, 'wall'):.2f}x",
                f"{middle(label, 'wall') / middle(with_httpx, 'wall'):.2f}x",
                f"{middle(label, 'max_rss_kib') / 1024:.1f}",
                f"{middle(label, 'max_rss_kib') / middle(with_httpx, 'max_rss_kib'):.2f}x",
                f"{middle(label, 'cpu') * 1000:.0f}",
                str(len(modules[label])),
                ", ".join(name for name in HEAVY if name in modules[label]) or "none",
            ]
        )
    heavy_found = any(name in modules[ours] for name in HEAVY)
    extra = sorted(top_level(modules[ours]) - top_level(modules[with_httpx]))
    step_rows = [[name, f"{median([step[name] for step in steps]):.1f}"] for name in steps[0]]
    header = ["command", "wall ms", "wall IQR", "vs pass", "vs httpx", "max RSS MiB", "RSS vs httpx", "CPU ms", "modules"]
    print(f"import_cost: {args.runs} runs per command, interleaved after {args.warmup} warm-up round(s); medians")
    print(machine())
    print(loads_line(load_before, load_after))
    print()
    print(table([*header, "heavy imported"], rows))
    print()
    print(f"goal: none of {', '.join(HEAVY)} imported by the ask command: {'MISSED' if heavy_found else 'ok'}")
    print(f"top-level packages the ask command loads beyond `import httpx`: {', '.join(extra) or 'none'}")
    print()
    print("slowest top-level imports of the ask command (-X importtime, one run, cumulative):")
    print(table(["module", "ms"], imports))
    print()
    print(f"the ask command step by step inside one interpreter (medians of {args.runs}):")
    print(table(["step", "ms"], step_rows))
    return 1 if heavy_found else 0


if __name__ == "__main__":
    sys.exit(main())

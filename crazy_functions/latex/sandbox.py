"""Compiling an uploaded LaTeX project without letting it reach anything else.

A project is data from a user, so TeX runs as if it were hostile:
- xelatex (and bibtex where the paper has a bibliography) are called directly, never latexmk, which runs a
  project's `latexmkrc`; shell escape is off (`-no-shell-escape`, `shell_escape=f`);
- kpathsea's `openin_any` and `openout_any` are paranoid (`p`): no absolute paths, no `..`, no dot files, so
  `\\input{/etc/passwd}` and `\\openout` outside the project fail;
- each pass runs in a session of its own with limits on CPU time, memory and the size of any file it
  writes, is killed with its children after PASS_SECONDS of wall time, has an empty home of its own, and,
  where the kernel lets it, a network namespace with no interfaces;
- what stopped it comes back as one line: the file and line of the first TeX error, or the limit it hit.
"""

from __future__ import annotations

import ctypes
import importlib
import logging
import os
import re
import resource
import shlex
import shutil
import signal
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from request_llms.text import Text

ENGINE = "xelatex"
PASS_SECONDS = 120  # wall time of one pass
MEMORY_BYTES = 3 * 1024**3  # address space of one pass
FILE_BYTES = 256 * 1024**2  # the largest file a pass may write
_CLONE_NEWUSER, _CLONE_NEWNET = 0x10000000, 0x40000000
_FILE_LINE_ERROR = re.compile(r"^(?:\./)?([^\s:][^:\n]*\.(?:tex|sty|cls|bbl|aux|bib)):(\d+): (.+)$", re.M)
_AFTERMATH = ("Emergency stop", "==> Fatal error occurred")
_TEX_ERROR = re.compile(r"^! (.+)$", re.M)


@dataclass(frozen=True)
class Compiled:
    pdf: Path | None
    log: Path | None
    problem: Text | None  # None when the PDF was made without an error


def available() -> bool:
    return shutil.which(ENGINE) is not None


def compile_project(main: Path, seconds: int = PASS_SECONDS) -> Compiled:
    """Compile `main` (a .tex file) in its own folder: xelatex, then bibtex where the .aux asks for a
    bibliography, then xelatex twice more for the references; each pass within `seconds`."""
    folder = main.parent
    with tempfile.TemporaryDirectory(prefix="localscholar-tex-home-") as home:
        env = _environment(Path(home))
        stem = main.stem
        problem = _pass([ENGINE, *_FLAGS, main.name], folder, env, seconds)
        aux = folder / f"{stem}.aux"
        cited = aux.is_file() and "\\bibdata" in aux.read_text(encoding="utf-8", errors="replace")
        if problem is None and cited and shutil.which("bibtex"):
            _pass(["bibtex", stem], folder, env, seconds)  # a bibliography error is in the .blg; the PDF still comes
        for _ in range(2):
            if problem is not None:
                break
            problem = _pass([ENGINE, *_FLAGS, main.name], folder, env, seconds)
    pdf, log = folder / f"{stem}.pdf", folder / f"{stem}.log"
    if problem is None and not pdf.is_file():
        problem = _first_error(log) or Text(zh="TeX 没有生成 PDF（见 .log）。", en="TeX made no PDF (see the .log).")
    return Compiled(pdf if pdf.is_file() and problem is None else None, log if log.is_file() else None, problem)


_FLAGS = ("-no-shell-escape", "-interaction=nonstopmode", "-halt-on-error", "-file-line-error")


def _environment(home: Path) -> dict[str, str]:
    binary = Path(shutil.which(ENGINE) or shutil.which("pdflatex") or "/usr/bin/xelatex").parent
    return {
        "PATH": f"{binary}:/usr/bin:/bin",
        "HOME": str(home),
        "XDG_CACHE_HOME": str(home / "cache"),
        "TEXMFHOME": str(home / "texmf"),
        "TEXMFVAR": str(home / "texmf-var"),
        "TEXMFCONFIG": str(home / "texmf-config"),
        "openin_any": "p",
        "openout_any": "p",
        "shell_escape": "f",
        "LANG": "C.UTF-8",
    }


def _limits(seconds: int) -> None:
    """In the child before exec: its limits, and no network where the kernel allows a namespace."""
    resource.setrlimit(resource.RLIMIT_CPU, (seconds, seconds + 5))
    resource.setrlimit(resource.RLIMIT_AS, (MEMORY_BYTES, MEMORY_BYTES))
    resource.setrlimit(resource.RLIMIT_FSIZE, (FILE_BYTES, FILE_BYTES))
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        if libc.unshare(_CLONE_NEWNET) != 0:
            libc.unshare(_CLONE_NEWUSER | _CLONE_NEWNET)
    except (OSError, AttributeError):
        pass


def _pass(command: list[str], folder: Path, env: dict[str, str], seconds: int) -> Text | None:
    """One run of a TeX program; the line that says what stopped it, or None."""
    started = time.monotonic()
    with open(Path(env["HOME"]) / f"{command[0]}-output.txt", "ab") as output:
        process = subprocess.Popen(
            command,
            cwd=folder,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=output,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            preexec_fn=lambda: _limits(seconds),
        )
        try:
            code = process.wait(timeout=seconds)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
            return Text(
                zh=f"TeX 运行超过 {seconds} 秒（可能是死循环），已被终止。",
                en=f"TeX ran longer than {seconds} s (an endless loop?) and was stopped.",
            )
    if code < 0:
        how = signal.Signals(-code).name
        if how == "SIGXCPU" or (how == "SIGKILL" and time.monotonic() - started >= seconds):
            return Text(
                zh=f"TeX 用尽了 {seconds} 秒的计算时间，已被终止。",
                en=f"TeX used up its {seconds} s of CPU time and was stopped.",
            )
        if how == "SIGXFSZ":
            return Text(
                zh=f"TeX 写出的文件超过 {FILE_BYTES // 2**20} MiB，已被终止。",
                en=f"TeX wrote a file larger than {FILE_BYTES // 2**20} MiB and was stopped.",
            )
        return Text(
            zh=f"TeX 被 {how} 终止（可能超出了内存限制）。", en=f"TeX was ended by {how} (perhaps over its memory limit)."
        )
    if code != 0 and command[0] == ENGINE:
        return _first_error(folder / f"{Path(command[-1]).stem}.log") or Text(
            zh=f"TeX 以退出码 {code} 结束（见 .log）。", en=f"TeX ended with exit code {code} (see the .log)."
        )
    return None


def _first_error(log: Path) -> Text | None:
    """The first error of a TeX log as one line: its file and line where TeX gives them."""
    try:
        text = log.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return None
    located = [(m.start(), m.group(3).strip(), m) for m in _FILE_LINE_ERROR.finditer(text)]
    bare = [(m.start(), m.group(1).strip(), None) for m in _TEX_ERROR.finditer(text)]
    said = sorted(found for found in located + bare if not found[1].startswith(_AFTERMATH))
    if not said and not located:
        return None
    start, message, _ = said[0] if said else located[0]
    place = next((m for at, _, m in located if at >= start), None) or (located[0][2] if located else None)
    if place is None:
        return Text(zh=f"编译出错：{message}", en=f"The compile stopped: {message}")
    name, line = place.group(1), place.group(2)
    return Text(zh=f"编译在 {name} 第 {line} 行出错：{message}", en=f"The compile stopped at {name}, line {line}: {message}")


_log = logging.getLogger("localscholar.tex")
_GPT_ACADEMIC_PROGRAMS = {"pdflatex", "xelatex", "bibtex"}


def run_gpt_academic_command(command: str, cwd: str, timeout: int = 60) -> bool:
    """GPT Academic's `compile_latex_with_timeout` (its LaTeX plugins' one way to run TeX), in this sandbox:
    the command string is split, never given to a shell; only pdflatex, xelatex and bibtex run (latexdiff,
    whose --flatten reads any file, and anything else are refused and logged). As GPT Academic's, it answers
    False when the run timed out (or was refused) and True when it ended, whatever TeX made of it."""
    try:
        words = shlex.split(command)
    except ValueError:
        words = []
    if not words or words[0] not in _GPT_ACADEMIC_PROGRAMS or any(w in (">", "|", ";", "&&") for w in words):
        _log.warning("a TeX command a plugin asked for was refused: %s", command[:200])
        return False
    if words[0] != "bibtex":
        words = [words[0], "-no-shell-escape", *words[1:]]
    seconds = max(1, min(int(timeout), PASS_SECONDS))
    with tempfile.TemporaryDirectory(prefix="localscholar-tex-home-") as home:
        problem = _pass(words, Path(cwd), _environment(Path(home)), seconds)
    timed_out = problem is not None and ("longer than" in problem.en or "CPU time" in problem.en)
    return not timed_out


def guard_gpt_academic() -> None:
    """Make a joined GPT Academic checkout's LaTeX plugins compile in this sandbox (before they import it)."""
    try:
        toolbox = importlib.import_module("crazy_functions.latex_fns.latex_toolbox")
    except Exception:  # noqa: BLE001 (no such module in this checkout, or it cannot load: nothing to guard)
        return
    toolbox.compile_latex_with_timeout = run_gpt_academic_command

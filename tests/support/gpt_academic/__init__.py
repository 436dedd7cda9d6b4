"""GPT Academic-style plugins written for the tests, and where a full GPT Academic checkout is."""

from __future__ import annotations

import os
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]


def checkout() -> Path | None:
    """A full GPT Academic checkout: LOCALSCHOLAR_GPT_ACADEMIC, else ../shared/gpt_academic beside the project;
    None where there is none (a fresh clone on its own)."""
    named = os.environ.get("LOCALSCHOLAR_GPT_ACADEMIC")
    folder = Path(named) if named else ROOT.parent / "shared" / "gpt_academic"
    return folder if (folder / "crazy_functional.py").is_file() else None


NO_CHECKOUT = "no GPT Academic checkout at ../shared/gpt_academic (or LOCALSCHOLAR_GPT_ACADEMIC)"


def run_in_extras_venv(python: Path, config: Path, module: str, *args: str, timeout: float = 600) -> dict:
    """Run `python -m module args` (a driver that prints one "REPORT {json}" line) with `config` as the settings,
    in `python`'s venv (the one with GPT Academic's extra packages); its report."""
    import json
    import subprocess

    env = {**os.environ, "LOCALSCHOLAR_CONFIG": str(config), "PYTHONPATH": str(ROOT), "LANG": "C.UTF-8"}
    done = subprocess.run([str(python), "-m", module, *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=timeout)
    line = next((x for x in done.stdout.splitlines() if x.startswith("REPORT ")), None)
    assert line, f"{module} ended with {done.returncode}:\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
    return json.loads(line[len("REPORT ") :])

"""What the benchmark scripts share: the repository root on sys.path, plain-text tables, and a line about the machine."""

from __future__ import annotations

import datetime
import os
import random
import re
import statistics
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BOOTSTRAP_ROUNDS = 2000
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))


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


def load() -> str:
    """The 1, 5 and 15 minute load averages, as text."""
    return " ".join(f"{value:.2f}" for value in os.getloadavg())


def machine() -> str:
    """Date, CPU count and load, for the head of a report."""
    now = datetime.datetime.now().astimezone().strftime("%Y-%m-%d %H:%M %Z")
    return f"{now}; {os.cpu_count()} CPUs; load average {load()} (1/5/15 min); Python {sys.version.split()[0]}"


def interval(ours: Sequence[float], plain: Sequence[float], compare: Callable[[float, float], float]) -> tuple[float, float]:
    """A 95% bootstrap interval of compare(median of ours, median of plain)."""
    rng = random.Random(0)
    values = sorted(
        compare(statistics.median(rng.choices(ours, k=len(ours))), statistics.median(rng.choices(plain, k=len(plain))))
        for _ in range(BOOTSTRAP_ROUNDS)
    )
    return values[int(0.025 * BOOTSTRAP_ROUNDS)], values[int(0.975 * BOOTSTRAP_ROUNDS) - 1]


def verdict(met: bool, clearly_missed: bool) -> str:
    """ok; MISSED when the whole interval is on the wrong side of the goal; noise when only the median is."""
    return "ok" if met else "MISSED" if clearly_missed else "noise"


def heavy_maps(pid: int) -> list[str]:
    """Files of torch or transformers mapped into the process (shared libraries, mmapped weights)."""
    pattern = re.compile(r"(libtorch|/torch/|/transformers/)")
    found = set()
    for line in Path(f"/proc/{pid}/maps").read_text().splitlines():
        parts = line.split(None, 5)
        if len(parts) == 6 and pattern.search(parts[5]):
            found.add(parts[5])
    return sorted(found)

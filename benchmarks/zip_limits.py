"""Unpacking an uploaded zip: the bounded copy of crazy_functions/runtime/files.py against reading each member
whole (`sink.write(source.read())`), on two hostile archives, each arm in a fresh process.

- lying: one member whose headers claim 100 bytes and which inflates to 1 GiB (the archive is ~1 MiB);
- honest: four members of 290 MB each, 1.16 GB in all, over the 300 MB limit.

Prints peak resident memory and what was left on disk per arm, and the ratio of the peaks.
    python benchmarks/zip_limits.py
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

from common import ROOT, machine, peak_rss, progress, table

from tests.support.documents import lying_zip

MIB = 2**20


def naive_unpack(archive: Path, target: Path) -> None:
    """The baseline: the same checks on names and the declared total, but each member read whole."""
    total = 0
    with zipfile.ZipFile(archive) as bundle:
        for member in bundle.infolist():
            total += member.file_size
            if total > 300 * MIB:
                raise ValueError("over the limit")
            destination = target / member.filename
            destination.parent.mkdir(parents=True, exist_ok=True)
            with bundle.open(member) as source, destination.open("wb") as sink:
                sink.write(source.read())


def measure(arm: str, archive: Path) -> None:
    """Child process: unpack with one arm, print peak RSS (MiB) and bytes left on disk."""
    from crazy_functions.runtime.files import unpack_zip

    target = archive.parent / f"{archive.stem}-{arm}"
    outcome = "unpacked"
    try:
        (unpack_zip if arm == "bounded" else naive_unpack)(archive, target)
    except Exception as exc:  # noqa: BLE001 (the outcome is what we report)
        outcome = f"refused ({type(exc).__name__})"
    left = sum(p.stat().st_size for p in target.rglob("*") if p.is_file()) if target.exists() else 0
    print(peak_rss(os.getpid()) // MIB, left // MIB, outcome, sep="\t")


def run_arm(arm: str, archive: Path) -> tuple[int, int, str]:
    done = subprocess.run(
        [sys.executable, __file__, "--child", arm, str(archive)], capture_output=True, text=True, cwd=ROOT, check=True
    )
    peak, left, outcome = done.stdout.strip().split("\t")
    return int(peak), int(left), outcome


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--child", nargs=2, metavar=("ARM", "ZIP"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        measure(args.child[0], Path(args.child[1]))
        return
    print(machine())
    rows = []
    with tempfile.TemporaryDirectory() as folder:
        archives = {
            "lying (1 GiB claimed as 100 B)": Path(folder) / "lying.zip",
            "honest (4 x 290 MB)": Path(folder) / "honest.zip",
        }
        progress("making the archives\n")
        lying_zip(archives["lying (1 GiB claimed as 100 B)"], real_size=1024 * MIB, claimed=100)
        with zipfile.ZipFile(archives["honest (4 x 290 MB)"], "w", zipfile.ZIP_DEFLATED) as bundle:
            for i in range(4):
                bundle.writestr(f"part{i}.bin", b"\0" * (290 * MIB))
        for name, archive in archives.items():
            progress(f"unpacking {name}\n")
            bounded, naive = run_arm("bounded", archive), run_arm("naive", archive)
            rows.append([name, f"{bounded[0]} MiB", f"{bounded[1]} MiB", bounded[2], f"{naive[0]} MiB", f"{naive[1]} MiB",
                         naive[2], f"{naive[0] / bounded[0]:.0f}x"])  # fmt: skip
    header = ["archive", "bounded peak", "left", "outcome", "whole-member peak", "left", "outcome", "peak ratio"]
    print(table(header, rows))


if __name__ == "__main__":
    main()

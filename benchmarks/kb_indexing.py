"""What adding papers to a knowledge base costs: 100 paper-sized PDFs indexed with the built-in embedding model,
against embedding the very same chunks with sentence-transformers alone.

The papers come from benchmarks/kb_papers.py (seeded: the same --seed gives the same PDFs): about 4,000 words
each before the bibliography, 8-9 pages, numbered sections, citations, a results table and a bibliography, in
one of ten fields, written as PDFs by kb_corpus.write_pdf. The script then:

1. starts the built-in model's worker with one text, and the baseline's process (its model loaded); neither
   start is counted below;
2. indexes the papers in --rounds rounds (groups of papers), the two arms one after the other in each round,
   which one goes first alternating, so that both see the same machine:
   - ours: knowledge.indexing.add_paths(base, the round's PDFs): read each PDF (PyMuPDF), cut it into chunks,
     embed them in the worker (builtin-all-minilm-l6-v2, batches of 32), write each file in one SQLite
     transaction. Wall time, and the embedding seconds the job counted;
   - baseline: sentence-transformers in a process of its own, on the model folder the worker unpacked, the
     round's chunk texts (the same: read and cut by knowledge.readers and chunking, section heading + text as
     indexing.embedding_text), batch 32, the same torch threads; its encode seconds;
   the resident memory of this process and of the worker is sampled every 0.1 s with psutil during our rounds
   (the worker's peak also from its VmHWM), the baseline's peak is its VmHWM;
3. adds all the papers again: every file unchanged (a hash each), seconds;
4. reads and chunks all the papers alone in this process (no embedding, no writing), seconds.

Reported: totals over the rounds (minutes, chunks/s), the ratio ours / baseline per round (median, lowest and
highest), and the seconds of our job spent outside embedding (reading, chunking, keyword terms, writing).

    python benchmarks/kb_indexing.py [--docs 100] [--rounds 5] [--quick] [--words 4000] [--seed 0] [--threads 0]

--quick indexes 10 papers in 2 rounds.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from contextlib import ExitStack
from pathlib import Path

import kb_corpus
import kb_papers
import psutil
from common import load, loads_line, machine, peak_rss, progress, table, write_config

from knowledge.bases import OWNER, create_base
from knowledge.chunking import chunk_blocks
from knowledge.indexing import EMBED_BATCH, add_paths, embedding_text
from knowledge.readers import sources
from request_llms.config_loader import load_config
from request_llms.embeddings import embed
from request_llms.native.catalog import BUILTIN_EMBED
from request_llms.native.plan import cache_dir
from request_llms.native.worker.encoder import unpack_builtin
from request_llms.runtime import runtime_of

MIB = 1024 * 1024
SAMPLE_SECONDS = 0.1

BASELINE = """\
import json, sys, time
start = time.perf_counter()
import torch
from sentence_transformers import SentenceTransformer
folder, threads, batch = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
if threads:
    torch.set_num_threads(threads)
model = SentenceTransformer(folder, device="cpu")
model.encode(["A first text warms the model up."], batch_size=batch, show_progress_bar=False)
print(json.dumps({"loaded": time.perf_counter() - start, "threads": torch.get_num_threads()}), flush=True)
for line in sys.stdin:
    if not line.strip():
        break
    texts = json.loads(open(line.strip(), encoding="utf-8").read())
    start = time.perf_counter()
    vectors = model.encode(texts, batch_size=batch, show_progress_bar=False)
    print(json.dumps({"seconds": time.perf_counter() - start, "vectors": len(vectors)}), flush=True)
status = dict(line.split(":", 1) for line in open("/proc/self/status"))
print(json.dumps({"VmHWM": int(status["VmHWM"].split()[0]) * 1024}), flush=True)
"""


class Baseline:
    """sentence-transformers in a process of its own, model loaded once, asked round by round."""

    def __init__(self, folder: Path, threads: int, scratch: Path) -> None:
        self.scratch = scratch
        self.process = subprocess.Popen(
            [sys.executable, "-c", BASELINE, str(folder), str(threads), str(EMBED_BATCH)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        self.ready = self._answer()

    def _answer(self) -> dict:
        line = self.process.stdout.readline()
        if not line:
            raise RuntimeError(f"the baseline process ended (exit {self.process.wait()})")
        return json.loads(line)

    def encode(self, texts: list[str]) -> float:
        path = self.scratch / "texts.json"
        path.write_text(json.dumps(texts), encoding="utf-8")
        self.process.stdin.write(f"{path}\n")
        self.process.stdin.flush()
        answer = self._answer()
        if answer["vectors"] != len(texts):
            raise RuntimeError(f"the baseline gave {answer['vectors']} vectors for {len(texts)} texts")
        return answer["seconds"]

    def close(self) -> int:
        self.process.stdin.write("\n")
        self.process.stdin.flush()
        peak = self._answer()["VmHWM"]
        self.process.wait(60)
        return peak


class Sampler:
    """The resident memory of this process and of the built-in model's worker, sampled in a thread."""

    def __init__(self) -> None:
        self.me = psutil.Process()
        self.peaks = {"this process": 0, "worker": 0}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            self.peaks["this process"] = max(self.peaks["this process"], self.me.memory_info().rss)
            pid = worker_pid()
            if pid:
                try:
                    self.peaks["worker"] = max(self.peaks["worker"], psutil.Process(pid).memory_info().rss)
                except psutil.NoSuchProcess:
                    pass
            self._stop.wait(SAMPLE_SECONDS)

    def __enter__(self) -> Sampler:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()


def worker_pid() -> int | None:
    """The built-in model's worker: this process's multiprocessing child named localscholar-*."""
    children = [c for c in multiprocessing.active_children() if c.name.startswith("localscholar-") and c.pid]
    return children[0].pid if len(children) == 1 else None


def make_papers(folder: Path, count: int, words: int, seed: int) -> tuple[int, int]:
    """`count` PDFs in `folder`; returns (pages, words) in all."""
    folder.mkdir(parents=True)
    pages = total = 0
    for n in range(count):
        paper = kb_papers.paper(seed * 100_000 + n, words)
        pages += kb_corpus.write_pdf(paper.elements, paper.title[:70], folder / f"paper-{n:03d}.pdf")
        total += paper.words
        if n % 10 == 9:
            progress(".")
    return pages, total


def chunk_texts(paths: list[Path]) -> list[str]:
    """What indexing embeds for `paths`: their chunks read and cut as add_paths does, heading + text."""
    with ExitStack() as stack:
        return [embedding_text(c) for source in sources(paths, stack) for c in chunk_blocks(source.read())]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--docs", type=int, default=100, help="papers to index (default 100)")
    parser.add_argument("--rounds", type=int, default=5, help="groups of papers, the arms alternating in each (default 5)")
    parser.add_argument("--quick", action="store_true", help="10 papers in 2 rounds")
    parser.add_argument("--words", type=int, default=4000, help="words per paper before its bibliography (default 4000)")
    parser.add_argument("--seed", type=int, default=0, help="which papers (default 0)")
    parser.add_argument(
        "--threads", type=int, default=0, help="LOCAL_MODEL_THREADS and the baseline's torch threads (default 0: torch's)"
    )
    args = parser.parse_args(argv)
    docs, rounds = (10, 2) if args.quick else (args.docs, args.rounds)
    if not 1 <= rounds <= docs:
        parser.error("--rounds must be between 1 and --docs")
    os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
    started, before = time.perf_counter(), load()
    with tempfile.TemporaryDirectory(prefix="kb-indexing-") as name:
        folder = Path(name)
        papers = folder / "papers"
        progress(f"writing {docs} papers ")
        start = time.perf_counter()
        pages, words = make_papers(papers, docs, args.words, args.seed)
        written = time.perf_counter() - start
        files = sorted(papers.iterdir())
        megabytes = sum(p.stat().st_size for p in files) / MIB
        groups = [files[i * len(files) // rounds : (i + 1) * len(files) // rounds] for i in range(rounds)]
        settings = {"DATA_DIR": str(folder / "data"), "DISCOVER_LOCAL_MODELS": False, "LOCAL_MODEL_THREADS": args.threads}
        config = load_config(environ={}, private=write_config(folder / "config.py", **settings))
        base = create_base(config, OWNER, "kb-indexing", BUILTIN_EMBED)
        runtime = runtime_of(config)
        baseline = None
        try:
            progress(" worker ")
            start = time.perf_counter()
            embed(BUILTIN_EMBED, ["A first text starts the worker."], config)
            first_use = time.perf_counter() - start
            progress(f"({first_use:.1f} s) baseline ")
            model_folder = unpack_builtin(cache_dir(config), lambda *_: None)
            baseline = Baseline(model_folder, args.threads, folder)
            progress(f"({baseline.ready['loaded']:.1f} s) rounds ")
            rss_before = psutil.Process().memory_info().rss
            ours, embedded, base_seconds, chunks, ratios = [], [], [], 0, []
            load_before = load()
            with Sampler() as sampled:
                for n, group in enumerate(groups):
                    texts = chunk_texts(group)

                    for arm in ("ours", "baseline") if n % 2 == 0 else ("baseline", "ours"):
                        if arm == "baseline":
                            base_seconds.append(baseline.encode(texts))
                            continue
                        start = time.perf_counter()
                        done = add_paths(base, group, config)
                        ours.append(time.perf_counter() - start)
                        embedded.append(done.embed_seconds)
                        if done.failed or len(done.added) != len(group) or done.chunks != len(texts):
                            raise RuntimeError(f"round {n}: {len(done.added)} added, {done.chunks} chunks, failed {done.failed}")
                    chunks += len(texts)
                    ratios.append(ours[-1] / base_seconds[-1])
                    progress(f"{n + 1}:{ratios[-1]:.2f} ")
            load_after = load()
            pid = worker_pid()
            worker_hwm = peak_rss(pid) if pid else 0
            progress("again ")
            start = time.perf_counter()
            again = add_paths(base, files, config)
            readd = time.perf_counter() - start
            if len(again.unchanged) != docs or again.chunks:
                print(f"adding the same papers again embedded {again.chunks} chunks", file=sys.stderr)
                return 1
            progress(f"{readd:.2f} s; reading alone ")
            start = time.perf_counter()
            cut = len(chunk_texts(files))
            reading = time.perf_counter() - start
            stored = base.store.count_chunks()
            base_file = base.store.path.stat().st_size / MIB
            base_peak = baseline.close()
            threads, base_loaded = baseline.ready["threads"], baseline.ready["loaded"]
            baseline = None
            progress(f"{reading:.1f} s\n")
        finally:
            if baseline is not None:
                baseline.process.kill()
            runtime.shutdown()
    wall = time.perf_counter() - started
    if not chunks == cut == stored:
        print(f"chunk counts differ: rounds {chunks}, read alone {cut}, stored {stored}", file=sys.stderr)
        return 1
    ours_total, embed_total, base_total = sum(ours), sum(embedded), sum(base_seconds)
    rows = [
        [
            "ours: add_paths (read, chunk, embed in the worker, write)",
            f"{ours_total / 60:.2f}",
            f"{ours_total:.1f}",
            f"{chunks / ours_total:.1f}",
            f"{sampled.peaks['this process'] / MIB:.0f} (+{(sampled.peaks['this process'] - rss_before) / MIB:.0f})",
            f"{sampled.peaks['worker'] / MIB:.0f} (VmHWM {worker_hwm / MIB:.0f})",
        ],
        ["  of which embedding, as the job counted it", "", f"{embed_total:.1f}", f"{chunks / embed_total:.1f}", "", ""],
        ["  reading + chunking alone (this process)", "", f"{reading:.1f}", f"{chunks / reading:.1f}", "", ""],
        ["ours: the same papers added again (all unchanged)", "", f"{readd:.3f}", "", "", ""],
        [
            "baseline: sentence-transformers encode, same chunk texts",
            f"{base_total / 60:.2f}",
            f"{base_total:.1f}",
            f"{chunks / base_total:.1f}",
            f"VmHWM {base_peak / MIB:.0f} (its own process)",
            "",
        ],
    ]
    per_round = [
        [n + 1, len(group), f"{o:.1f}", f"{e:.1f}", f"{b:.1f}", f"{r:.3f}"]
        for n, (group, o, e, b, r) in enumerate(zip(groups, ours, embedded, base_seconds, ratios, strict=True))
    ]
    lines = [
        "kb_indexing: papers indexed into a knowledge base with the built-in embedding model, against "
        "sentence-transformers on the same chunks",
        machine(),
        f"{docs} papers (seed {args.seed}): {pages} pages, {words:,} words before the bibliographies, {megabytes:.1f} MiB of PDF, "
        f"written in {written:.1f} s; {chunks} chunks ({chunks / docs:.1f} a paper); base file {base_file:.1f} MiB",
        f"torch threads: {threads} in both (LOCAL_MODEL_THREADS={args.threads}); batches of {EMBED_BATCH}; "
        f"OMP_WAIT_POLICY={os.environ.get('OMP_WAIT_POLICY')}; {rounds} rounds, the arms alternating first",
        f"not counted: the worker's start with one text {first_use:.1f} s; the baseline's start and model load {base_loaded:.1f} s",
        "",
        table(["arm", "minutes", "seconds", "chunks/s", "this process MiB peak (+ over before)", "worker MiB peak"], rows),
        "",
        table(["round", "papers", "ours s", "of it embedding s", "baseline s", "ours / baseline"], per_round),
        f"ratio ours / baseline: total {ours_total / base_total:.3f}; per round median {statistics.median(ratios):.3f}, "
        f"{min(ratios):.3f} to {max(ratios):.3f}  (1.000: indexing costs what embedding alone does)",
        f"ratio ours' embedding / baseline: {embed_total / base_total:.3f}  "
        "(the worker's embedding, IPC included, against sentence-transformers in a process of its own)",
        f"outside embedding (reading, chunking, keyword terms, writing): {ours_total - embed_total:.1f} s, "
        f"{(ours_total - embed_total) / ours_total * 100:.1f}% of our wall time",
        f"  load average during the rounds: {load_before} -> {load_after}",
        "",
        loads_line(before, load(), "whole run"),
        f"whole run {wall / 60:.1f} min",
    ]
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    sys.exit(main())

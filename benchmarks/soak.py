"""A long run of mixed traffic on LocalScholar: does its memory, file handles or threads grow, does latency drift,
is anything lost?

The script starts a real llama-server (2 slots, --server-threads threads) and `python main.py` (the page and the
API on one port) pointed at it, model llamacpp-gemma-270m, its data in a temporary folder. For --minutes it sends
a mix of work at a bounded rate: a new piece every --gap seconds on average (exponential gaps from --seed), at
most --workers at once, each one of

- "chat": a page user (a gradio_client session: /on_load, then /send) asks a question carrying a unique marker;
- "stream": an API client streams an answer (POST /v1/chat/completions, stream) and reads it to the end;
- "cut": an API client that goes away after the first chunk of its stream (a disconnect);
- "plugin": a page user uploads a small Markdown file (/upload) and runs the Markdown translation plugin on it.

Half-way the llama-server is stopped and started again on the same port: work that meets the restart may end
in an error line (counted apart, as "during restart"), never a hang. Every 30 s the page process's resident
memory, open file handles and threads are read from /proc.

Checks: every chat and stream outside the restart ends with an answer; every chat that was answered is in the
page's conversation store with its marker exactly once (nothing lost); no traceback in the page's output.
Reported: per quarter of the run, the count, errors and p50/p99 latency of each kind; memory, file handles and
threads at the start and the end, with the memory slope (MiB/hour, least squares, after the first tenth of the
run); and, as the baseline measured in the same run, the last quarter's latency against the first quarter's
(a ratio: 1.0 means no drift).

    python benchmarks/soak.py [--minutes 60] [--gap 3] [--workers 4] [--tokens 24] [--server-threads 1] [--seed 7]
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import sqlite3
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import httpx
from common import CI_NOTE, load, machine, page_args, page_config, percentile, progress, start_web, stop_group, table, text_of
from gradio_client import Client, handle_file

from request_llms.stability import slope_per_hour
from tests.support.servers.running import free_port, start_llama_server

MODEL_ID = "llamacpp-gemma-270m"
KINDS = ("chat", "stream", "cut", "plugin")
WEIGHTS = (4, 3, 1, 1)
SAMPLE_S = 30.0


@dataclass
class Done:
    kind: str
    at: float  # seconds from the start, when it began
    seconds: float
    ok: bool
    during_restart: bool = False
    marker: str = ""
    error: str = ""


def proc_figures(pid: int) -> tuple[float, int, int]:
    """(resident MiB, open file handles, threads) of `pid`."""
    rss = threads = 0
    with open(f"/proc/{pid}/status", encoding="ascii") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                rss = int(line.split()[1])
            elif line.startswith("Threads:"):
                threads = int(line.split()[1])
    return rss / 1024, len(os.listdir(f"/proc/{pid}/fd")), threads


class Soak:
    def __init__(self, url: str, tokens: int, folder: Path) -> None:
        self.url, self.tokens, self.folder = url, tokens, folder
        self.api = url.rstrip("/") + "/v1/chat/completions"
        self.restart: tuple[float, float] | None = None  # (from, to) seconds of the run
        self.started = time.monotonic()
        self.lock = threading.Lock()
        self.count = 0

    def now(self) -> float:
        return time.monotonic() - self.started

    def marker(self) -> str:
        with self.lock:
            self.count += 1
            return f"SOAK-{self.count:05d}"

    def chat(self, marker: str) -> str:
        client = Client(self.url, verbose=False, analytics_enabled=False, download_files=False)
        try:
            client.predict("en", api_name="/on_load")
            messages, status, *_ = client.predict(
                f"Repeat exactly: {marker}", MODEL_ID, 0.0, 1.0, self.tokens, "", "en", api_name="/send"
            )
        finally:
            client.close()
        answer = text_of(messages[-1]["content"]) if messages else ""
        if not answer.strip() or "⚠" in answer:
            raise RuntimeError(f"chat: {answer[:200] or status}")
        return answer

    def stream(self, marker: str, cut: bool = False) -> str:
        body = {
            "model": MODEL_ID,
            "messages": [{"role": "user", "content": f"Repeat exactly: {marker}"}],
            "stream": True,
            "max_tokens": self.tokens,
            "temperature": 0,
        }
        text, finished = "", False
        with httpx.Client(timeout=120, trust_env=False) as client, client.stream("POST", self.api, json=body) as answer:
            if answer.status_code != 200:
                raise RuntimeError(f"stream: {answer.status_code} {answer.read()[:200]!r}")
            for line in answer.iter_lines():
                if not line.startswith("data: "):
                    continue
                if line == "data: [DONE]":
                    finished = True
                    break
                event = json.loads(line[6:])
                if "error" in event:
                    raise RuntimeError(f"stream: {event['error'].get('message', '')[:200]}")
                delta = (event.get("choices") or [{}])[0].get("delta") or {}
                text += delta.get("content") or ""
                if cut and text:
                    return text  # the client goes away: the connection closes with the stream unread
        if not finished or not text.strip():
            raise RuntimeError("stream: ended without [DONE] or without text")
        return text

    def plugin(self, marker: str) -> str:
        note = self.folder / f"notes-{marker}.md"
        note.write_text(f"# Notes {marker}\n\nThe server had four slots and answered in two seconds.\n", encoding="utf-8")
        client = Client(self.url, verbose=False, analytics_enabled=False, download_files=False)
        try:
            client.predict("en", api_name="/on_load")
            client.predict([handle_file(str(note))], "en", api_name="/upload")
            ran = client.predict(
                "markdown_translate", "", "", "", [], "", MODEL_ID, 0.0, 1.0, self.tokens, "", "en", api_name="/plugin"
            )
        finally:
            client.close()
            note.unlink(missing_ok=True)
        status = str(ran[1])
        if "⚠" in status:
            raise RuntimeError(f"plugin: {status[:200]}")
        return status

    def run_one(self, kind: str) -> Done:
        marker, began = self.marker(), self.now()
        try:
            if kind == "chat":
                self.chat(marker)
            elif kind == "plugin":
                self.plugin(marker)
            else:
                self.stream(marker, cut=kind == "cut")
            ok, error = True, ""
        except Exception as exc:  # noqa: BLE001 - every failure is counted and shown, whatever it is
            ok, error = False, f"{type(exc).__name__}: {exc}"[:300]
        end = self.now()
        window = self.restart
        during = window is not None and began <= window[1] + 5 and end >= window[0]
        return Done(kind, began, end - began, ok, during, marker if kind == "chat" else "", error)


def stored_markers(data: Path) -> dict[str, int]:
    """In how many saved conversations each marker is the user's question (an answer may echo another marker)."""
    asked = re.compile(r'"role": "user", "content": "Repeat exactly: (SOAK-\d{5})"')
    found: dict[str, int] = {}
    with sqlite3.connect(data / "conversations.sqlite3") as db:
        for (messages,) in db.execute("select messages from conversations"):
            for marker in set(asked.findall(messages)):
                found[marker] = found.get(marker, 0) + 1
    return found


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=60.0)
    parser.add_argument("--gap", type=float, default=3.0, help="mean seconds between new pieces of work")
    parser.add_argument("--workers", type=int, default=4, help="pieces of work at once, at most")
    parser.add_argument("--tokens", type=int, default=24)
    parser.add_argument("--server-threads", type=int, default=1)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    rng = random.Random(args.seed)
    duration = args.minutes * 60
    before = load()
    folder = Path(tempfile.mkdtemp(prefix="localscholar-soak-"))
    server = start_llama_server(parallel=2, ctx=4096, extra_args=["--threads", str(args.server_threads)])
    port = free_port()
    config = page_config(
        folder, LOCAL_SERVER_URLS={"llamacpp": server.base_url + "/v1"}, AVAIL_LLM_MODELS=[MODEL_ID], LLM_MODEL=MODEL_ID
    )
    env = dict(os.environ, LOCALSCHOLAR_CONFIG=str(config), PYTHONUNBUFFERED="1")
    url = f"http://127.0.0.1:{port}/"
    log = folder / "page.log"
    with httpx.Client(timeout=5.0, trust_env=False) as client:
        page, _ = start_web(page_args(port), env, log, [url], 180, 0.2, client)
    soak = Soak(url, args.tokens, folder)
    samples: list[tuple[float, float, int, int]] = []
    results: list[Done] = []
    stop = threading.Event()

    def sampler() -> None:
        while not stop.is_set():
            samples.append((soak.now(), *proc_figures(page.pid)))
            stop.wait(SAMPLE_S)

    def restarter() -> None:
        nonlocal server
        if stop.wait(duration / 2):
            return
        began = soak.now()
        soak.restart = (began, began + 600)
        port = server.port
        server.stop()
        time.sleep(5)
        for attempt in range(6):
            try:
                server = start_llama_server(parallel=2, ctx=4096, port=port, extra_args=["--threads", str(args.server_threads)])
                break
            except Exception as exc:  # noqa: BLE001 - the port may still be held for a moment: try again, then say so
                progress(f"\nrestart attempt {attempt + 1} failed: {type(exc).__name__}: {str(exc)[:300]}\n")
                time.sleep(5)
        soak.restart = (began, soak.now())
        progress(f"\nllama-server restarted at {began:.0f} s, back after {soak.now() - began:.0f} s\n")
        stop.wait()  # the server dies with the thread that started it (its parent-death signal): this one stays

    threading.Thread(target=sampler, daemon=True).start()
    threading.Thread(target=restarter, daemon=True).start()
    try:
        with ThreadPoolExecutor(max_workers=args.workers) as pool:
            pending, next_note = [], 0.0
            while soak.now() < duration:
                pending = [f for f in pending if not f.done()]
                if len(pending) < args.workers:
                    kind = rng.choices(KINDS, WEIGHTS)[0]
                    future = pool.submit(soak.run_one, kind)
                    future.add_done_callback(lambda f: results.append(f.result()))
                    pending.append(future)
                time.sleep(rng.expovariate(1 / args.gap))
                if soak.now() >= next_note:
                    progress(f"{soak.now() / 60:.0f} min: {len(results)} done, {sum(not r.ok for r in results)} failed\n")
                    next_note += 300
        stop.set()
        samples.append((soak.now(), *proc_figures(page.pid)))
        output = log.read_text(encoding="utf-8", errors="replace")
        stored = stored_markers(folder / "data")
    finally:
        stop.set()
        stop_group(page)
        server.stop()
    after = load()
    return report(args, results, samples, stored, output, before, after, duration, folder)


def report(args, results, samples, stored, output, before, after, duration, folder) -> int:
    quarter = duration / 4
    rows = []
    for kind in KINDS:
        for q in range(4):
            part = [r for r in results if r.kind == kind and q * quarter <= r.at < (q + 1) * quarter]
            good = [r.seconds for r in part if r.ok]
            rows.append(
                [
                    kind,
                    f"Q{q + 1}",
                    len(part),
                    sum(1 for r in part if not r.ok and not r.during_restart),
                    sum(1 for r in part if not r.ok and r.during_restart),
                    f"{percentile(good, 0.5):.2f}" if good else "–",
                    f"{percentile(good, 0.99):.2f}" if good else "–",
                ]
            )
    print(f"# Soak: {args.minutes:g} min of mixed traffic ({machine()})\n")
    print(f"load before: {before}; after: {after}. {CI_NOTE}\n")
    print(table(["kind", "quarter", "done", "errors", "errors during restart", "p50 s", "p99 s"], rows))
    start, end = samples[0], samples[-1]
    steady = [(t, rss) for t, rss, _, _ in samples if t >= duration / 10]
    slope = slope_per_hour(steady)
    print()
    print(
        table(
            ["page process", "start", "end"],
            [
                ["resident memory (MiB)", f"{start[1]:.0f}", f"{end[1]:.0f}"],
                ["open file handles", start[2], end[2]],
                ["threads", start[3], end[3]],
            ],
        )
    )
    print(f"\nmemory slope after the first tenth: {slope:+.1f} MiB/hour ({len(steady)} samples every {SAMPLE_S:g} s)")
    first = [r.seconds for r in results if r.ok and r.kind in ("chat", "stream") and r.at < quarter]
    last = [r.seconds for r in results if r.ok and r.kind in ("chat", "stream") and r.at >= 3 * quarter]
    if first and last:
        print(
            f"drift: last quarter p50 / first quarter p50 = {percentile(last, 0.5) / percentile(first, 0.5):.2f} (chat and stream)"
        )
    answered = [r for r in results if r.kind == "chat" and r.ok]
    lost = [r.marker for r in answered if stored.get(r.marker, 0) != 1]
    failed_outside = [r for r in results if not r.ok and not r.during_restart]
    tracebacks = output.count("Traceback")
    print(f"\nchats answered {len(answered)}, of them not stored exactly once: {len(lost)} {lost[:5]}")
    print(f"failures outside the restart: {len(failed_outside)}; tracebacks in the page's output: {tracebacks}")
    for r in failed_outside[:5]:
        print(f"  {r.kind} at {r.at:.0f} s: {r.error}")
    for r in [r for r in results if not r.ok and r.during_restart][:3]:
        print(f"  (during restart) {r.kind} at {r.at:.0f} s: {r.error}")
    print(f"\nthe run's folder (page.log, the page's data): {folder}")
    return 0 if not lost and not failed_outside and not tracebacks else 1


if __name__ == "__main__":
    sys.exit(main())

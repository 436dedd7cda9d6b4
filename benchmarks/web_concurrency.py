"""Twenty users chatting through the web page at once: is each answered, with its own answer, and what does the page add?

The script starts a real llama-server (four slots, --server-threads threads) and the web page
(`python main.py`) pointed at it, model llamacpp-gemma-270m. Each round sends --users questions at
once, each with a unique marker ("Repeat exactly: KQZV-4821"), temperature 0, top_p 1, at most
--tokens tokens, in one of two arms:

- "page": one gradio_client Client per user (its own session), as a browser would: first the page's
  load event (/on_load, which puts the user's conversation into the session), then the
  chat submit (/send: the submit button's handlers.send). The time runs from client.submit() until
  the job is done, so it includes the Gradio queue, the handler, the streamed updates and the client
  decoding them. Making the clients and the load event are not timed.
- "direct": one httpx.Client per user, each POSTs the same body our backend sends (model, the user
  message, stream, stream_options.include_usage, temperature, top_p, max_tokens) to llama-server's
  /v1/chat/completions and reads the SSE stream to the end.

Rounds come in pairs that ask the same questions (new markers for each pair), alternating which arm
goes first: after --warmup pairs of --warmup-users users, --solo pairs with one user alone, then
--rounds pairs with --users users.

Checks (a failure makes the exit status 1): every page user gets an answer with no error mark; its
chat holds exactly its own question and one answer; no other user's marker appears anywhere in what
it got back (chat, status, history list); its history list holds one conversation, its own; and every
saved conversation in the page's SQLite store holds exactly one marker. Every direct request must
be answered too. The page's output is searched for tracebacks, and its process for mapped
torch/transformers files.

Also measured: the time to the first answer text in both arms (page: from the message stamps the
client keeps, with the time until the page's handler started); llama-server's /slots polled every
100 ms (how many slots are busy at once, to show whether the page lets the requests through in
parallel); the CPU time of the page process, of this script (the clients), of llama-server and of
the whole machine; and, as a floor, a trivial queued event of the page through gradio_client.

    python benchmarks/web_concurrency.py [--users 20] [--rounds 2] [--solo 5] [--tokens 32] [--server-threads 1]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import re
import sqlite3
import string
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import httpx
from common import (
    CI_NOTE,
    cpu_seconds,
    difference,
    heavy_maps,
    load,
    loads_line,
    machine,
    machine_cpu_seconds,
    median,
    page_args,
    page_config,
    percentile,
    progress,
    ratio,
    read_sse,
    start_web,
    stop_group,
    table,
    text_of,
)
from gradio_client import Client
from gradio_client.client import Job
from gradio_client.utils import OutputUpdate, Status, StatusUpdate

from tests.support.servers.running import RunningServer, ServerStartError, free_port, start_llama_server

MODEL_ID = "llamacpp-gemma-270m"
SEND_INPUTS = ["text", "model_id", "temperature", "top_p", "max_length", "system", "lang"]
SLOT_POLL_S = 0.1


@dataclass
class Answer:
    """One user's request in one round."""

    marker: str
    seconds: float | None = None  # from the call to the end (None: no answer)
    text: str = ""  # the answer's text
    result: object = None  # page: everything the endpoint returned
    tokens: int | None = None  # the server's count (page: as its status line shows it)
    first_text: float | None = None  # from the call until the first answer text arrived
    started: float | None = None  # page: from the call until the page's handler started (process_starts)
    updates: int = 0  # page: streamed updates the client received
    error: str = ""


Watched = Callable[[], AbstractContextManager[None]]  # wraps the timed part of a round


@dataclass
class Watch:
    """What happened while a round's requests ran (from the first call to the last answer or timeout)."""

    seconds: float = 0.0
    slots: list[tuple[float, int]] = field(default_factory=list)  # (seconds since the start, busy slots) at each poll
    app_cpu: float = 0.0  # CPU seconds of the page process
    client_cpu: float = 0.0  # of this script
    server_cpu: float = 0.0  # of llama-server
    machine_cpu: float = 0.0  # of the whole machine (every process, /proc/stat)


@dataclass
class Round:
    arm: str
    answers: list[Answer]
    wall: float  # first call to last answer
    watch: Watch


def make_markers(rng: random.Random, count: int, taken: set[str]) -> list[str]:
    """Unique markers of one fixed shape (four letters, dash, four digits), so none can be part of another."""
    markers: list[str] = []
    while len(markers) < count:
        marker = "".join(rng.choices(string.ascii_uppercase, k=4)) + "-" + "".join(rng.choices(string.digits, k=4))
        if marker not in taken:
            taken.add(marker)
            markers.append(marker)
    return markers


def question(marker: str) -> str:
    return f"Repeat exactly: {marker}"


class SlotWatch:
    """Polls llama-server's /slots in a thread and keeps (time since start, busy slots) of each poll."""

    def __init__(self, base_url: str) -> None:
        self.url = base_url + "/slots"
        self.samples: list[tuple[float, int]] = []
        self.start = time.perf_counter()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        with httpx.Client(timeout=5.0, trust_env=False) as client:
            while not self._stop.is_set():
                try:
                    busy = sum(bool(slot.get("is_processing")) for slot in client.get(self.url).json())
                    self.samples.append((time.perf_counter() - self.start, busy))
                except (httpx.HTTPError, ValueError):
                    pass
                self._stop.wait(SLOT_POLL_S)

    def __enter__(self) -> SlotWatch:
        self.start = time.perf_counter()
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(10)


class Page:
    """The web page process, started on a free port with its own configuration; stopped by stop()."""

    def __init__(self, folder: Path, server: RunningServer, timeout: float) -> None:
        config = page_config(
            folder,
            LOCAL_SERVER_URLS={"llamacpp": server.base_url + "/v1"},
            AVAIL_LLM_MODELS=[MODEL_ID],
            LLM_MODEL=MODEL_ID,
        )
        port = free_port()
        self.url = f"http://127.0.0.1:{port}/"
        self.log = folder / "page.log"
        env = dict(os.environ, LOCALSCHOLAR_CONFIG=str(config), PYTHONUNBUFFERED="1")
        with httpx.Client(timeout=5.0, trust_env=False) as client:
            self.process, _ = start_web(page_args(port), env, self.log, [self.url], timeout, 0.1, client)

    def output(self) -> str:
        return self.log.read_text(encoding="utf-8", errors="replace")

    def stop(self) -> None:
        stop_group(self.process)


def find_endpoints(url: str) -> tuple[str, str]:
    """The chat submit endpoint (handlers.send on the submit button) and the load event's, from view_api()."""
    client = Client(url, verbose=False, analytics_enabled=False, download_files=False)
    try:
        named = client.view_api(print_info=False, return_format="dict")["named_endpoints"]
    finally:
        client.close()
    sends = [name for name, info in named.items() if [p["parameter_name"] for p in info["parameters"]] == SEND_INPUTS]
    if "/send" not in sends or "/on_load" not in named:
        raise SystemExit(f"the page has no /send with inputs {SEND_INPUTS} or no /on_load; endpoints: {sorted(named)}")
    return "/send", "/on_load"


def reply_text(result: object) -> str:
    """The assistant's text in what /send returns (chat, status, input box, history list)."""
    chat = result[0] if isinstance(result, (tuple, list)) and result else []
    replies = [m for m in chat if isinstance(m, dict) and m.get("role") == "assistant"]
    return text_of(replies[-1].get("content")) if replies else ""


def timeline(job: Job, submitted: float) -> tuple[float | None, float | None, int]:
    """From the client's own record of a finished job's messages, each stamped when it arrived: seconds from
    `submitted` (time.time()) until the handler started and until the first answer text, and how many
    streamed updates came."""
    updates = []
    queue = job.communicator.updates if job.communicator else None
    while queue is not None:
        try:
            updates.append(queue.get_nowait())
        except asyncio.QueueEmpty:
            break
    started = first_text = None
    streamed, has_text = 0, False
    for update in updates:
        if isinstance(update, OutputUpdate):  # comes just before the status of the same message
            has_text = not update.final and bool(reply_text(update.outputs).strip())
        elif isinstance(update, StatusUpdate) and update.time is not None:
            at = update.time.timestamp() - submitted
            if update.code == Status.PROCESSING and started is None:
                started = at
            elif update.code == Status.ITERATING:
                streamed += 1
                if has_text and first_text is None:
                    first_text = at
    return started, first_text, streamed


def queue_floor(url: str, calls: int = 10) -> float:
    """Median seconds of a trivial queued event through gradio_client: the page's model dropdown handler
    (_open_compare) with a single model, which returns gr.skip() at once. Gradio's queue and the client's
    round trip, with none of our answering code."""
    client = Client(url, verbose=False, analytics_enabled=False, download_files=False)
    try:
        times = []
        for _ in range(calls + 2):
            start = time.perf_counter()
            client.predict(MODEL_ID, api_name="/_open_compare")
            times.append(time.perf_counter() - start)
    finally:
        client.close()
    return median(times[2:])


def page_round(
    url: str, send: str, on_load: str, markers: list[str], tokens: int, timeout: float, watched: Watched
) -> tuple[list[Answer], float]:
    """One page round: a Client and the load event per user (not watched), then every user's submit at once.

    The submits go out one after another without waiting (client.submit returns at once); each user's
    time runs from its submit until its job is done (a done callback notes the moment).
    """
    users = len(markers)

    def open_session(_: int) -> Client:
        client = Client(url, verbose=False, analytics_enabled=False, download_files=False)
        client.predict("en", api_name=on_load)
        return client

    with ThreadPoolExecutor(max_workers=8) as pool:
        sessions = list(pool.map(open_session, range(users)))
    answers = [Answer(marker) for marker in markers]
    starts: list[float] = []
    submitted: list[float] = []  # the same moments by time.time(), the clock of the client's message stamps
    ends: list[float | None] = [None] * users
    try:
        with watched():
            jobs = []
            for i, client in enumerate(sessions):
                starts.append(time.perf_counter())
                submitted.append(time.time())
                job = client.submit(question(markers[i]), MODEL_ID, 0.0, 1.0, tokens, "", "en", api_name=send)
                job.add_done_callback(lambda _, i=i: ends.__setitem__(i, time.perf_counter()))
                jobs.append(job)
            deadline = starts[0] + timeout
            for i, job in enumerate(jobs):
                try:
                    answers[i].result = job.result(timeout=max(0.1, deadline - time.perf_counter()))
                except Exception as exc:  # a failed or timed-out request: recorded and reported, never raised
                    answers[i].error = f"{type(exc).__name__}: {exc}"[:300]
                    job.cancel()
            while any(ends[i] is None for i in range(users) if not answers[i].error):
                time.sleep(0.001)  # done callbacks run just after result() wakes
    finally:
        for client in sessions:
            client.close()
    for i, answer in enumerate(answers):
        if answer.error:
            continue
        answer.seconds = ends[i] - starts[i]
        answer.text = reply_text(answer.result)
        answer.started, answer.first_text, answer.updates = timeline(jobs[i], submitted[i])
        length = re.search(r"length (\d+) tok", str(answer.result[1]))  # the status line: "... · length 32 tok"
        answer.tokens = int(length.group(1)) if length else None
    wall = max((end for end in ends if end is not None), default=float("nan")) - starts[0]
    return answers, wall


def direct_round(
    url: str, model: str, markers: list[str], tokens: int, timeout: float, watched: Watched
) -> tuple[list[Answer], float]:
    """One direct round: an httpx.Client per user, released together by a barrier, each streaming the same body as ours."""
    users = len(markers)
    answers = [Answer(marker) for marker in markers]
    barrier = threading.Barrier(users + 1)
    ends: list[float] = []

    def ask(i: int, client: httpx.Client) -> None:
        answer = answers[i]
        body = {
            "model": model,
            "messages": [{"role": "user", "content": question(answer.marker)}],
            "stream": True,
            "stream_options": {"include_usage": True},
            "temperature": 0.0,
            "top_p": 1.0,
            "max_tokens": tokens,
        }
        barrier.wait()
        start = time.perf_counter()
        parts = []
        try:
            with client.stream("POST", url, json=body) as response:
                response.raise_for_status()
                for item in read_sse(response):
                    if isinstance(item, int):
                        answer.tokens = item
                        continue
                    parts.append(item)
                    if answer.first_text is None:
                        answer.first_text = time.perf_counter() - start
            end = time.perf_counter()
            answer.seconds, answer.text = end - start, "".join(parts)
            ends.append(end)
        except (httpx.HTTPError, ValueError, KeyError) as exc:
            answer.error = f"{type(exc).__name__}: {exc}"[:300]

    clients = [httpx.Client(timeout=httpx.Timeout(timeout, connect=10.0), trust_env=False) for _ in range(users)]
    threads = [threading.Thread(target=ask, args=(i, clients[i]), daemon=True) for i in range(users)]
    try:
        for thread in threads:
            thread.start()
        with watched():
            barrier.wait(timeout=30)
            start = time.perf_counter()
            for thread in threads:
                thread.join(max(0.1, start + timeout + 5 - time.perf_counter()))
        for answer in answers:
            if answer.seconds is None and not answer.error:
                answer.error = f"no answer within {timeout:g} s"
    finally:
        for client in clients:
            client.close()
    return answers, (max(ends) - start) if ends else float("nan")


def check_page(answers: list[Answer], everyone: set[str]) -> list[str]:
    """What is wrong with the page's answers of one round (empty: all good)."""
    problems = []
    for answer in answers:
        who = answer.marker
        if answer.error:
            problems.append(f"{who}: {answer.error}")
            continue
        others = sorted(m for m in everyone - {who} if m in json.dumps(answer.result, ensure_ascii=False))
        if others:
            problems.append(f"{who}: got other users' markers {others}")
        chat, _status, _box, history = answer.result
        roles = [m.get("role") for m in chat]
        if roles != ["user", "assistant"]:
            problems.append(f"{who}: the chat has roles {roles}, not one question and one answer")
        elif text_of(chat[0]["content"]) != question(who):
            problems.append(f"{who}: its question shows as {text_of(chat[0]['content'])!r}")
        if not answer.text.strip() or answer.text.lstrip().startswith("⚠"):
            problems.append(f"{who}: the answer is {answer.text[:200]!r}")
        choices = history.get("choices") if isinstance(history, dict) else None
        if not choices or len(choices) != 1 or who not in str(choices[0]):
            problems.append(f"{who}: its history list is {choices!r}")
    return problems


def check_store(database: Path, everyone: set[str]) -> tuple[int, list[str]]:
    """Each saved conversation must hold exactly one marker, in its title too; returns (rows, problems)."""
    with sqlite3.connect(f"file:{database}?mode=ro", uri=True) as db:
        rows = db.execute("SELECT user, title, messages, history FROM conversations").fetchall()
    problems, users = [], {}
    for user, title, messages, history in rows:
        found = {m for m in everyone if m in messages or m in history}
        if len(found) != 1 or next(iter(found)) not in title:
            problems.append(f"conversation of {user} titled {title!r} holds markers {sorted(found)}")
        users.setdefault(user, 0)
        users[user] += 1
    problems += [f"{user} has {n} conversations, not 1" for user, n in users.items() if n != 1]
    return len(rows), problems


def med(values: list[float], digits: int = 2) -> str:
    return f"{median(values):.{digits}f}" if values else "-"


def arm_row(users: str, arm: str, mine: list[Round]) -> list[str]:
    answers = [a for r in mine for a in r.answers]
    seconds = [a.seconds for a in answers if a.seconds is not None]
    busy = [b for r in mine for _, b in r.watch.slots]
    watched = sum(r.watch.seconds for r in mine) or float("nan")
    token_counts = sorted({a.tokens for a in answers if a.tokens is not None})
    return [
        users,
        arm,
        f"{len(seconds)}/{len(answers)}",
        med(seconds),
        f"{percentile(seconds, 0.1):.2f}-{percentile(seconds, 0.9):.2f}" if seconds else "-",
        f"{max(seconds):.2f}" if seconds else "-",
        med([a.first_text for a in answers if a.first_text is not None]),
        med([r.wall for r in mine]),
        f"{max(busy, default=0)}",
        f"{sum(busy) / len(busy):.2f}" if busy else "-",
        f"{sum(r.watch.app_cpu for r in mine) / len(answers) * 1000:.0f}",
        f"{sum(r.watch.client_cpu for r in mine) / len(answers) * 1000:.0f}",
        f"{sum(r.watch.server_cpu for r in mine) / watched:.2f}",
        f"{sum(r.watch.machine_cpu for r in mine) / watched:.2f}",
        ",".join(map(str, token_counts)) or "-",
    ]


def compare(page: list[float], direct: list[float]) -> list[str]:
    """Median of page - median of direct, and the ratio, each with a 95% bootstrap interval."""
    if not page or not direct:
        return ["-"] * 4
    return [*difference(page, direct).cells("+.3f"), *ratio(page, direct).cells(".3f")]


def report(rounds: list[Round], solo: list[Round], args: argparse.Namespace, loads: tuple[str, str]) -> str:
    rows, compared, breakdown, same = [], [], [], []
    for users, group in ((str(args.users), rounds), ("1", solo)):
        if not group:
            continue
        arms = {arm: [r for r in group if r.arm == arm] for arm in ("direct", "page")}
        rows += [arm_row(users, arm, mine) for arm, mine in arms.items()]
        answers = {arm: [a for r in mine for a in r.answers] for arm, mine in arms.items()}
        total = {arm: [a.seconds for a in got if a.seconds is not None] for arm, got in answers.items()}
        first = {arm: [a.first_text for a in got if a.first_text is not None] for arm, got in answers.items()}
        compared.append([users, "end-to-end", *compare(total["page"], total["direct"])])
        compared.append([users, "first text", *compare(first["page"], first["direct"])])
        page = answers["page"]
        direct_text = {a.marker: a.text for a in answers["direct"] if a.seconds is not None}
        alike = sum(a.seconds is not None and direct_text.get(a.marker) == a.text for a in page)
        same.append(f"{alike}/{len(page)} with {users} user(s) at once")
        updates = sum(a.updates for a in page)
        breakdown.append(
            [
                users,
                med([a.started for a in page if a.started is not None]),
                med(first["page"]),
                med([a.updates for a in page], 0),
                f"{sum(r.watch.app_cpu for r in arms['page']) / updates * 1000:.1f}" if updates else "-",
                f"{sum(r.watch.client_cpu for r in arms['page']) / updates * 1000:.1f}" if updates else "-",
            ]
        )
    return "\n".join(
        [
            f"web_concurrency: {args.users} users at once in {args.rounds} round(s) per arm, and one user alone in {args.solo} "
            f"round(s) per arm, after {args.warmup} warm-up round(s) of {args.warmup_users} users;",
            f"at most {args.tokens} tokens, temperature 0; llama-server 4 slots, threads {args.server_threads or 'default'}",
            machine(),
            loads_line(*loads, during="rounds"),
            "",
            table(
                [
                    "users",
                    "arm",
                    "answered",
                    "end-to-end s",
                    "p10-p90 s",
                    "max s",
                    "first text s",
                    "round wall s",
                    "slots busy max",
                    "slots busy mean",
                    "page CPU ms/req",
                    "client CPU ms/req",
                    "server cores",
                    "machine cores",
                    "tokens",
                ],
                rows,
            ),
            "  end-to-end and first text: medians over every user of every round, from the call until the answer is",
            "  complete / until its first text arrived. round wall: first call to last answer (median over rounds).",
            "  slots busy: llama-server /slots polled every 100 ms during the rounds (with more requests than slots,",
            "  llama-server answers /slots only after the first ones finish, so the direct 20-user rounds lack their first",
            "  seconds). CPU ms/req: the page process's and this script's (the clients') CPU time per request. server",
            "  cores, machine cores: CPU seconds per second of llama-server and of the whole machine (all processes, 2 cores).",
            "  tokens: the server's counts of answer tokens (page: from its status line).",
            "",
            table(["users", "time", "added s (page - direct)", "95% CI", "ratio page / direct", "95% CI"], compared),
            CI_NOTE,
            f"  answers the same in both arms for the same question: {', '.join(same)}",
            "",
            "The page's requests from the client's side (medians; message arrival times as gradio_client stamps them):",
            table(
                [
                    "users",
                    "submit -> handler started s",
                    "submit -> first text s",
                    "updates per answer",
                    "page CPU ms/update",
                    "client CPU ms/update",
                ],
                breakdown,
            ),
        ]
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=20, help="users at once (default 20)")
    parser.add_argument("--rounds", type=int, default=2, help="measured rounds per arm (default 2)")
    parser.add_argument("--warmup", type=int, default=1, help="warm-up rounds per arm (default 1)")
    parser.add_argument("--solo", type=int, default=5, help="rounds per arm with one user alone (default 5)")
    parser.add_argument("--warmup-users", type=int, default=4, help="users at once in a warm-up round (default 4)")
    parser.add_argument("--tokens", type=int, default=32, help="max_tokens / max_length of each answer (default 32)")
    parser.add_argument("--server-threads", type=int, default=1, help="llama-server --threads; 0 = its default (default 1)")
    parser.add_argument("--timeout", type=float, default=180.0, help="seconds a round may take (default 180)")
    parser.add_argument("--seed", type=int, default=0, help="seed for the markers")
    args = parser.parse_args(argv)
    if min(args.users, args.rounds, args.tokens, args.warmup_users) < 1 or min(args.warmup, args.solo) < 0:
        parser.error("--users, --rounds, --tokens and --warmup-users must be at least 1, --warmup and --solo at least 0")
    os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")  # llama-server inherits this process's environment
    rng = random.Random(args.seed)
    everyone: set[str] = set()
    rounds: list[Round] = []  # with --users at once
    solo: list[Round] = []  # one user alone
    problems: list[str] = []
    server = page = None
    extra = ["--threads", str(args.server_threads)] if args.server_threads else []
    with tempfile.TemporaryDirectory(prefix="web-concurrency-") as name:
        folder = Path(name)
        try:
            progress("starting llama-server and the page ")
            server = start_llama_server(parallel=4, ctx=4096, extra_args=extra)
            page = Page(folder, server, timeout=120.0)
            send, on_load = find_endpoints(page.url)
            chat_url = server.base_url + "/v1/chat/completions"
            arms = {
                "page": lambda markers, watched: page_round(page.url, send, on_load, markers, args.tokens, args.timeout, watched),
                "direct": lambda markers, watched: direct_round(
                    chat_url, server.model, markers, args.tokens, args.timeout, watched
                ),
            }

            def run_round(arm: str, markers: list[str]) -> Round:
                seen = Watch()

                @contextmanager
                def watched() -> Iterator[None]:
                    """Slots and CPU times while the round's requests run."""
                    pids = (page.process.pid, server.process.pid)
                    cpu = [*map(cpu_seconds, pids), time.process_time(), machine_cpu_seconds()]
                    with SlotWatch(server.base_url) as slots:
                        yield
                    seen.seconds = time.perf_counter() - slots.start
                    seen.slots = slots.samples
                    now = [*map(cpu_seconds, pids), time.process_time(), machine_cpu_seconds()]
                    seen.app_cpu, seen.server_cpu, seen.client_cpu, seen.machine_cpu = (
                        b - a for a, b in zip(cpu, now, strict=True)
                    )

                answers, wall = arms[arm](markers, watched)
                if arm == "page":
                    problems.extend(check_page(answers, everyone))
                else:
                    problems.extend(f"direct {a.marker}: {a.error}" for a in answers if a.error)
                return Round(arm, answers, wall, seen)

            def pairs(count: int, users: int, into: list[Round] | None, mark: str) -> None:
                """`count` pairs of rounds, the same questions in both arms of a pair, alternating which goes first."""
                for number in range(count):
                    markers = make_markers(rng, users, everyone)
                    pair = {}
                    for arm in ("page", "direct") if number % 2 == 0 else ("direct", "page"):
                        pair[arm] = run_round(arm, markers)
                        progress(mark)
                    if into is not None:
                        into += pair.values()

            progress("warm-up ")
            pairs(args.warmup, args.warmup_users, None, "w")
            progress(" one user alone ")
            before = load()
            pairs(args.solo, 1, solo, ".")
            floor = queue_floor(page.url)
            progress(f" {args.users} users ")
            pairs(args.rounds, args.users, rounds, ".")
            after = load()
            stored, store_problems = check_store(folder / "data" / "conversations.sqlite3", everyone)
            problems += store_problems
            mapped = heavy_maps(page.process.pid)
            if mapped:
                problems.append(f"the page process maps {', '.join(mapped)}")
            progress(" done\n")
        except ServerStartError as exc:
            progress("\n")
            print(f"a server did not start: {exc}", file=sys.stderr)
            return 1
        finally:
            log = page.output() if page else ""
            if page:
                page.stop()
            if server:
                server.stop()
        print(report(rounds, solo, args, (before, after)))
        print(f"  a trivial queued event through gradio_client (/_open_compare, no work), one user: {floor:.3f} s (median of 10)")
        tracebacks = log.count("Traceback")
        print(f"  conversations saved by the page: {stored}; tracebacks in the page's output: {tracebacks}")
        if tracebacks:
            problems.append("the page's output has tracebacks:\n" + log[log.index("Traceback") :][:3000])
    for line in problems:
        print(f"FAILED: {line}", file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())

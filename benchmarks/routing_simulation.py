"""Spreading one model over a pool of servers, on paper: least-busy against round-robin and random.

1. Measured: a real llama-server (four slots, one thread, the test model) answers --requests chat requests
   (a short question each, max_tokens drawn from 16/64/128, temperature 0, streamed), sent 1, 2 and 4 at once
   (each level a closed loop over the same requests in the same order, in two passes over half of them each,
   the levels in turn: 1 2 4, then 4 2 1). Per request: the time to its first token and to its end. Per level:
   how much slower each request is than the same request alone (the median of the paired ratios), which is
   the slowdown of a server with k busy slots, and how many cores the whole machine kept busy meanwhile.
2. Simulated: a pool of --servers servers, each with 4 slots and the measured slowdown (k requests in service
   each progress at 1/slowdown(k) of their speed alone, a processor-sharing model); --users users, each in a
   closed loop (send, wait for the whole answer, think for an exponential time of mean --think s, again), the
   work of each request drawn from the measured requests alone. A request that finds its server's slots
   full waits in that server's queue (the gate); nothing moves between queues. The router sends each
   request to a server that is not resting and has not failed that request: `least-busy`, `round-robin` or
   `random`. `least-busy` is the shipped policy, pools.Router.pick: the server whose load (in service +
   waiting, over its slots: gates.Gate.load) is lowest, equal loads taking turns; and since each user is one
   conversation (its user number is the request's affinity), its next request stays on the server its last
   one went to unless that server's load exceeds the lowest by pools.STICKY_MARGIN or more (0.5 of 4 slots:
   2 requests). Round-robin and random are baselines with no stickiness. With failure, server 0 dies at half
   the run: its requests that had not produced their first token (waiting ones included) go to another server
   (retried), those past it fail (failed mid-answer; their user thinks and asks again). Health is the shipped
   one for all three (servers.Server.fail, pools.Router.failed and _probe): a server that a request saw fail
   rests servers.COOL_FIRST s, twice as long at each failure in a row (at most servers.COOL_MOST s); when a
   rest ends a probe asks it, is refused in 5 ms and the server rests again; a request sent to it in that
   moment is refused in 5 ms and sent elsewhere (refused). Seeds are fixed: every policy sees the same users
   asking the same requests with the same think times. Latency is from a request's first send to its last
   token, over the answers that end after the warm-up (the first --warmup s).
    python benchmarks/routing_simulation.py [--requests 40] [--duration 3600] [--servers 2 4 ...] [--users 10 100 1000]
"""

from __future__ import annotations

import argparse
import heapq
import itertools
import json
import random
import time
from collections import OrderedDict, deque
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import httpx
from common import load, loads_line, machine, machine_cpu_seconds, median, percentile, progress, table

from request_llms.pools import AFFINITIES, STICKY_MARGIN
from request_llms.servers import COOL_FIRST, COOL_MOST
from tests.support.servers import running

SLOTS = 4
TOKENS = (16, 64, 128)
QUESTIONS = (
    "What is a literature review?",
    "Explain what a p-value measures.",
    "What is the difference between a journal and a conference paper?",
    "Why do papers cite earlier work?",
    "What does peer review check?",
    "Explain what an abstract is for.",
    "What is a confidence interval?",
    "What is a systematic review?",
)
POLICIES = ("least-busy", "round-robin", "random")
REFUSED_S = 0.005  # a connection to the dead server is refused in this long (a request's or a probe's)
MAX_USERS_PER_SLOT = 32


# ---------------------------------------------------------------- 1. measured on a real server


@dataclass(frozen=True)
class Measured:
    """One request: its job (question, max_tokens), seconds to its first token and to its end, tokens."""

    job: tuple[str, int]
    first: float
    total: float
    tokens: int


def ask(url: str, job: tuple[str, int]) -> Measured:
    """One streamed request on a connection of its own (llama-server drops idle kept-alive ones)."""
    question, tokens = job
    body = {"model": "gemma-270m", "messages": [{"role": "user", "content": question}], "stream": True,
            "stream_options": {"include_usage": True}, "temperature": 0.0, "max_tokens": tokens}  # fmt: skip
    started = time.perf_counter()
    first, count = None, 0
    with httpx.stream("POST", f"{url}/v1/chat/completions", json=body, timeout=300, trust_env=False) as response:
        response.raise_for_status()
        for line in response.iter_lines():
            if not line.startswith("data: ") or line == "data: [DONE]":
                continue
            chunk = json.loads(line[len("data: ") :])
            if first is None and any(c["delta"].get("content") for c in chunk.get("choices") or []):
                first = time.perf_counter()
            if chunk.get("usage"):
                count = chunk["usage"]["completion_tokens"]
    ended = time.perf_counter()
    return Measured(job, (first or ended) - started, ended - started, count)


@dataclass
class Measurement:
    """Per level (requests at once): its answers in job order, its wall time, the machine's busy cores during it
    (all processes, so two cores' worth means something else was running), and its slowdown against level 1."""

    answers: dict[int, list[Measured]]
    walls: dict[int, float]
    cores: dict[int, float]
    slowdown: dict[int, float]
    startup: float
    loads: str


def measure(requests: int, levels: tuple[int, ...], passes: int = 2) -> Measurement:
    """The same `requests` jobs at each level, in `passes` interleaved passes (levels in turn, the order reversed
    in every other pass), each pass a share of the jobs."""
    rng = random.Random(0)
    jobs = [(rng.choice(QUESTIONS), rng.choice(TOKENS)) for _ in range(requests)]
    shares = [jobs[i::passes] for i in range(passes)]
    progress(f"starting llama-server ({SLOTS} slots, 1 thread)\n")
    server = running.start_llama_server(parallel=SLOTS, ctx=4096, extra_args=["--threads", "1"])
    answers: dict[int, list[Measured]] = {level: [] for level in levels}
    walls = dict.fromkeys(levels, 0.0)
    busy = dict.fromkeys(levels, 0.0)
    try:
        ask(server.base_url, (QUESTIONS[0], 16))  # warm-up
        before = load()
        for number, share in enumerate(shares):
            for level in levels if number % 2 == 0 else levels[::-1]:
                progress(f"{level} at once ")
                started, cpu = time.perf_counter(), machine_cpu_seconds()
                with ThreadPoolExecutor(max_workers=level) as pool:
                    answers[level] += pool.map(lambda job: ask(server.base_url, job), share)
                walls[level] += time.perf_counter() - started
                busy[level] += machine_cpu_seconds() - cpu
                progress(". ")
        after = load()
    finally:
        server.stop()
    progress("\n")
    order = [job for share in shares for job in share]
    alone = answers[levels[0]]
    slowdown = {level: median([m.total / a.total for m, a in zip(answers[level], alone, strict=True)]) for level in levels}
    assert all([m.job for m in answers[level]] == order for level in levels)
    cores = {level: busy[level] / walls[level] for level in levels}
    return Measurement(answers, walls, cores, slowdown, server.startup_s, loads_line(before, after, "measurements"))


def slowdown_curve(measured: dict[int, float]) -> list[float]:
    """The factor for 0..SLOTS busy slots: measured levels, straight lines between them, never below the one before."""
    points = sorted(measured.items())
    curve = [1.0, 1.0]
    for busy in range(2, SLOTS + 1):
        low = max((p for p in points if p[0] <= busy), default=points[0])
        high = min((p for p in points if p[0] >= busy), default=points[-1])
        value = low[1] if high[0] == low[0] else low[1] + (high[1] - low[1]) * (busy - low[0]) / (high[0] - low[0])
        curve.append(max(value, curve[-1]))
    return curve


# ---------------------------------------------------------------- 2. the simulation


class Request:
    __slots__ = ("user", "sent", "work", "first", "done", "tried")

    def __init__(self, user: int, sent: float, work: float, first: float) -> None:
        self.user, self.sent, self.work, self.first, self.done = user, sent, work, first, 0.0
        self.tried: list[int] = []  # the servers that failed it (chat.py's `tried`)


class Server:
    """A simulated server: its slots and queue (the gate), and its health as servers.Server keeps it."""

    __slots__ = ("active", "queue", "alive", "until", "failures", "probing", "version", "since", "rate")

    def __init__(self) -> None:
        self.active: list[Request] = []
        self.queue: deque[Request] = deque()
        self.alive, self.until, self.failures, self.probing = True, 0.0, 0, False
        self.version, self.since, self.rate = 0, 0.0, 1.0

    @property
    def load(self) -> float:
        """gates.Gate.load: the share of its slots taken, in service or waiting."""
        return (len(self.active) + len(self.queue)) / SLOTS

    def fail(self, now: float) -> None:
        """servers.Server.fail: one more failure in a row, and the rest it earns."""
        self.failures += 1
        self.until = now + min(COOL_FIRST * 2 ** (self.failures - 1), COOL_MOST)


@dataclass
class Outcome:
    latencies: list[float]
    window: float
    retried: int
    refused: int
    failed_mid: int
    stayed: int  # requests sent to the server that the user's previous request was sent to
    followed: int  # requests of a user who had sent one before

    @property
    def throughput(self) -> float:
        return len(self.latencies) / self.window


SEND, FINISH, REFUSED, DIE, PROBE, PROBED = range(6)


def simulate(
    servers: int,
    users: int,
    policy: str,
    failure: bool,
    work: list[tuple[float, float]],
    curve: list[float],
    *,
    duration: float,
    warmup: float,
    think: float,
) -> Outcome:
    """One closed-loop run; `work` holds (seconds to the first token, seconds to the end) of requests alone."""
    pool = [Server() for _ in range(servers)]
    events: list[tuple] = []
    order = itertools.count()
    user_rng = [random.Random(f"user-{servers}-{users}-{u}") for u in range(users)]
    router_rng = random.Random(f"router-{servers}-{users}")
    cursor = turn = 0
    sticky: OrderedDict[int, int] = OrderedDict()  # Router._sticky: user (the affinity) -> its last server
    previous: dict[int, int] = {}  # user -> the server of its previous send, under every policy
    latencies: list[float] = []
    retried = refused = failed_mid = stayed = followed = 0

    def push(at: float, kind: int, a: object, b: object = None) -> None:
        heapq.heappush(events, (at, next(order), kind, a, b))

    def advance(server: Server, now: float) -> None:
        step = (now - server.since) * server.rate
        for request in server.active:
            request.done += step
        server.since = now

    def reschedule(index: int, now: float) -> None:
        server = pool[index]
        server.version += 1
        if server.active:
            server.rate = 1.0 / curve[len(server.active)]
            nearest = min(server.active, key=lambda r: r.work - r.done)
            push(now + max(0.0, nearest.work - nearest.done) / server.rate, FINISH, index, (server.version, nearest))

    def failed(index: int, now: float) -> None:
        """pools.Router.failed: a request saw the server fail; it rests unless it already does, and a probe starts."""
        server = pool[index]
        if server.until > now:
            return  # requests already under way when it went down: one failure, not several
        server.fail(now)
        if not server.probing:
            server.probing = True
            push(server.until, PROBE, index)

    def choose(request: Request, now: float) -> int:
        """Router.pick's candidates for every policy; among them Router.pick itself for least-busy."""
        nonlocal cursor, turn
        left = [index for index in range(servers) if index not in request.tried]
        if not left:  # every server failed it once: chat.py waits, then tries them all again
            request.tried.clear()
            left = list(range(servers))
        in_service = [index for index in left if pool[index].until <= now]
        if not in_service:  # all resting: the one whose rest ends first may be back already
            in_service = [min(left, key=lambda index: pool[index].until)]
        if policy == "round-robin":
            chosen = min(in_service, key=lambda index: (index - cursor) % servers)
            cursor = chosen + 1
            return chosen
        if policy == "random":
            return router_rng.choice(in_service)
        turn += 1
        at = turn % len(in_service)
        rotated = in_service[at:] + in_service[:at]  # equal loads take turns
        loads = {index: pool[index].load for index in rotated}
        chosen = min(rotated, key=loads.__getitem__)
        last = sticky.get(request.user)
        if last in loads and loads[last] - loads[chosen] < STICKY_MARGIN:
            chosen = last
        sticky[request.user] = chosen
        sticky.move_to_end(request.user)
        while len(sticky) > AFFINITIES:
            sticky.popitem(last=False)
        return chosen

    def route(request: Request, now: float) -> None:
        index = previous[request.user] = choose(request, now)
        server = pool[index]
        if not server.alive:
            push(now + REFUSED_S, REFUSED, request, index)
        elif len(server.active) < SLOTS:
            advance(server, now)
            server.active.append(request)
            reschedule(index, now)
        else:
            server.queue.append(request)

    def next_request(user: int, now: float) -> None:
        push(now + user_rng[user].expovariate(1.0 / think), SEND, user)

    for user in range(users):
        next_request(user, 0.0)
    if failure:
        push(duration / 2, DIE, 0)
    while events:
        now, _, kind, a, b = heapq.heappop(events)
        if now > duration:
            break
        if kind == SEND:
            first, total = user_rng[a].choice(work)
            last = previous.get(a)
            route(Request(a, now, total, first), now)
            if last is not None:
                followed += 1
                stayed += previous[a] == last
        elif kind == FINISH:
            server = pool[a]
            version, request = b
            if version != server.version:
                continue
            advance(server, now)
            server.active.remove(request)
            if now >= warmup:
                latencies.append(now - request.sent)
            next_request(request.user, now)
            while server.queue and len(server.active) < SLOTS:
                server.active.append(server.queue.popleft())
            reschedule(a, now)
        elif kind == REFUSED:
            a.tried.append(b)
            failed(b, now)
            refused += 1
            route(a, now)
        elif kind == PROBE:  # Router._probe: when the rest ends, ask the server for its model list
            if pool[a].until > now:
                push(pool[a].until, PROBE, a)
            else:
                push(now + REFUSED_S, PROBED, a)
        elif kind == PROBED:
            server = pool[a]
            if server.alive:  # servers.Server.back (a server that died stays dead here)
                server.failures, server.until, server.probing = 0, 0.0, False
            else:
                server.fail(now)
                push(server.until, PROBE, a)
        else:  # DIE
            server = pool[a]
            advance(server, now)
            server.alive = False
            lost, server.active, server.queue = [*server.active, *server.queue], [], deque()
            server.version += 1
            for request in lost:
                request.tried.append(a)
                failed(a, now)
                if request.done >= request.first:
                    failed_mid += 1
                    next_request(request.user, now)
                else:
                    retried += 1
                    request.done = 0.0  # the next server starts it over
                    route(request, now)
    return Outcome(latencies, duration - warmup, retried, refused, failed_mid, stayed, followed)


# ---------------------------------------------------------------- the report


def seconds(value: float) -> str:
    return f"{value:.1f}" if value < 100 else f"{value:.0f}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=40, help="measured requests per concurrency level")
    parser.add_argument("--duration", type=float, default=3600.0, help="simulated seconds per run")
    parser.add_argument("--warmup", type=float, default=300.0, help="simulated seconds left out of the figures")
    parser.add_argument("--think", type=float, default=5.0, help="mean think time of a user, s")
    parser.add_argument("--servers", type=int, nargs="+", default=[2, 4, 8, 16, 32, 64])
    parser.add_argument("--users", type=int, nargs="+", default=[10, 100, 1000])
    args = parser.parse_args()
    print(machine())

    levels = (1, 2, 4)
    result = measure(args.requests, levels)
    measured, slowdown, walls = result.answers, result.slowdown, result.walls
    curve = slowdown_curve(slowdown)
    print(
        f"\n1. Measured on llama-server (gemma-270m Q4_K_M, {SLOTS} slots, --threads 1, started in {result.startup:.1f} s): "
        f"{args.requests} requests per level, max_tokens from {'/'.join(map(str, TOKENS))}, temperature 0, "
        f"in 2 interleaved passes"
    )
    print(f"  {result.loads}")
    rows = []
    for level in levels:
        done = measured[level]
        totals = [m.total for m in done]
        tokens = sum(m.tokens for m in done)
        rows.append(
            [
                level,
                f"{median([m.first for m in done]):.3f}",
                f"{median(totals):.2f}",
                f"{percentile(totals, 0.9):.2f}",
                f"{max(totals):.2f}",
                f"{median([(m.total - m.first) / (m.tokens - 1) * 1e3 for m in done if m.tokens > 1]):.1f}",
                f"{len(done) / walls[level]:.2f}",
                f"{tokens / walls[level]:.1f}",
                f"{slowdown[level]:.2f}x",
                f"{result.cores[level]:.2f}",
            ]
        )
    print(
        table(
            [
                "at once",
                "first token s",
                "service s",
                "p90 s",
                "max s",
                "ms/token",
                "answers/s",
                "tokens/s",
                "slowdown",
                "machine cores busy",
            ],
            rows,
        )
    )
    by_cap = {cap: [m for m in measured[1] if m.job[1] == cap] for cap in TOKENS}
    print(
        "  alone, per max_tokens: "
        + "; ".join(
            f"{cap}: {median([m.tokens for m in group]):.0f} tokens in {median([m.total for m in group]):.2f} s (n={len(group)})"
            for cap, group in by_cap.items()
            if group
        )
    )
    mismatched = sum(m.tokens != a.tokens for level in levels[1:] for m, a in zip(measured[level], measured[1], strict=True))
    print(f"  answers whose token count differs from the same request alone: {mismatched}")
    print(
        "  slowdown: median over the requests of (time at that level / time alone); the model uses "
        + ", ".join(f"{busy} busy {curve[busy]:.2f}x" for busy in range(1, SLOTS + 1))
        + (" (3: between 2 and 4)" if 3 not in slowdown else "")
    )

    work = [(m.first, m.total) for m in measured[1]]
    mean_work = sum(total for _, total in work) / len(work)
    capacity = SLOTS / (mean_work * curve[SLOTS])
    print(
        f"\n2. Simulated: {args.duration:g} s per run ({args.warmup:g} s warm-up left out), think time exponential "
        f"mean {args.think:g} s, {SLOTS} slots per server; work drawn from the {len(work)} requests alone "
        f"(mean {mean_work:.2f} s); one server full handles about {capacity:.2f} answers/s"
    )
    print(
        f"  least-busy as pools.Router.pick: lowest (in service + waiting) / {SLOTS}, equal loads take turns; a user "
        f"(a conversation) stays on its last server unless that one's load is {STICKY_MARGIN:g} or more above the lowest"
    )
    print(
        f"  failure: server 0 dies at {args.duration / 2:g} s; a failed server rests {COOL_FIRST:g} s, doubling to at "
        f"most {COOL_MOST:g} s, and is probed when the rest ends; a probe or request sent to it is refused in "
        f"{REFUSED_S * 1e3:g} ms"
    )
    grid, skipped = [], []
    for servers in args.servers:
        for users in args.users:
            if users < servers:
                skipped.append(f"{servers}x{users} (fewer users than servers)")
            elif users > MAX_USERS_PER_SLOT * servers * SLOTS:
                skipped.append(f"{servers}x{users} (over {MAX_USERS_PER_SLOT} users per slot)")
            else:
                grid.append((servers, users))
    rows, outcomes = [], {}
    cpu = time.process_time()
    for servers, users in grid:
        progress(f"{servers}x{users} ")
        for failure in (False, True):
            for policy in POLICIES:
                outcome = simulate(
                    servers, users, policy, failure, work, curve, duration=args.duration, warmup=args.warmup, think=args.think
                )
                outcomes[servers, users, failure, policy] = outcome
                rows.append(
                    [
                        servers,
                        users,
                        "1 dies" if failure else "none",
                        policy,
                        f"{outcome.throughput:.2f}",
                        seconds(sum(outcome.latencies) / len(outcome.latencies)),
                        seconds(percentile(outcome.latencies, 0.5)),
                        seconds(percentile(outcome.latencies, 0.99)),
                        outcome.retried,
                        outcome.refused,
                        outcome.failed_mid,
                    ]
                )
                progress(".")
    cpu = time.process_time() - cpu
    progress("\n")
    print(
        table(
            [
                "servers",
                "users",
                "failure",
                "policy",
                "answers/s",
                "mean s",
                "p50 s",
                "p99 s",
                "retried",
                "refused",
                "failed mid-answer",
            ],
            rows,
        )
    )
    if skipped:
        print("  skipped: " + ", ".join(skipped))
    print(
        "  retried: re-sent elsewhere when the server died, before their first token (waiting ones included); refused:\n"
        "  sent to the dead server when a rest had ended and before the probe found it down, refused and re-sent\n"
        "  elsewhere; failed mid-answer: past their first token when the server died, an error to their user.\n"
        "  Latency: first send to last token, retries included."
    )
    print(f"  {len(outcomes)} runs in {cpu:.0f} s of CPU")
    print(
        "  a user's request sent to the server of its previous one (median over the runs, range): "
        + "; ".join(
            f"{policy} {median(shares):.0%} ({min(shares):.0%}-{max(shares):.0%})"
            for policy in POLICIES
            for shares in [[o.stayed / o.followed for (_, _, _, p), o in outcomes.items() if p == policy and o.followed]]
        )
    )

    print("\nleast-busy against the others (ratio of least-busy's figure to theirs; over the runs above)")
    summary = []
    for failure in (False, True):
        for other in POLICIES[1:]:
            p99 = [
                percentile(outcomes[s, u, failure, "least-busy"].latencies, 0.99)
                / percentile(outcomes[s, u, failure, other].latencies, 0.99)
                for s, u in grid
            ]
            rate = [outcomes[s, u, failure, "least-busy"].throughput / outcomes[s, u, failure, other].throughput for s, u in grid]
            best = min(zip(p99, grid, strict=True))
            summary.append(
                [
                    "1 dies" if failure else "none",
                    other,
                    f"{median(p99):.2f}x",
                    f"{min(p99):.2f}-{max(p99):.2f}",
                    f"{best[0]:.2f}x at {best[1][0]}x{best[1][1]}",
                    f"{median(rate):.3f}x",
                    f"{min(rate):.3f}-{max(rate):.3f}",
                ]
            )
    print(
        table(
            ["failure", "against", "p99 median", "p99 range", "p99 lowest at servers x users", "answers/s median", "range"],
            summary,
        )
    )


if __name__ == "__main__":
    main()

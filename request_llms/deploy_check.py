"""The deployment check (部署验证): can this model answer, keep context and follow an instruction, and how fast.

`run_check` asks three small questions and a short burst of parallel ones, and gathers time to first
token, tokens per second, the server's own figures and the serving process's memory where they can be read.
`run_checks` does it for a model and, where a pool serves it, for each of the pool's servers alone.
"""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field

from .chat import chat
from .embeddings import embed
from .errors import LLMError
from .model_spec import ModelSpec
from .request import CancelToken, ChatOptions
from .runtime import runtime_of


@dataclass
class Probe:
    """One question of the check and what came back."""

    name: str
    passed: bool
    answer: str = ""
    error: str = ""
    time_to_first_token: float | None = None  # of the answer
    time_to_first_thought: float | None = None  # a reasoning model's first thinking
    tokens_per_second: float | None = None
    completion_tokens: int | None = None
    server_tokens_per_second: float | None = None
    seconds: float = 0.0


@dataclass
class Report:
    model: str
    probes: list[Probe] = field(default_factory=list)
    concurrency: dict = field(default_factory=dict)
    memory: dict = field(default_factory=dict)
    server: str = ""  # one server of a pool, checked alone; "" for the model (a pool: all its servers)
    pool: list[str] = field(default_factory=list)  # the pool's servers, when the model has several
    error: dict = field(default_factory=dict)  # {"zh": ..., "en": ...} when this server could not answer at all

    def as_dict(self) -> dict:
        return asdict(self)


# (name, history, prompt, test of the answer)
QUESTIONS = (
    ("simple question", (), "What is the capital of France? Answer in one word.", lambda a: "paris" in a.lower()),
    (
        "two-turn context",
        ("My name is Lin and my favourite number is 42. Please remember it.", "Nice to meet you, Lin. I will remember 42."),
        "What is my favourite number? Answer with the number only.",
        lambda a: "42" in a,
    ),
    (
        "instruction following",
        (),
        "Reply with exactly the word OK in capital letters and nothing else.",
        lambda a: a.strip().strip(".!。").upper() == "OK",
    ),
)
OPTIONS = ChatOptions(temperature=0.0, max_tokens=32)
MAX_CONCURRENCY = 64  # requests at once in the burst test: a check, not a load generator


def _ask(
    spec: ModelSpec,
    config,
    server: str | None,
    name: str,
    history,
    prompt: str,
    test,
    strict: bool = False,
    cancel: CancelToken | None = None,
) -> Probe:
    """Ask one question; a failure becomes a failed Probe, or is raised when `strict`."""
    started = time.perf_counter()
    try:
        stream = chat(spec, prompt, history=history, options=OPTIONS, config=config, server=server, cancel=cancel)
        answer = "".join(stream)
    except LLMError as exc:
        if strict:
            raise
        return Probe(name, False, exc.partial, exc.text(config.lang), seconds=time.perf_counter() - started)
    usage = stream.usage
    return Probe(
        name,
        bool(test(answer)),
        answer.strip(),
        time_to_first_token=stream.time_to_first_token,
        time_to_first_thought=stream.time_to_first_thought,
        tokens_per_second=stream.tokens_per_second,
        completion_tokens=stream.completion_tokens,
        server_tokens_per_second=usage.server_tokens_per_s if usage else None,
        seconds=time.perf_counter() - started,
    )


def run_check(
    spec: ModelSpec, config, concurrency: int = 4, server: str | None = None, cancel: CancelToken | None = None
) -> Report:
    """Run the check (of one server of a pool, when `server` names it); raises the backend's error only if the
    model cannot answer at all. `concurrency` is bounded by MAX_CONCURRENCY; `cancel` stops every request."""
    if not 1 <= concurrency <= MAX_CONCURRENCY:
        raise ValueError(f"concurrency must be 1 to {MAX_CONCURRENCY}, not {concurrency}")
    cancel = cancel or CancelToken()
    report = Report(spec.text)
    # The first question doubles as the reachability test: a dead server stops the check with its one line.
    report.probes.append(_ask(spec, config, server, *QUESTIONS[0], strict=True, cancel=cancel))
    report.probes += [_ask(spec, config, server, *question, cancel=cancel) for question in QUESTIONS[1:] if not cancel.is_set()]
    if concurrency > 1 and not cancel.is_set():
        started = time.perf_counter()
        with ThreadPoolExecutor(max_workers=concurrency) as pool:
            probes = list(
                pool.map(
                    lambda i: _ask(spec, config, server, f"parallel {i + 1}", *QUESTIONS[0][1:], cancel=cancel),
                    range(concurrency),
                )
            )
        wall = time.perf_counter() - started
        tokens = sum(p.completion_tokens or 0 for p in probes)
        report.concurrency = {
            "requests": concurrency,
            "answered": sum(1 for p in probes if not p.error),
            "wall_seconds": wall,
            "total_tokens_per_second": tokens / wall if wall > 0 else None,
            "time_to_first_token": [p.time_to_first_token for p in probes],
            "errors": [p.error for p in probes if p.error],
        }
    backend = runtime_of(config).backend_for(spec)
    report.memory = backend.memory(spec, next((one for one in backend.servers(spec) if one.url == server), None))
    return report


def run_checks(spec: ModelSpec, config, concurrency: int = 4) -> list[Report]:
    """The check of the model; for a pool, then of each of its servers alone (a dead one gets its error line)."""
    members = runtime_of(config).backend_for(spec).urls(spec)
    first = run_check(spec, config, concurrency)
    if len(members) < 2:
        return [first]
    first.pool = members
    reports = [first]
    for url in members:
        try:
            report = run_check(spec, config, concurrency, server=url)
        except LLMError as exc:
            report = Report(spec.text, error={"zh": exc.text("zh"), "en": exc.text("en")})
        report.server = url
        reports.append(report)
    return reports


# Two sentences that say the same thing and one that does not: a working embedding model puts the first two closer.
SIMILAR = ("The experiment confirms the hypothesis.", "The results support the hypothesis.")
UNRELATED = "Bake the bread for forty minutes."
BURST_TEXTS = 64


@dataclass
class EmbedReport:
    """The deployment check of an embedding model."""

    model: str
    dimension: int = 0
    normalised: bool = False
    similar: float = 0.0  # cosine of the two sentences that say the same thing
    unrelated: float = 0.0  # cosine of the first and the unrelated one
    texts_per_second: float | None = None
    seconds: float = 0.0
    memory: dict = field(default_factory=dict)

    @property
    def passed(self) -> bool:
        return self.dimension > 0 and self.similar > self.unrelated

    def as_dict(self) -> dict:
        return {**asdict(self), "passed": self.passed}


def _cosine(a: list[float], b: list[float]) -> float:
    dot = sum(x * y for x, y in zip(a, b, strict=True))
    size = (sum(x * x for x in a) * sum(y * y for y in b)) ** 0.5
    return dot / size if size else 0.0


def run_embedding_check(spec: ModelSpec, config) -> EmbedReport:
    """Embed two sentences that agree and one that does not, then a batch for speed; raises if it cannot embed."""
    started = time.perf_counter()
    first = embed(spec, [*SIMILAR, UNRELATED], config=config)
    a, b, c = first.vectors
    burst = embed(spec, [f"{SIMILAR[i % 2]} ({i})" for i in range(BURST_TEXTS)], config=config)
    report = EmbedReport(
        spec.text,
        dimension=first.dimension,
        normalised=all(abs(_cosine(v, v) * sum(x * x for x in v) - 1) < 1e-3 for v in first.vectors),
        similar=_cosine(a, b),
        unrelated=_cosine(a, c),
        texts_per_second=BURST_TEXTS / burst.seconds if burst.seconds > 0 else None,
        seconds=time.perf_counter() - started,
    )
    report.memory = runtime_of(config).backend_for(spec).memory(spec)
    return report


def format_embedding_report(report: EmbedReport, lang: str = "en") -> str:
    zh = lang == "zh"
    verdict = ("通过" if zh else "pass") if report.passed else ("未通过" if zh else "FAIL")
    lines = [
        f"{'部署验证（向量模型）' if zh else 'Deployment check (embeddings)'}: {report.model}",
        "",
        f"{'维度' if zh else 'dimension'}: {report.dimension}"
        + (
            f"，{'已归一化' if report.normalised else '未归一化'}"
            if zh
            else f", {'normalised' if report.normalised else 'not normalised'}"
        ),
        (f"同义句相似度 {report.similar:.3f} > 无关句 {report.unrelated:.3f}：{verdict}")
        if zh
        else f"similar sentences {report.similar:.3f} > unrelated {report.unrelated:.3f}: {verdict}",
        (f"速度：{_num(report.texts_per_second, ' 段/秒', 1)}（{BURST_TEXTS} 段）")
        if zh
        else f"speed: {_num(report.texts_per_second, ' texts/s', 1)} ({BURST_TEXTS} texts)",
    ]
    if report.memory.get("bytes"):
        lines.append(f"{'内存' if zh else 'Memory'}: {report.memory['bytes'] / 2**20:.0f} MiB ({report.memory['source']})")
    return "\n".join(lines)


def _num(value: float | None, unit: str = "", digits: int = 2) -> str:
    return "—" if value is None else f"{value:.{digits}f}{unit}"


def format_report(report: Report, lang: str = "en") -> str:
    zh = lang == "zh"
    where = f" @ {report.server}" if report.server else ""
    if report.pool:
        where = f"（服务池，{len(report.pool)} 个服务）" if zh else f" (pool of {len(report.pool)} servers)"
    lines = [f"{'部署验证' if zh else 'Deployment check'}: {report.model}{where}", ""]
    if report.error:
        return "\n".join([*lines, f"⚠ {report.error[lang if lang in report.error else 'en']}"])
    head = (
        ("项目", "结果", "首字延迟", "速度 tok/s", "服务端 tok/s", "回答")
        if zh
        else ("check", "result", "first token", "tok/s", "server tok/s", "answer")
    )
    rows = [head]
    for p in report.probes:
        verdict = ("通过" if zh else "pass") if p.passed else ("未通过" if zh else "FAIL")
        shown = p.error or p.answer.replace("\n", " ")
        rows.append(
            (
                p.name,
                verdict,
                _num(p.time_to_first_token, " s"),
                _num(p.tokens_per_second, "", 1),
                _num(p.server_tokens_per_second, "", 1),
                shown[:60],
            )
        )
    widths = [max(len(r[i]) for r in rows) for i in range(5)]
    lines += ["  ".join(cell.ljust(widths[i]) if i < 5 else cell for i, cell in enumerate(row)) for row in rows]
    thinking = [p.time_to_first_thought for p in report.probes if p.time_to_first_thought is not None]
    if thinking:
        first = min(thinking)
        lines += [
            "",
            f"首个思考：{first:.2f} s（首字为回答的第一个字）"
            if zh
            else f"First thought: {first:.2f} s (first token is the answer's)",
        ]
    c = report.concurrency
    if c:
        lines += [
            "",
            (
                f"并发测试：{c['answered']}/{c['requests']} 个请求成功，用时 {_num(c['wall_seconds'], ' s')}，合计 {_num(c['total_tokens_per_second'], ' tok/s', 1)}"
            )
            if zh
            else (
                f"Concurrency: {c['answered']}/{c['requests']} answered in {_num(c['wall_seconds'], ' s')}, {_num(c['total_tokens_per_second'], ' tok/s', 1)} in total"
            ),
        ]
        lines += [f"  {e}" for e in c["errors"][:2]]
    m = report.memory
    if m.get("bytes"):
        gpu = f", GPU {m['gpu_bytes'] / 2**20:.0f} MiB" if m.get("gpu_bytes") else ""
        lines += ["", f"{'内存' if zh else 'Memory'}: {m['bytes'] / 2**20:.0f} MiB{gpu} ({m['source']})"]
    if m.get("load_seconds") is not None:
        lines += [f"{'加载用时' if zh else 'Load time'}: {m['load_seconds']:.1f} s ({m['device']}, {m['dtype']})"]
    return "\n".join(lines)

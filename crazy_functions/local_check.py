"""本地模型体检: the deployment check on one or more models, with charts in the page and a Markdown report.

Models are checked one after another, so each one's figures are its own. Cloud models may be checked
beside local ones: the same questions give the local-against-cloud comparison.
"""

from __future__ import annotations

import threading
import time

from request_llms.deploy_check import MAX_CONCURRENCY, Report, format_report, run_check
from request_llms.stability import format_stability, run_stability
from toolbox import CatchException, error_line, update_ui

from .models.charts import bar_chart
from .models.selection import selected_models
from .runtime.errors import PluginInputError
from .runtime.registry import Field, Plugin

PAGE_STABILITY_MINUTES = 60  # the page's stability run: an hour at most (the command line allows a day)


def _figures(report: Report) -> tuple[float | None, float | None, float | None]:
    """Median time to first token and speed of the answered questions, and memory in MiB."""
    answered = [p for p in report.probes if p.time_to_first_token is not None]
    first = sorted(p.time_to_first_token for p in answered)
    speed = sorted(p.tokens_per_second for p in answered if p.tokens_per_second)
    memory = report.memory.get("bytes")
    return (
        first[len(first) // 2] if first else None,
        speed[len(speed) // 2] if speed else None,
        memory / 2**20 if memory else None,
    )


def summary_table(reports: list[Report], lang: str) -> str:
    zh = lang == "zh"
    head = (
        "| 模型 | 通过 | 首字延迟 (s) | 速度 (tok/s) | 并发合计 (tok/s) | 内存 (MiB) |"
        if zh
        else "| Model | Passed | First token (s) | tok/s | Concurrent total (tok/s) | Memory (MiB) |"
    )
    rows = [head, "|---|---:|---:|---:|---:|---:|"]
    for report in reports:
        first, speed, memory = _figures(report)
        passed = f"{sum(p.passed for p in report.probes)}/{len(report.probes)}"
        total = report.concurrency.get("total_tokens_per_second")
        cells = [report.model, passed] + [
            "–" if v is None else f"{v:.{d}f}" for v, d in ((first, 2), (speed, 1), (total, 1), (memory, 0))
        ]
        rows.append("| " + " | ".join(cells) + " |")
    return "\n".join(rows)


def charts(reports: list[Report], lang: str) -> str:
    zh = lang == "zh"
    figures = [(_figures(r), r.model) for r in reports]
    return "\n".join(
        [
            bar_chart("首字延迟" if zh else "Time to first token", "s", [(m, f[0]) for f, m in figures], 2),
            bar_chart("生成速度" if zh else "Generation speed", "tok/s", [(m, f[1]) for f, m in figures]),
            bar_chart("服务进程内存" if zh else "Serving process memory", "MiB", [(m, f[2]) for f, m in figures], 0),
        ]
    )


@CatchException
def local_check(txt, llm_kwargs, plugin_kwargs, chatbot, history, system_prompt, user_request):
    say = chatbot.say
    specs = chatbot.allowed(selected_models(plugin_kwargs, llm_kwargs))
    typed = (plugin_kwargs.get("concurrency") or "4").strip() or "4"
    concurrency = int(typed) if typed.isdigit() else 0
    if not 1 <= concurrency <= MAX_CONCURRENCY:
        raise PluginInputError(
            en=f"Concurrent requests must be a whole number from 1 to {MAX_CONCURRENCY}, not {typed[:20]}.",
            zh=f"并发请求数须为 1 到 {MAX_CONCURRENCY} 的整数，而不是 {typed[:20]}。",
        )
    minutes = _stability_minutes(plugin_kwargs)
    if minutes:
        yield from _stability(specs, minutes, concurrency, chatbot, history)
        return
    chatbot.append([say(zh="本地模型体检", en="Local model check"), ""])
    reports: list[Report] = []
    failed: list[str] = []
    for spec in specs:
        if chatbot.stopped:
            break
        result: dict = {}

        def work(spec=spec, result=result) -> None:
            try:
                result["report"] = run_check(spec, chatbot.config, concurrency=concurrency, cancel=chatbot.cancel)
            except Exception as exc:  # a model that cannot answer at all: one line, the others go on
                result["error"] = exc

        thread = threading.Thread(target=work, daemon=True, name=f"check-{spec.base}")
        thread.start()
        started = time.monotonic()
        while thread.is_alive() and not chatbot.stopped:
            elapsed = time.monotonic() - started
            chatbot[-1][1] = say(zh=f"正在检查 {spec.base}（{elapsed:.0f} s）…", en=f"Checking {spec.base} ({elapsed:.0f} s)…")
            yield from update_ui(chatbot, history)
            thread.join(0.5)
        if "report" in result:
            reports.append(result["report"])
        elif "error" in result:
            failed.append(f"- {spec.base}: {error_line(result['error'], chatbot.lang)}")
    table = summary_table(reports, chatbot.lang)
    details = "\n\n".join(f"```\n{format_report(r, chatbot.lang)}\n```" for r in reports)
    stopped = (
        say(zh="\n\n已停止：未检查的模型已跳过。", en="\n\nStopped: the models not yet checked were skipped.")
        if chatbot.stopped
        else ""
    )
    problems = "\n\n" + "\n".join(failed) if failed else ""
    chatbot.extra_html = charts(reports, chatbot.lang) if reports else ""
    title = say(zh="本地模型体检", en="Local model check")
    report = f"# {title}\n\n*{time.strftime('%Y-%m-%d %H:%M')}*\n\n{table}{problems}{stopped}\n\n{details}\n"
    saved = chatbot.write_output("model-check.md", report)
    if chatbot.extra_html:
        chatbot.write_output("model-check-charts.html", f"<!doctype html><meta charset='utf-8'><body>{chatbot.extra_html}</body>")
    chatbot[-1][1] = f"{table}{problems}{stopped}\n\n{details}\n\n📄 {saved.name}"
    history.extend([title, table])
    yield from update_ui(chatbot, history)


def _stability_minutes(plugin_kwargs: dict) -> float:
    """The stability field: 0 (empty) for the usual check, else minutes, 0 < m <= PAGE_STABILITY_MINUTES."""
    typed = (plugin_kwargs.get("stability") or "").strip()
    if not typed:
        return 0.0
    try:
        minutes = float(typed)
    except ValueError:
        minutes = -1.0
    if not 0 < minutes <= PAGE_STABILITY_MINUTES:
        raise PluginInputError(
            en=f"Stability minutes must be a number above 0 and at most {PAGE_STABILITY_MINUTES}, not {typed[:20]}; "
            "longer runs: python -m request_llms check MODEL --stability MINUTES.",
            zh=f"稳定性测试分钟数须大于 0 且不超过 {PAGE_STABILITY_MINUTES}，而不是 {typed[:20]}；"
            "更长的测试请用 python -m request_llms check 模型 --stability 分钟数。",
        )
    return minutes


def _stability(specs, minutes: float, concurrency: int, chatbot, history):
    """The stability mode on each model in turn, with its progress; a report file of all of them."""
    say = chatbot.say
    title = say(zh="稳定性测试", en="Stability run")
    chatbot.append([title, ""])
    shown: list[str] = []
    for spec in specs:
        if chatbot.stopped:
            break
        result: dict = {}
        figures = {"seconds": 0.0, "answered": 0, "failed": 0}

        def work(spec=spec, result=result, figures=figures) -> None:
            def progress(seconds: float, answered: int, failed: int) -> None:
                figures.update(seconds=seconds, answered=answered, failed=failed)

            try:
                result["report"] = run_stability(spec, chatbot.config, minutes, concurrency, chatbot.cancel, progress=progress)
            except Exception as exc:  # a model that cannot answer at all: one line, the others go on
                result["error"] = exc

        thread = threading.Thread(target=work, daemon=True, name=f"stability-{spec.base}")
        thread.start()
        while thread.is_alive():
            f = figures
            chatbot[-1][1] = "\n\n".join(
                [*shown, say(zh=f"{spec.base}：{f['seconds']:.0f} / {minutes * 60:.0f} s，成功 {f['answered']}，失败 {f['failed']}",
                             en=f"{spec.base}: {f['seconds']:.0f} / {minutes * 60:.0f} s, {f['answered']} answered, {f['failed']} failed")]
            )  # fmt: skip
            yield from update_ui(chatbot, history)
            thread.join(1.0)
        if "report" in result:
            shown.append(f"```\n{format_stability(result['report'], chatbot.lang)}\n```")
        else:
            shown.append(f"- {spec.base}: {error_line(result['error'], chatbot.lang)}")
    body = "\n\n".join(shown)
    saved = chatbot.write_output("stability.md", f"# {title}\n\n*{time.strftime('%Y-%m-%d %H:%M')}*\n\n{body}\n")
    chatbot[-1][1] = f"{body}\n\n📄 {saved.name}"
    history.extend([title, body])
    yield from update_ui(chatbot, history)


PLUGIN = Plugin(
    key="local_check",
    zh="本地模型体检",
    en="Local model check",
    group="models",
    about_zh="对一个或多个模型做部署验证：简单问答、两轮上下文、指令遵循、并发；给出首字延迟、速度、内存的图表和 Markdown 报告。"
    "可把云端模型放在一起对比。",
    about_en="The deployment check on one or more models (a simple question, two-turn context, instruction following, "
    "concurrency) with charts of first-token time, speed and memory, and a Markdown report. Cloud models can be "
    "compared beside local ones.",
    run=local_check,
    fields=(
        Field("models", zh="模型（用 & 分隔，留空为当前模型）", en="Models (separated by &; empty: the current one)"),
        Field("concurrency", zh="并发请求数", en="Concurrent requests", default="4"),
        Field(
            "stability",
            zh=f"稳定性测试分钟数（留空为常规体检，最多 {PAGE_STABILITY_MINUTES}）",
            en=f"Stability run, minutes (empty: the usual check; at most {PAGE_STABILITY_MINUTES})",
        ),
    ),
)

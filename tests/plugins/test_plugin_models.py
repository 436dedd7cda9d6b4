"""本地模型体检 on the real llama-server and Ollama: a table, charts of each model's figures, a report."""

from __future__ import annotations

from crazy_functions.local_check import local_check
from request_llms.config_loader import get_config
from tests.support.plugin_support import LLAMA, OLLAMA, drive, make_chatbot
from tests.support.servers.running import free_port


def test_two_local_models_are_checked_with_charts_and_a_report(llama_kwargs, ollama_server, monkeypatch, tmp_path):
    monkeypatch.setenv("OLLAMA_API_BASE", ollama_server.base_url)
    get_config.cache_clear()
    chatbot = make_chatbot(tmp_path, lang="en")
    drive(local_check, "", llama_kwargs, chatbot, {"models": f"{LLAMA} & {OLLAMA}", "concurrency": "2"})
    answer = chatbot[-1][1]
    assert f"| {LLAMA} |" in answer and f"| {OLLAMA} |" in answer
    assert chatbot.extra_html.count("<svg") == 3
    assert all(name in chatbot.extra_html for name in (LLAMA, OLLAMA, "tok/s", "MiB"))
    report, page = chatbot.outputs
    assert report.name == "model-check.md" and "Concurrency: 2/2 answered" in report.read_text(encoding="utf-8")
    assert page.suffix == ".html" and "<svg" in page.read_text(encoding="utf-8")


def test_a_model_that_cannot_answer_is_one_line_and_the_others_are_still_checked(llama_kwargs, monkeypatch, tmp_path):
    monkeypatch.setenv("OLLAMA_API_BASE", f"http://127.0.0.1:{free_port()}")
    get_config.cache_clear()
    chatbot = make_chatbot(tmp_path)
    drive(local_check, "", llama_kwargs, chatbot, {"models": f"{OLLAMA}&{LLAMA}", "concurrency": "1"})
    answer = chatbot[-1][1]
    assert f"- {OLLAMA}: " in answer and "ollama serve" in answer
    assert f"| {LLAMA} |" in answer and "Traceback" not in answer


def test_a_burst_beyond_its_bound_is_refused_in_both_languages_before_any_request(llama_kwargs, tmp_path):
    for typed, lang in (("3000", "en"), ("many", "zh")):
        chatbot = make_chatbot(tmp_path, lang=lang)
        drive(local_check, "", llama_kwargs, chatbot, {"models": LLAMA, "concurrency": typed})
        assert ("1 to 64" if lang == "en" else "1 到 64") in chatbot.failure and typed in chatbot.failure
        assert not chatbot.outputs  # nothing was checked, no report written


def test_a_stability_run_from_the_page_reports_its_intervals_and_recovery(llama_kwargs, tmp_path):
    chatbot = make_chatbot(tmp_path, lang="en")
    drive(local_check, "", llama_kwargs, chatbot, {"models": LLAMA, "concurrency": "2", "stability": "0.2"})
    answer = chatbot[-1][1]
    assert f"Stability run: {LLAMA}, 0.2 min, concurrency 2" in answer and ", 0 failed" in answer
    assert "Recovery: after a request stopped mid-answer" in answer and "MiB/hour" in answer
    (report,) = chatbot.outputs
    assert report.name == "stability.md" and "latency p99" in report.read_text(encoding="utf-8")


def test_stability_minutes_beyond_the_pages_bound_are_refused_in_both_languages(llama_kwargs, tmp_path):
    for typed, lang in (("600", "en"), ("0", "zh"), ("long", "en")):
        chatbot = make_chatbot(tmp_path, lang=lang)
        drive(local_check, "", llama_kwargs, chatbot, {"models": LLAMA, "concurrency": "1", "stability": typed})
        assert ("at most 60" if lang == "en" else "不超过 60") in chatbot.failure and typed in chatbot.failure
        assert not chatbot.outputs

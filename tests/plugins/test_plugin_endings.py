"""A plugin run ends honestly: an error in a thread or future it started, or an import failure or traceback
it only prints in the chat, is the run's failure line, not "finished"; its threads belong to its run; and a
GPT Academic checkout's plugins read their own files by paths relative to its folder."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from crazy_functions.runtime.registry import join_gpt_academic
from crazy_functions.runtime.session import ending
from request_llms.config_loader import get_config
from tests.support.gpt_academic import NO_CHECKOUT, checkout
from tests.support.plugin_support import drive, make_chatbot
from toolbox import CatchException, get_log_folder, update_ui
from userfiles import user_home


@pytest.fixture
def config(tmp_path, monkeypatch):
    private = tmp_path / "config_private.py"
    private.write_text(f"DATA_DIR = {str(tmp_path / 'data')!r}\n", encoding="utf-8")
    monkeypatch.setenv("LOCALSCHOLAR_CONFIG", str(private))
    get_config.cache_clear()
    yield get_config()
    get_config.cache_clear()


@CatchException
def pooled(txt, llm_kwargs, plugin_kwargs, chatbot, history, system_prompt, user_request):
    def task(n: int) -> int:
        if n == 2:
            raise ValueError("file 2 could not be read")
        return n

    with ThreadPoolExecutor(2) as pool:
        futures = [pool.submit(task, n) for n in range(4)]
    chatbot.append([txt, f"{sum(f.done() for f in futures)} files done"])  # never asks a future for its result
    yield from update_ui(chatbot, history)


@CatchException
def threaded(txt, llm_kwargs, plugin_kwargs, chatbot, history, system_prompt, user_request):
    thread = threading.Thread(target=lambda: 1 / 0)
    thread.start()
    thread.join()
    chatbot.append([txt, "done"])
    yield from update_ui(chatbot, history)


@CatchException
def printed(txt, llm_kwargs, plugin_kwargs, chatbot, history, system_prompt, user_request):
    chatbot.append([txt, "读取文件失败: No module named 'llama_index'"])
    yield from update_ui(chatbot, history)


@CatchException
def fine(txt, llm_kwargs, plugin_kwargs, chatbot, history, system_prompt, user_request):
    folders = []
    worker = threading.Thread(target=lambda: folders.append(get_log_folder(plugin_name="mine")))
    worker.start()
    worker.join()
    chatbot.append([txt, f"wrote into {folders[0]}"])
    yield from update_ui(chatbot, history)


def run(plugin, tmp_path, lang: str = "en"):
    chatbot = make_chatbot(tmp_path, lang=lang)
    drive(plugin, "go", {"llm_model": "x"}, chatbot)
    return chatbot


def test_an_error_a_future_holds_that_the_plugin_never_asks_for_is_the_runs_failure(config, tmp_path):
    chatbot = run(pooled, tmp_path)
    assert chatbot[-1][1] == "4 files done" and not chatbot.failure
    assert (
        ending(chatbot)
        == "⚠ The plugin ended, but 1 background task(s) failed: The plugin failed (ValueError: file 2 could not be read). The server log has the details."
    )


@pytest.mark.filterwarnings("ignore::pytest.PytestUnhandledThreadExceptionWarning")
def test_an_error_that_ends_a_thread_it_started_is_the_runs_failure_in_chinese_too(config, tmp_path):
    chatbot = run(threaded, tmp_path, lang="zh")
    assert ending(chatbot).startswith("⚠ 插件已结束，但有 1 个后台任务出错：") and "ZeroDivisionError" in ending(chatbot)


def test_an_import_failure_it_only_prints_says_what_to_install(config, tmp_path):
    assert "pip install llama-index-core" in ending(run(printed, tmp_path))


def test_a_thread_it_starts_writes_into_the_folder_of_the_user_whose_run_it_is_and_ends_clean(config, tmp_path):
    chatbot = run(fine, tmp_path)
    folder = Path(chatbot[-1][1].removeprefix("wrote into "))
    assert folder.is_relative_to(user_home(config, chatbot.get_user())) and ending(chatbot) == ""


def test_what_came_before_the_run_is_not_its_failure(config, tmp_path):
    chatbot = make_chatbot(tmp_path)
    chatbot.append(["earlier", "Traceback (most recent call last): an old answer"])
    chatbot.first_new = len(chatbot)
    drive(fine, "go", {"llm_model": "x"}, chatbot)
    assert ending(chatbot) == ""


@pytest.mark.skipif(checkout() is None, reason=NO_CHECKOUT)
def test_a_checkouts_plugin_reads_its_template_by_a_path_relative_to_its_folder_from_a_thread(config, tmp_path):
    join_gpt_academic(str(checkout()))
    from crazy_functions.pdf_fns.report_gen_html import construct_html  # the checkout's module

    @CatchException
    def report(txt, llm_kwargs, plugin_kwargs, chatbot, history, system_prompt, user_request):
        page = construct_html()
        page.add_row("Question", "Answer")
        with ThreadPoolExecutor(1) as pool:
            saved = pool.submit(page.save_file, "report.html").result()
        chatbot.append([txt, saved])
        yield from update_ui(chatbot, history)

    chatbot = run(report, tmp_path)
    saved = Path(chatbot[-1][1])
    assert ending(chatbot) == "" and saved.read_text(encoding="utf-8").startswith("<!DOCTYPE html>")
    assert saved.is_relative_to(user_home(config, chatbot.get_user()))
    assert not Path("crazy_functions/pdf_fns/report_template.html").exists()  # nothing was copied here
    with pytest.raises(FileNotFoundError), open("crazy_functions/pdf_fns/report_template.html", encoding="utf-8"):
        pass  # code of ours reads from here, as before


@CatchException
def said_failed(txt, llm_kwargs, plugin_kwargs, chatbot, history, system_prompt, user_request):
    chatbot.append(("失败了", "虽然PDF生成失败了, 但请查收结果（压缩包）, 内含已经翻译的Tex文档 ..."))
    yield from update_ui(chatbot, history)


def test_gpt_academics_own_failed_entry_is_the_runs_failure(config, tmp_path):
    assert (
        ending(run(said_failed, tmp_path))
        == "⚠ The plugin reported a failure: 虽然PDF生成失败了, 但请查收结果（压缩包）, 内含已经翻译的Tex文档 ..."
    )


def test_a_run_whose_every_request_failed_ends_as_failed(tmp_path, monkeypatch):
    from crazy_functions.crazy_utils import request_gpt_model_multi_threads_with_very_awesome_ui_and_high_efficiency
    from tests.support.servers.running import free_port

    private = tmp_path / "config_private.py"
    private.write_text(
        f"DATA_DIR = {str(tmp_path / 'data')!r}\nLOCAL_SERVER_URLS = {{'llamacpp': 'http://127.0.0.1:{free_port()}/v1'}}\n"
        "MAX_RETRY = 0\n",
        encoding="utf-8",
    )
    monkeypatch.setenv("LOCALSCHOLAR_CONFIG", str(private))
    get_config.cache_clear()

    @CatchException
    def ask_two(txt, llm_kwargs, plugin_kwargs, chatbot, history, system_prompt, user_request):
        yield from request_gpt_model_multi_threads_with_very_awesome_ui_and_high_efficiency(
            ["a", "b"], ["a", "b"], llm_kwargs, chatbot, [[], []], ["", ""]
        )

    try:
        chatbot = make_chatbot(tmp_path, lang="en")
        drive(ask_two, "go", {"llm_model": "llamacpp-m", "temperature": 0, "top_p": 1, "max_length": 8}, chatbot)
        assert ending(chatbot).startswith("⚠ Every one of the plugin's 2 request(s) failed: ")
    finally:
        get_config.cache_clear()

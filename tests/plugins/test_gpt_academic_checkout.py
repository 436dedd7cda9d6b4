"""Entries of a full GPT Academic checkout's own menu (GPT_ACADEMIC_FOLDER alone) run as they are, on the
session's llama-server, with the configuration as the page serves it (only AVAIL_LLM_MODELS answer)."""

from __future__ import annotations

import importlib
from importlib.util import find_spec
from pathlib import Path

import pytest

from crazy_functions.runtime.registry import all_plugins
from crazy_functions.runtime.session import ending
from request_llms.config_loader import get_config
from request_llms.runtime import runtime_of
from tests.support.gpt_academic import NO_CHECKOUT, checkout, run_in_extras_venv
from tests.support.plugin_support import LLAMA, drive, make_chatbot
from tests.support.servers.provision import gpt_academic_python
from tests.support.webapp import write_config
from userfiles import user_dir

pytestmark = [pytest.mark.servers, pytest.mark.skipif(checkout() is None, reason=NO_CHECKOUT)]

KWARGS = {"llm_model": LLAMA, "temperature": 0, "top_p": 1.0, "max_length": 64}
CODE = """def mean(values):
    total = 0
    for value in values:
        total += value
    return total / len(values)
"""
NOTES = """# Field notes

## Glaciers

The outlet glacier retreated 412 metres between 2001 and 2019.

## Corals

The corals bleached when the water reached 31 degrees.
"""


def entry(name: str, config):
    """The plugin of GPT Academic's own menu named `name` (GPT_ACADEMIC_FOLDER alone brings the menu)."""
    return next(plugin for plugin in all_plugins(config) if plugin.key.startswith("ga-") and plugin.zh == name)


@pytest.fixture
def config(monkeypatch, tmp_path, llama_server):
    private = write_config(
        tmp_path,
        {
            "GPT_ACADEMIC_FOLDER": str(checkout()),
            "LOCAL_SERVER_URLS": {"llamacpp": f"{llama_server.base_url}/v1"},
            "AVAIL_LLM_MODELS": [LLAMA],
            "DATA_DIR": str(tmp_path / "data"),
            "DISCOVER_LOCAL_MODELS": False,
        },
    )
    monkeypatch.setenv("LOCALSCHOLAR_CONFIG", str(private))
    get_config.cache_clear()
    config = get_config()
    runtime_of(config).open_to_users()  # as the page does: gpt-3.5-turbo, which the plugin counts with, is not offered
    yield config
    get_config.cache_clear()


def test_its_markdown_translation_counts_with_gpt_35s_name_and_translates_on_the_local_model(config, tmp_path):
    chatbot = make_chatbot(tmp_path)
    upload = user_dir(config, chatbot.get_user(), "uploads") / "notes"
    upload.mkdir()
    (upload / "notes.md").write_text(NOTES, encoding="utf-8")
    plugin = entry("翻译README或MD", config)
    drive(plugin.run, str(upload), dict(KWARGS), chatbot)
    said = "\n".join(str(answer) for _, answer in chatbot)
    assert not chatbot.failure and "KeyError" not in said and "gpt-3.5-turbo" not in said, said[-2000:]
    translated = [path for path in chatbot.outputs if path.suffix == ".md"]
    assert translated and all(path.read_text(encoding="utf-8").strip() for path in translated), chatbot.outputs


@pytest.mark.skipif(find_spec("bs4") is not None, reason="beautifulsoup4 is installed in this venv")
def test_its_source_comment_plugin_without_a_package_its_threads_need_ends_saying_which(config, tmp_path):
    chatbot = make_chatbot(tmp_path)
    upload = user_dir(config, chatbot.get_user(), "uploads") / "code"
    upload.mkdir()
    (upload / "stats.py").write_text(CODE, encoding="utf-8")
    drive(entry("注释Python项目", config).run, str(upload), dict(KWARGS), chatbot)
    assert "所有源文件均已处理完毕" in chatbot[-1][1]  # what the plugin says, though a thread of it failed
    assert (
        ending(chatbot)
        == "⚠ 插件已结束，但有 1 个后台任务出错：插件需要 Python 包 beautifulsoup4：在服务器上运行 pip install beautifulsoup4 后重启。"
    )


def test_its_source_comment_plugin_with_the_extras_reads_its_template_from_its_threads_and_ends(tmp_path, llama_server):
    code = tmp_path / "code"
    code.mkdir()
    (code / "stats.py").write_text(CODE, encoding="utf-8")
    settings = {
        "GPT_ACADEMIC_FOLDER": str(checkout()),
        "LOCAL_SERVER_URLS": {"llamacpp": f"{llama_server.base_url}/v1"},
        "LLM_MODEL": LLAMA,
        "AVAIL_LLM_MODELS": [LLAMA],
        "DATA_DIR": str(tmp_path / "data"),
        "DISCOVER_LOCAL_MODELS": False,
    }
    config = write_config(tmp_path, settings)
    report = run_in_extras_venv(
        gpt_academic_python(), config, "tests.support.gpt_academic.run_plugin", "注释Python项目", str(code)
    )
    assert report["ending"] == "", report["chat"][-3:]
    compared = Path(report["upload"]) / "stats.py.compare.html"
    assert "REPLACE_CODE_FILE_LEFT" not in compared.read_text(encoding="utf-8")  # filled from its template
    assert any(path.endswith(".zip") for path in report["outputs"])


def test_its_latex_translation_compiles_in_texs_sandbox_and_a_pdf_it_cannot_make_is_a_failure(config, tmp_path):
    from crazy_functions.latex.sandbox import run_gpt_academic_command
    from tests.plugins.test_tex_sandbox import paper

    plugin = entry("📚本地Latex论文精细翻译（上传Latex项目）[需Latex]", config)
    latex_toolbox = importlib.import_module("crazy_functions.latex_fns.latex_toolbox")  # the checkout's, joined
    assert latex_toolbox.compile_latex_with_timeout is run_gpt_academic_command
    chatbot = make_chatbot(tmp_path)
    upload = user_dir(config, chatbot.get_user(), "uploads") / "paper"
    paper(upload)
    marker = tmp_path / "ran"
    (upload / ".latexmkrc").write_text(f'system("touch {marker}");\n', encoding="utf-8")
    intro = upload / "sections" / "intro.tex"
    intro.write_text(intro.read_text(encoding="utf-8") + f"\\immediate\\write18{{touch {marker}}}\n", encoding="utf-8")
    drive(plugin.run, str(upload), dict(KWARGS), chatbot)
    assert not marker.exists()
    assert any(path.name.endswith("result.zip") for path in chatbot.outputs)  # the translated .tex
    # its Chinese template asks pdflatex for Windows' SimSun (fontset=windows), which Linux does not have
    logs = list(Path(config["DATA_DIR"]).rglob("merge_translate_zh.log"))
    assert logs and "simsun.ttc" in logs[0].read_text(encoding="utf-8", errors="replace")
    assert ending(chatbot).startswith("⚠ 插件报告失败：虽然PDF生成失败了")

"""The LaTeX polishing and proofreading plugins, one flow with three sets of words: each keeps its menu entry,
its prompts in both languages and its output names, and all three are in the menu. Nothing is asked of a
server: a project with no prose ends before any request."""

from __future__ import annotations

import pytest

from crazy_functions import latex_polish, latex_polish_zh, latex_proofread
from crazy_functions.latex.rewrite import rules
from crazy_functions.runtime.registry import MODULES, built_in_plugins
from crazy_functions.runtime.session import PluginChatbot
from tests.support.helpers import make_config
from tests.support.plugin_support import drive

CLOSE_ZH = "后的片段，不要解释，不要加引号。\n\n片段：\n{text}"
CLOSE_EN = " excerpt only, without notes or quotation marks.\n\nExcerpt:\n{text}"

EXPECTED = {  # module: key, names, about (start), suffix, verb_zh, doing_en, prompt phrases, systems
    latex_polish: dict(
        key="latex_polish_en",
        zh="LaTeX 英文润色",
        en="Polish LaTeX (English)",
        about_zh="润色上传的 .tex 文件或 zip 打包的 LaTeX 项目中的英文正文",
        about_en="Polishes the English prose of an uploaded .tex file",
        suffix="polished",
        verb_zh="润色",
        doing_en="polishing",
        ask_zh="请润色下面这段用 LaTeX 写的英文学术论文片段：改正语法，使表达清晰、简洁、符合学术文风；"
        "保持原意、术语和段落划分，不要增加新内容，输出仍为英文。\n",
        ask_en="Polish this excerpt of an English academic paper written in LaTeX: correct the grammar and make it "
        "clear, concise and academic in style. Keep the meaning, the terminology and the paragraph breaks; "
        "add nothing new.\n",
        close_zh="只输出润色" + CLOSE_ZH,
        close_en="Reply with the polished" + CLOSE_EN,
        system_zh="你是一位经验丰富的英文学术论文编辑。",
        system_en="You are an experienced editor of English academic papers.",
    ),
    latex_polish_zh: dict(
        key="latex_polish_zh",
        zh="LaTeX 中文润色",
        en="Polish LaTeX (Chinese)",
        about_zh="润色上传的 .tex 文件或 zip 打包的 LaTeX 项目中的中文正文",
        about_en="Polishes the Chinese prose of an uploaded .tex file",
        suffix="polished",
        verb_zh="润色",
        doing_en="polishing",
        ask_zh="请润色下面这段用 LaTeX 写的中文学术论文片段：使语句通顺、用词准确、符合中文学术写作规范，"
        "去掉口语化和冗余的表达；保持原意、术语和段落划分，不要增加新内容，输出仍为中文。\n",
        ask_en="Polish this excerpt of a Chinese academic paper written in LaTeX: make the sentences fluent, the "
        "wording precise and the style that of Chinese academic writing, removing colloquial and redundant "
        "phrases. Keep the meaning, the terminology and the paragraph breaks; add nothing new; the result stays "
        "in Chinese.\n",
        close_zh="只输出润色" + CLOSE_ZH,
        close_en="Reply with the polished" + CLOSE_EN,
        system_zh="你是一位经验丰富的中文学术论文编辑。",
        system_en="You are an experienced editor of Chinese academic papers.",
    ),
    latex_proofread: dict(
        key="latex_proofread",
        zh="LaTeX 纠错",
        en="Proofread LaTeX",
        about_zh="只改正上传的 .tex 文件或 zip 打包的 LaTeX 项目中的拼写、语法和标点错误",
        about_en="Corrects only the spelling, grammar and punctuation of an uploaded .tex file",
        suffix="proofread",
        verb_zh="纠错",
        doing_en="proofreading",
        ask_zh="请校对下面这段用 LaTeX 写的学术论文片段：只改正拼写、语法和标点错误，其余一字不改——"
        "不换词、不调整语序、不改文风；没有错误时原样输出。保持原文的语言。\n",
        ask_en="Proofread this excerpt of an academic paper written in LaTeX: correct only spelling, grammar and "
        "punctuation errors and change nothing else (no new words, no reordering, no change of style); if there "
        "is no error, return it unchanged. Keep the excerpt's language.\n",
        close_zh="只输出校对" + CLOSE_ZH,
        close_en="Reply with the corrected" + CLOSE_EN,
        system_zh="你是一位严谨的学术论文校对员，只做必要的最小改动。",
        system_en="You are a careful proofreader of academic papers who makes only the smallest necessary changes.",
    ),
}
TASKS = {
    latex_polish: latex_polish.polish_en,
    latex_polish_zh: latex_polish_zh.polish_zh,
    latex_proofread: latex_proofread.proofread,
}
CASES = pytest.mark.parametrize("module", list(EXPECTED), ids=lambda module: module.__name__.rsplit(".", 1)[-1])


@CASES
def test_each_plugin_keeps_its_menu_entry_and_is_in_the_menu(module):
    want, plugin = EXPECTED[module], module.PLUGIN
    assert (plugin.key, plugin.zh, plugin.en, plugin.group) == (want["key"], want["zh"], want["en"], "latex")
    assert plugin.about_zh.startswith(want["about_zh"]) and plugin.about_en.startswith(want["about_en"])
    assert plugin.files == (".tex", ".zip") and plugin.fields == ()
    assert plugin.menu_label("zh") == f"[LaTeX] {want['zh']}"
    assert module.__name__.rsplit(".", 1)[-1] in MODULES
    assert plugin in built_in_plugins()


def test_the_menu_keeps_their_order():
    keys = [plugin.key for plugin in built_in_plugins()]
    at = keys.index("latex_polish_en")
    assert keys[at : at + 3] == ["latex_polish_en", "latex_polish_zh", "latex_proofread"]


@CASES
@pytest.mark.parametrize("lang", ["zh", "en"])
def test_each_task_keeps_its_prompts_and_words(module, lang):
    want, task = EXPECTED[module], TASKS[module](lang)
    assert (task.name_zh, task.name_en) == (want["zh"], want["en"])
    assert (task.suffix, task.verb_zh, task.doing_en) == (want["suffix"], want["verb_zh"], want["doing_en"])
    assert task.system == want[f"system_{lang}"]
    assert task.template == want[f"ask_{lang}"] + rules(lang) + "\n" + want[f"close_{lang}"]
    assert task.prompt("PIECE").endswith("\nPIECE") and "{text}" not in task.prompt("PIECE")


@CASES
@pytest.mark.parametrize("lang", ["zh", "en"])
def test_a_project_without_prose_ends_with_the_tasks_words(module, lang, tmp_path):
    source = tmp_path / "empty.tex"
    source.write_text("\\documentclass{article}\n\\begin{document}\n\\maketitle\n\\end{document}\n", encoding="utf-8")
    config = make_config(tmp_path)
    chatbot = PluginChatbot(lang=lang, files=[source], out_dir=tmp_path / "out", config=config)
    drive(module.run, "", {"llm_model": "ollama-qwen3:8b(max_token=8192)"}, chatbot)
    want = EXPECTED[module]
    question, answer = chatbot[-1]
    assert question == want[lang]
    if lang == "zh":
        assert answer.endswith(f" 的 .tex 文件里没有可{want['verb_zh']}的正文（只有 LaTeX 标记）。")
    else:
        assert answer.startswith("The .tex files of ") and answer.endswith(" hold no prose to rewrite (markup only).")

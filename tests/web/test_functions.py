"""The basic academic functions: each wraps the text in its own prompt, chosen by the text's language."""

from __future__ import annotations

from tests.support.helpers import make_config
from webui.functions import BUILT_IN, all_functions, is_chinese

ZH = "本文提出了一种新的方法，在小数据集上效果很好。"
EN = "We propose a new method that works well on small datasets."


def _build(key: str, text: str, lang: str = "zh") -> str:
    return next(f for f in BUILT_IN if f.key == key).build(text, lang)


def test_language_is_told_by_the_share_of_chinese_characters():
    assert is_chinese(ZH) and not is_chinese(EN)
    assert is_chinese("我们使用 Transformer 模型和 BERT 编码器进行实验。")
    assert not is_chinese("We use the 注意力 mechanism of Transformer models in all experiments.")


def test_polish_and_grammar_follow_the_text_and_keep_it_whole():
    assert "中文学术论文编辑" in _build("polish", ZH) and ZH in _build("polish", ZH)
    assert "English academic papers" in _build("polish", EN) and EN in _build("polish", EN)
    assert "未发现错误" in _build("grammar", ZH) and "No errors found" in _build("grammar", EN)


def test_two_way_translation_goes_to_the_other_language():
    assert "into fluent, formal academic English" in _build("translate", ZH)
    assert "翻译成准确、通顺的学术中文" in _build("translate", EN)


def test_every_prompt_keeps_latex_and_the_code_is_fenced():
    latex = r"The loss $\mathcal{L}$ follows \cite{vaswani2017}."
    for key in ("polish", "zh2en", "en2zh"):
        assert latex in _build(key, latex)
    assert "```\nprint(1)\n```" in _build("code", "print(1)")


def test_custom_functions_from_the_configuration_follow_the_built_in_ones(tmp_path):
    config = make_config(
        tmp_path, 'CUSTOM_FUNCTIONS = {"改写为摘要": {"prefix": "把下面改写为摘要：\\n", "suffix": "\\n（200 字以内）"}}\n'
    )
    functions = all_functions(config)
    assert [f.key for f in functions[: len(BUILT_IN)]] == [f.key for f in BUILT_IN]
    mine = functions[-1]
    assert mine.label("zh") == "改写为摘要"
    assert mine.build("原文", "zh") == "把下面改写为摘要：\n原文\n（200 字以内）"

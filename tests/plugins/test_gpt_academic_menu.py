"""GPT Academic's whole menu from a checkout's crazy_functional.py, read as data: with only GPT_ACADEMIC_FOLDER
set, its entries join the menu with their names, groups, descriptions and argument boxes; one whose module
cannot load stays in the menu and says what to install."""

from __future__ import annotations

from importlib.util import find_spec

import pytest

from crazy_functions.runtime.checkout_menu import read_menu
from crazy_functions.runtime.registry import all_plugins
from tests.support.gpt_academic import NO_CHECKOUT, checkout
from tests.support.helpers import make_config
from tests.support.plugin_support import drive, make_chatbot
from webui.plugin_page import describe

needs_checkout = pytest.mark.skipif(checkout() is None, reason=NO_CHECKOUT)


def menu(tmp_path, **settings) -> dict[str, object]:
    text = f"GPT_ACADEMIC_FOLDER = {str(checkout())!r}\n" + "".join(f"{k} = {v!r}\n" for k, v in settings.items())
    config = make_config(tmp_path, text)
    return {plugin.zh: plugin for plugin in all_plugins(config) if plugin.key.startswith("ga-")}, config


@needs_checkout
def test_its_56_entries_are_read_and_its_audio_entry_only_where_its_setting_is_on():
    names = [entry.name for entry in read_menu(checkout(), {"ENABLE_AUDIO": False})]
    assert len(names) == 56 and "实时语音对话" not in names and names[:2] == ["多媒体智能体", "虚空终端"]
    assert "实时语音对话" in [entry.name for entry in read_menu(checkout(), {"ENABLE_AUDIO": True})]


@needs_checkout
def test_with_only_its_folder_set_its_menu_is_on_the_page_with_its_groups_and_argument_boxes(tmp_path):
    plugins, config = menu(tmp_path)
    assert len(plugins) == 56
    assert plugins["PDF论文翻译"].menu_label("zh") == "[GPT Academic·学术] PDF论文翻译"
    assert plugins["PDF论文翻译"].menu_label("en") == "[GPT Academic·Academic] PDF论文翻译"
    pick = plugins["解析项目源代码（手动指定和筛选源代码文件类型）"]
    assert [(f.key, f.hint[:9]) for f in pick.fields] == [("advanced_arg", "输入时用逗号隔开,")]
    assert [f.key for f in plugins["注释Python项目"].fields] == ["use_chinese"]  # its plugin class's menu
    about, box, *_ = describe(config, pick.key, "en")
    assert box.placeholder.startswith("输入时用逗号隔开") and box.label == "Advanced argument"
    loaded = [name for name, plugin in plugins.items() if "⚠" not in plugin.about_en]
    assert len(loaded) == (56 if find_spec("bs4") else 54)


@needs_checkout
@pytest.mark.skipif(find_spec("bs4") is not None, reason="beautifulsoup4 is installed in this venv")
def test_an_entry_whose_module_needs_a_missing_package_says_which_and_the_rest_stay(tmp_path):
    plugins, config = menu(tmp_path)
    broken = plugins["查互联网后回答"]
    assert "pip install beautifulsoup4" in broken.about_en and "pip install beautifulsoup4" in broken.about_zh
    chatbot = make_chatbot(tmp_path)
    drive(broken.run, "", {"llm_model": "x"}, chatbot)
    assert "beautifulsoup4" in chatbot.failure


@needs_checkout
def test_only_the_groups_of_default_fn_groups_are_shown(tmp_path):
    plugins, _ = menu(tmp_path, DEFAULT_FN_GROUPS=["学术"])
    assert plugins and all(plugin.group == "ga-学术" for plugin in plugins.values())
    assert "虚空终端" in plugins  # its groups are 对话|编程|学术|智能体


def test_a_crazy_functional_is_read_never_run(tmp_path):
    folder = tmp_path / "gpt_academic"
    folder.mkdir()
    marker = tmp_path / "ran"
    (folder / "crazy_functional.py").write_text(
        f"open({str(marker)!r}, 'w').close()\n"
        "def get_crazy_functions():\n"
        "    from crazy_functions.Mine import 工具\n"
        f"    open({str(marker)!r}, 'w').close()\n"
        "    function_plugins = {'我的工具': {'Group': '学术', 'Info': 'i', 'Function': HotReload(工具)}}\n"
        "    return function_plugins\n",
        encoding="utf-8",
    )
    (entry,) = read_menu(folder, {})
    assert (entry.name, entry.groups, entry.target, entry.hot_reload) == (
        "我的工具",
        ("学术",),
        "crazy_functions.Mine:工具",
        True,
    )
    assert not marker.exists()


def test_a_checkout_without_the_module_an_entry_names_says_so_when_it_is_picked(tmp_path):
    folder = tmp_path / "gpt_academic"
    (folder / "crazy_functions").mkdir(parents=True)
    (folder / "crazy_functional.py").write_text(
        "def get_crazy_functions():\n"
        "    from crazy_functions.Not_Here import 工具\n"
        "    function_plugins = {'工具': {'Group': '对话', 'Function': 工具}}\n"
        "    return function_plugins\n",
        encoding="utf-8",
    )
    config = make_config(tmp_path, f"GPT_ACADEMIC_FOLDER = {str(folder)!r}\n")
    (plugin,) = [p for p in all_plugins(config) if p.key.startswith("ga-")]
    chatbot = make_chatbot(tmp_path)
    drive(plugin.run, "", {"llm_model": "x"}, chatbot)
    assert "crazy_functions.Not_Here" in chatbot.failure

"""The plugin menu: each plugin's name, group, description, the files it takes and its optional fields.

A plugin is a generator with GPT Academic's signature,
`fn(txt, llm_kwargs, plugin_kwargs, chatbot, history, system_prompt, user_request)`, that yields UI
updates (see toolbox.update_ui). Each plugin module, at the top level of `crazy_functions`, ends with
`PLUGIN = Plugin(...)` (or `PLUGINS = (...)` for a group of them); MODULES lists those modules, in menu order. Modules are imported when the menu
is first built, and a plugin imports its heavy libraries (PyMuPDF, python-docx) only when it runs.
"""

from __future__ import annotations

import importlib
import inspect
import json
import sys
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from request_llms.text import Text
from toolbox import CatchException, HotReload

from ..latex.sandbox import guard_gpt_academic
from .checkout_files import read_from
from .checkout_menu import Entry, read_menu
from .errors import PluginInputError, missing_module

GROUPS = {
    "paper": ("论文", "Papers"),
    "latex": ("LaTeX", "LaTeX"),
    "code": ("代码", "Code"),
    "models": ("模型", "Models"),
    "knowledge": ("知识库", "Knowledge base"),
    "tools": ("工具", "Tools"),
    "custom": ("自定义", "Custom"),
}
CHECKOUT_GROUPS = {"对话": "Chat", "编程": "Code", "学术": "Academic", "智能体": "Agents"}  # GPT Academic's menu

MODULES = (
    "pdf_summary",
    "pdf_translate",
    "markdown_translate",
    "word_summary",
    "latex_polish",
    "latex_polish_zh",
    "latex_proofread",
    "latex_translate",
    "tex_abstract",
    "knowledge_base",
    "source_code",
    "multi_model",
    "hardware_advisor",
    "local_check",
    "export_chat",
)


@dataclass(frozen=True)
class Field:
    """An optional argument shown as a text field under the menu; its value reaches plugin_kwargs[key]."""

    key: str
    zh: str
    en: str
    default: str = ""
    hint: str = ""  # shown in the empty box (GPT Academic's ArgsReminder)

    def label(self, lang: str) -> str:
        return self.zh if lang == "zh" else self.en


@dataclass(frozen=True)
class Plugin:
    key: str
    zh: str
    en: str
    group: str
    about_zh: str
    about_en: str
    run: Callable
    files: tuple[str, ...] = ()  # file types it reads from the user's uploads, e.g. (".pdf",); empty: none
    fields: tuple[Field, ...] = ()

    def label(self, lang: str) -> str:
        return self.zh if lang == "zh" else self.en

    @property
    def gpt_academic(self) -> bool:
        """Whether it is GPT Academic's kind (CUSTOM_PLUGINS, or a checkout's menu): it reads files from `txt`."""
        return self.group == "custom" or self.group.startswith("ga-")

    def menu_label(self, lang: str) -> str:
        if self.group.startswith("ga-"):  # an entry of a GPT Academic checkout's own menu
            name = self.group[3:]
            group = f"GPT Academic·{name if lang == 'zh' else CHECKOUT_GROUPS.get(name, name)}"
        else:
            group = GROUPS[self.group][0 if lang == "zh" else 1]
        return f"[{group}] {self.label(lang)}"

    def about(self, lang: str) -> str:
        return self.about_zh if lang == "zh" else self.about_en


@cache
def built_in_plugins() -> tuple[Plugin, ...]:
    """The plugins of `crazy_functions`, in menu order."""
    found = []
    for name in MODULES:
        module = importlib.import_module(f"crazy_functions.{name}")
        found += getattr(module, "PLUGINS", None) or [module.PLUGIN]
    return tuple(found)


SHARED_PACKAGES = (  # packages both have: a checkout's modules that LocalScholar lacks are found in its copy
    "crazy_functions",
    "shared_utils",
    "crazy_functions.pdf_fns",
    "crazy_functions.doc_fns",
    "crazy_functions.doc_fns.conversation_doc",
    "crazy_functions.diagram_fns",
    "crazy_functions.multi_stage",
    "crazy_functions.plugin_template",
)


def join_gpt_academic(folder: str) -> None:
    """Let CUSTOM_PLUGINS name GPT Academic's plugin files where they are, in a GPT Academic checkout.

    Its `crazy_functions` and `shared_utils` folders join ours (ours are searched first, so its plugins get
    LocalScholar's helpers), and its other top-level modules become importable after LocalScholar's own.
    """
    if not folder:
        return
    root = Path(folder).expanduser().resolve()
    for name in SHARED_PACKAGES:
        package = importlib.import_module(name)
        extra = root.joinpath(*name.split("."))
        if extra.is_dir() and str(extra) not in package.__path__:
            package.__path__.append(str(extra))
    if str(root) not in sys.path:
        sys.path.append(str(root))
    read_from(root)  # its relative reads of its own files resolve into its folder
    guard_gpt_academic()  # its LaTeX plugins compile in TeX's sandbox


def custom_plugins(config) -> tuple[Plugin, ...]:
    """The user's own plugins from CUSTOM_PLUGINS (name -> "module.path:function"), each imported when listed.

    A plugin that cannot be imported is listed with a run function that says why, in one line: its module is
    missing (a CUSTOM_PLUGINS mistake), it needs a name LocalScholar does not provide, or a package to install.
    """
    join_gpt_academic(config["GPT_ACADEMIC_FOLDER"])
    found = []
    for i, (name, target) in enumerate(config["CUSTOM_PLUGINS"].items()):
        module, _, function = target.partition(":")
        fields: tuple[Field, ...] = ()
        try:
            run = getattr(importlib.import_module(module), function)
            if isinstance(run, type):  # GPT Academic's plugin class (plugin_template)
                run, fields = _from_class(run)
            about_zh, about_en = f"自定义插件：{target}", f"Your plugin: {target}"
        except Exception as exc:  # whatever the plugin's module raises while it loads: one line, never a crash
            why = why_not_loaded(target, exc)
            run = _cannot_load(why)
            about_zh, about_en = why.zh, why.en
        found.append(Plugin(f"custom-{i}", name, name, "custom", about_zh, about_en, run, fields=fields))
    return tuple(found)


def _from_class(cls: type) -> tuple[Callable, tuple[Field, ...]]:
    """A GPT Academic plugin class as a run function, and its menu's arguments (but the input box) as fields."""
    menu = {key: json.loads(value) for key, value in cls().define_arg_selection_menu().items()}
    fields = tuple(
        Field(key, arg.get("title") or key, arg.get("title") or key, str(arg.get("default_value", "")))
        for key, arg in menu.items()
        if key != "main_input"
    )
    first = next(iter(inspect.signature(cls.execute).parameters), "")

    def run(txt, llm_kwargs, plugin_kwargs, chatbot, history, *args):
        plugin_kwargs.setdefault("main_input", txt)  # GPT Academic fills every argument: the box, then the fields
        for field in fields:
            plugin_kwargs.setdefault(field.key, field.default)
        execute = cls().execute if first == "self" else cls.execute  # its examples define execute without self
        yield from execute(txt, llm_kwargs, plugin_kwargs, chatbot, history, *args)

    return run, fields


def why_not_loaded(target: str, exc: Exception) -> Text:
    """What kept a CUSTOM_PLUGINS entry from loading, and what to do."""
    module, _, function = target.partition(":")
    if isinstance(exc, ModuleNotFoundError) and exc.name and module.startswith(exc.name):
        return Text(
            zh=f"找不到插件模块 {module}：请检查 config_private.py 中的 CUSTOM_PLUGINS（{target}）。",
            en=f"The plugin module {module} was not found: check CUSTOM_PLUGINS in config_private.py ({target}).",
        )
    if isinstance(exc, ModuleNotFoundError) and exc.name:
        return missing_module(exc.name)
    if isinstance(exc, ImportError) and exc.name and "cannot import name" in str(exc):
        missing = str(exc).split("'")[1] if str(exc).count("'") >= 2 else str(exc)
        return Text(
            zh=f"插件 {target} 需要 {exc.name}.{missing}，LocalScholar 尚未提供。",
            en=f"The plugin {target} needs {exc.name}.{missing}, which LocalScholar does not provide.",
        )
    if isinstance(exc, AttributeError) and function:
        return Text(
            zh=f"模块 {module} 中没有函数 {function}：请检查 config_private.py 中的 CUSTOM_PLUGINS。",
            en=f"The module {module} has no function {function}: check CUSTOM_PLUGINS in config_private.py.",
        )
    first = (str(exc).splitlines() or [""])[0][:200]
    return Text(
        zh=f"插件 {target} 加载时出错（{type(exc).__name__}: {first}）。",
        en=f"The plugin {target} failed while loading ({type(exc).__name__}: {first}).",
    )


def _cannot_load(why: Text) -> Callable:
    @CatchException
    def run(*args, **kwargs):
        raise PluginInputError(en=why.en, zh=why.zh)
        yield  # a generator, like every plugin

    return run


def checkout_plugins(config) -> tuple[Plugin, ...]:
    """GPT Academic's own menu, where GPT_ACADEMIC_FOLDER names a checkout: the entries of its
    crazy_functional.py in the groups of DEFAULT_FN_GROUPS, with its names, descriptions and argument boxes."""
    folder = config["GPT_ACADEMIC_FOLDER"]
    if not folder:
        return ()
    join_gpt_academic(folder)
    entries = read_menu(Path(folder).expanduser().resolve(), config)
    shown = set(config["DEFAULT_FN_GROUPS"])
    return _checkout_plugins(tuple(entry for entry in entries if shown & set(entry.groups)), tuple(config["DEFAULT_FN_GROUPS"]))


@cache
def _checkout_plugins(entries: tuple[Entry, ...], shown: tuple[str, ...]) -> tuple[Plugin, ...]:
    found = []
    for i, entry in enumerate(entries):
        fields: tuple[Field, ...] = ()
        about = entry.info or entry.name
        try:
            module, _, name = entry.target.partition(":")
            run = getattr(importlib.import_module(module), name)
            if isinstance(run, type):
                run, fields = _from_class(run)
            elif entry.hot_reload:
                run = HotReload(run)
            if entry.advanced and not any(field.key == "advanced_arg" for field in fields):
                fields += (Field("advanced_arg", "高级参数", "Advanced argument", hint=entry.reminder),)
            about_zh = about_en = about
        except Exception as exc:  # a module that cannot load: its entry says why when picked, the rest stay
            why = why_not_loaded(entry.target, exc)
            run = _cannot_load(why)
            about_zh, about_en = f"{about}\n\n⚠ {why.zh}", f"{about}\n\n⚠ {why.en}"
        group = next(g for g in entry.groups if g in shown)
        found.append(Plugin(f"ga-{i}", entry.name, entry.name, f"ga-{group}", about_zh, about_en, run, fields=fields))
    return tuple(found)


def all_plugins(config) -> tuple[Plugin, ...]:
    """The menu: the built-in plugins, a GPT Academic checkout's own, then the user's own."""
    return built_in_plugins() + checkout_plugins(config) + custom_plugins(config)


def plugin_named(key: str, config) -> Plugin | None:
    return next((plugin for plugin in all_plugins(config) if plugin.key == key), None)

"""The plugin menu: each plugin's name, group, description, the files it takes and its optional fields.

A plugin is a generator with GPT Academic's signature,
`fn(txt, llm_kwargs, plugin_kwargs, chatbot, history, system_prompt, user_request)`, that yields UI
updates (see toolbox.update_ui). Each plugin file in this package ends with `PLUGIN = Plugin(...)`;
MODULES lists the files, in menu order. Modules are imported when the menu is first built, and a
plugin imports its heavy libraries (PyMuPDF, python-docx) only when it runs.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache

GROUPS = {
    "paper": ("论文", "Papers"),
    "latex": ("LaTeX", "LaTeX"),
    "code": ("代码", "Code"),
    "models": ("模型", "Models"),
    "tools": ("工具", "Tools"),
}

MODULES = (
    "pdf_summary",
    "word_summary",
    "multi_model",
    "export_chat",
)


@dataclass(frozen=True)
class Field:
    """An optional argument shown as a text field under the menu; its value reaches plugin_kwargs[key]."""

    key: str
    zh: str
    en: str
    default: str = ""

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

    def menu_label(self, lang: str) -> str:
        group = GROUPS[self.group][0 if lang == "zh" else 1]
        return f"[{group}] {self.label(lang)}"

    def about(self, lang: str) -> str:
        return self.about_zh if lang == "zh" else self.about_en


@cache
def all_plugins() -> tuple[Plugin, ...]:
    """Every plugin, in menu order."""
    return tuple(importlib.import_module(f"crazy_functions.{name}").PLUGIN for name in MODULES)


def plugin_named(key: str) -> Plugin | None:
    return next((plugin for plugin in all_plugins() if plugin.key == key), None)

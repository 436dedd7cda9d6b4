"""GPT Academic's own menu, read from a checkout's `crazy_functional.py` without running it.

Its `get_crazy_functions()` imports every plugin module at its top, so one missing package (`bs4`) would hide
the whole menu. Instead, the file is read as data: its `from crazy_functions.X import name` lines tell where
each name lives, and its `function_plugins = {...}` and `function_plugins.update({...})` dicts give each
entry's name, groups, description, argument box (AdvancedArgs, ArgsReminder), function and plugin class.
An entry under `if NAME:` where `NAME = get_conf("KEY")` is in the menu when that setting is on. Nothing in
the file is executed; each entry's module is imported when the menu is built, and one that cannot be says
why in one line when picked, leaving the rest.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass
from functools import cache
from pathlib import Path

ENTRY_KEYS = ("Group", "Info", "AdvancedArgs", "ArgsReminder", "Function", "Class", "AsButton")


@dataclass(frozen=True)
class Entry:
    name: str
    groups: tuple[str, ...]
    info: str
    advanced: bool  # its page shows a free-text argument box (plugin_kwargs["advanced_arg"])
    reminder: str  # the hint in that box
    target: str  # "module:name" of its plugin class if it has one, else of its function
    hot_reload: bool


def read_menu(folder: Path, settings) -> list[Entry]:
    """The entries of `folder/crazy_functional.py`, in its order; `settings` answers the keys its ifs read."""
    path = folder / "crazy_functional.py"
    stamp = path.stat().st_mtime_ns if path.is_file() else 0
    return [entry for entry, needs in _entries(str(path), stamp) if all(settings.get(key) for key in needs)]


@cache
def _entries(path: str, stamp: int) -> tuple[tuple[Entry, tuple[str, ...]], ...]:
    if not stamp:
        return ()
    tree = ast.parse(Path(path).read_text(encoding="utf-8"))
    places: dict[str, str] = {}
    settings: dict[str, str] = {}  # a name bound by get_conf("KEY"): KEY
    found: list[tuple[Entry, tuple[str, ...]]] = []

    def visit(nodes: list[ast.stmt], needs: tuple[str, ...]) -> None:
        for node in nodes:
            if isinstance(node, ast.ImportFrom) and node.module and not node.level:
                places.update({(a.asname or a.name): f"{node.module}:{a.name}" for a in node.names})
            elif isinstance(node, ast.Assign):
                _bind_setting(node, settings)
                if any(isinstance(t, ast.Name) and t.id == "function_plugins" for t in node.targets):
                    found.extend((entry, needs) for entry in _dict_entries(node.value, places))
            elif isinstance(node, ast.Expr) and _is_update(node.value):
                found.extend((entry, needs) for entry in _dict_entries(node.value.args[0], places))
            elif isinstance(node, ast.If):
                key = settings.get(node.test.id) if isinstance(node.test, ast.Name) else None
                visit(node.body, needs + (key,) if key else needs)
            elif isinstance(node, ast.Try) or isinstance(node, ast.FunctionDef) and node.name == "get_crazy_functions":
                visit(node.body, needs)

    visit(tree.body, ())
    return tuple(found)


def _bind_setting(node: ast.Assign, settings: dict[str, str]) -> None:
    call = node.value
    if (
        isinstance(call, ast.Call)
        and isinstance(call.func, ast.Name)
        and call.func.id == "get_conf"
        and len(call.args) == 1
        and isinstance(call.args[0], ast.Constant)
        and len(node.targets) == 1
        and isinstance(node.targets[0], ast.Name)
    ):
        settings[node.targets[0].id] = call.args[0].value


def _is_update(call: ast.expr) -> bool:
    return (
        isinstance(call, ast.Call)
        and isinstance(call.func, ast.Attribute)
        and call.func.attr == "update"
        and isinstance(call.func.value, ast.Name)
        and call.func.value.id == "function_plugins"
        and len(call.args) == 1
    )


def _dict_entries(node: ast.expr, places: dict[str, str]) -> list[Entry]:
    if not isinstance(node, ast.Dict):
        return []
    entries = []
    for key, value in zip(node.keys, node.values, strict=True):
        if not (isinstance(key, ast.Constant) and isinstance(key.value, str) and isinstance(value, ast.Dict)):
            continue
        fields = {k.value: v for k, v in zip(value.keys, value.values, strict=True) if isinstance(k, ast.Constant)}
        function, hot = _named(fields.get("Function"))
        plugin_class, _ = _named(fields.get("Class"))
        name = plugin_class or function
        if name is None or name not in places:
            continue
        entries.append(
            Entry(
                name=key.value,
                groups=tuple(g.strip() for g in str(_constant(fields.get("Group"), "")).split("|") if g.strip()),
                info=str(_constant(fields.get("Info"), "")),
                advanced=bool(_constant(fields.get("AdvancedArgs"), False)),
                reminder=str(_constant(fields.get("ArgsReminder"), "")),
                target=places[name],
                hot_reload=hot,
            )
        )
    return entries


def _named(node: ast.expr | None) -> tuple[str | None, bool]:
    """The name a Function or Class field refers to, and whether it was wrapped in HotReload(...)."""
    if isinstance(node, ast.Name):
        return node.id, False
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "HotReload" and node.args:
        inner = node.args[0]
        return (inner.id if isinstance(inner, ast.Name) else None), True
    return None, False


def _constant(node: ast.expr | None, default):
    return node.value if isinstance(node, ast.Constant) else default

"""The model layer has no import circle, counting imports inside functions: each module imports only those below it.

Read from the source (not by importing), so an import hidden in a function counts as much as one at the top.
"""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("request_llms", "knowledge")  # the knowledge bases sit on the model layer, and its command line on them


def _modules() -> dict[str, Path]:
    found = {}
    for path in (p for package in PACKAGES for p in (ROOT / package).rglob("*.py")):
        parts = list(path.relative_to(ROOT).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        found[".".join(parts)] = path
    return found


def _imports(name: str, text: str, known: set[str], package: bool = False) -> set[str]:
    """The package's modules that module `name` (a package's __init__ when `package`) imports anywhere in `text`."""
    here = name.split(".") if package else name.split(".")[:-1]
    targets = set()
    for node in ast.walk(ast.parse(text)):
        if isinstance(node, ast.ImportFrom):
            base = ".".join(here[: len(here) - node.level + 1] + ([node.module] if node.module else []))
            base = base if node.level else node.module or ""
            names = [f"{base}.{alias.name}" for alias in node.names]
            # `from package import module` imports the module; the package counts only for names defined in it
            candidates = [name for name in names if name in known] or [base]
        elif isinstance(node, ast.Import):
            candidates = [alias.name for alias in node.names]
        else:
            continue
        targets |= {candidate for candidate in candidates if candidate in known and candidate != name}
    return targets


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected parts of more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    parts: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for target in graph[node]:
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            part = []
            while True:
                top = stack.pop()
                on_stack.discard(top)
                part.append(top)
                if top == node:
                    break
            if len(part) > 1:
                parts.append(sorted(part))

    for node in graph:
        if node not in index:
            visit(node)
    return parts


def test_the_model_layer_and_the_knowledge_bases_have_no_import_circle():
    modules = _modules()
    graph = {
        name: _imports(name, path.read_text(encoding="utf-8"), set(modules), path.name == "__init__.py")
        for name, path in modules.items()
    }
    assert graph["request_llms.chat"] >= {"request_llms.runtime"}, "the reader of imports found nothing"
    assert graph["knowledge.retrieval"] >= {"request_llms.embeddings", "knowledge.store"}
    assert _cycles(graph) == []


def test_the_reader_finds_a_circle_hidden_in_a_function():
    text = "from .b import thing\n\n\ndef later():\n    from .. import c\n    import pkg.sub.d\n"
    known = {"pkg.sub.a", "pkg.sub.b", "pkg.c", "pkg.sub.d"}
    assert _imports("pkg.sub.a", text, known) == {"pkg.sub.b", "pkg.c", "pkg.sub.d"}
    assert _cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]

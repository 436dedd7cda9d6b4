"""A project's files as a tree, and that tree as a Mermaid flowchart with a short comment on each file.

`FileNode("root", build_manifest=True)` collects files with `add_file(path, comment)`; `manifest[path]`
is the node of each file, where a plugin may keep what it made for it. `build_file_tree_mermaid_diagram`
draws the tree (folders as 📁, files as 🗎, comments on dashed edges).
"""

from __future__ import annotations

import os
import re
from textwrap import indent


class FileNode:
    comment_maxlen_show = 50

    def __init__(self, name: str, build_manifest: bool = False) -> None:
        self.name = name
        self.children: list[FileNode] = []
        self.is_leaf = False
        self.level = 0
        self.comment = ""
        self.build_manifest = build_manifest
        self.manifest: dict[str, FileNode] = {}
        self.parenting_ship: list[str] = []  # the diagram's lines, filled by print_files_recursively

    @staticmethod
    def add_linebreaks_at_spaces(string: str, interval: int = 10) -> str:
        return "\n".join(string[i : i + interval] for i in range(0, len(string), interval))

    def sanitize_comment(self, comment: str) -> str:
        """A comment short and plain enough for a Mermaid label."""
        cut = "..." if len(comment) > self.comment_maxlen_show else ""
        plain = re.sub(r"[\"`$\n]", "", comment[: self.comment_maxlen_show])
        return "`" + self.add_linebreaks_at_spaces(plain, 10) + cut + "`"

    def add_file(self, file_path: str, file_comment: str) -> None:
        """Add a file under its folders (made as needed), with its comment."""
        folders, name = os.path.split(file_path)
        node = self
        for depth, folder in enumerate([part for part in folders.split(os.sep) if part], start=1):
            child = next((c for c in node.children if c.name == folder and not c.is_leaf), None)
            if child is None:
                child = FileNode(folder)
                child.level = depth
                node.children.append(child)
            node = child
        leaf = FileNode(name)
        leaf.is_leaf, leaf.comment = True, self.sanitize_comment(file_comment)
        leaf.level = len([part for part in folders.split(os.sep) if part]) + 1
        node.children.append(leaf)
        self.manifest[file_path] = leaf

    def _label(self, code: str) -> str:
        return f'{code}["🗎{self.name}"]' if self.is_leaf else f'{code}[["📁{self.name}"]]'

    def print_files_recursively(self, level: int = 0, code: str = "R0") -> None:
        """Collect the diagram's edges (node to child, file to its comment) into `parenting_ship`."""
        for j, child in enumerate(self.children):
            child.print_files_recursively(level + 1, code + str(j))
            for line in child.parenting_ship:
                if line not in self.parenting_ship:
                    self.parenting_ship.append(line)
            edge = f"{self._label(code)} --> {child._label(code + str(j))}"
            if edge not in self.parenting_ship:
                self.parenting_ship.append(edge)
        if self.comment:
            self.parenting_ship.append(f'{self._label(code)} -.-x C{code}["{self.comment}"]:::Comment')


MERMAID_TEMPLATE = """
```mermaid
flowchart LR
    classDef Comment stroke-dasharray: 5 5
    subgraph {graph_name}
{relationship}
    end
```
"""


def build_file_tree_mermaid_diagram(file_manifest, file_comments, graph_name: str) -> str:
    """A Mermaid flowchart (in a Markdown code block) of the files and their comments."""
    root = FileNode("root")
    for path, comment in zip(file_manifest, file_comments, strict=False):
        root.add_file(path, comment)
    root.print_files_recursively()
    return MERMAID_TEMPLATE.format(graph_name=graph_name, relationship=indent("\n".join(root.parenting_ship), " " * 8))

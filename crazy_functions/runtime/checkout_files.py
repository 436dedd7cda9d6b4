"""A GPT Academic checkout's plugins open their own files by paths relative to its folder
(`open("crazy_functions/pdf_fns/report_template.html")`), since GPT Academic runs from there. LocalScholar runs
from its own folder, and does not change it for them: instead, a relative path that code of the checkout opens
for reading, that is not there from here, and that names a file in one of the checkout's code folders, is
opened in the checkout. Writes, absolute paths and code of anyone else are untouched.
"""

from __future__ import annotations

import builtins
import os
import sys
from pathlib import Path

CODE_FOLDERS = ("crazy_functions", "shared_utils", "request_llms", "docs", "themes")
_roots: list[Path] = []
_open = builtins.open


def read_from(root: Path) -> None:
    """Resolve the relative reads of code under `root` into `root` (once per root)."""
    root = root.resolve()
    if root not in _roots:
        _roots.append(root)
    builtins.open = _checkout_open


def in_checkout(file, mode: str = "r") -> Path | None:
    """The file in the checkout that a relative read by the calling checkout code means, or None."""
    if not isinstance(file, str | os.PathLike) or any(flag in mode for flag in "wax+"):
        return None
    relative = Path(os.fspath(file))
    if relative.is_absolute() or not relative.parts or relative.parts[0] not in CODE_FOLDERS or ".." in relative.parts:
        return None
    caller = sys._getframe(2).f_code.co_filename
    for root in _roots:
        if caller.startswith(str(root) + os.sep) and not relative.exists() and (root / relative).is_file():
            return root / relative
    return None


def _checkout_open(file, mode="r", *args, **kwargs):
    found = in_checkout(file, mode) if _roots else None
    return _open(found if found is not None else file, mode, *args, **kwargs)

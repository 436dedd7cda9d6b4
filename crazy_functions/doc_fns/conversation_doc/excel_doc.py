"""The Markdown tables of a conversation's answers, each as an .xlsx sheet (with openpyxl, where installed)."""

from __future__ import annotations

import re
from pathlib import Path

_ROW = re.compile(r"^\s*\|(.+)\|\s*$")
_RULE = re.compile(r"^\s*\|?\s*:?-{3,}")


def tables_in(text: str) -> list[list[list[str]]]:
    """The Markdown tables of `text`, as rows of cells (the rule under the header left out)."""
    tables, current = [], []
    for line in text.splitlines():
        if _ROW.match(line):
            if not _RULE.match(line):
                current.append([cell.strip() for cell in _ROW.match(line).group(1).split("|")])
        elif current:
            tables.append(current)
            current = []
    if current:
        tables.append(current)
    return [table for table in tables if len(table) > 1]


def save_chat_tables(history, save_dir, base_name) -> list[str]:
    """One workbook of the tables in the answers; [] when there are none or openpyxl is not installed."""
    tables = [table for item in list(history)[1::2] for table in tables_in(str(item))]
    if not tables:
        return []
    try:
        from openpyxl import Workbook
    except ImportError:
        return []
    book = Workbook()
    book.remove(book.active)
    for i, table in enumerate(tables, start=1):
        sheet = book.create_sheet(f"Table {i}")
        for row in table:
            sheet.append(row)
    target = Path(save_dir) / f"{base_name}_tables.xlsx"
    book.save(target)
    return [str(target)]

"""What the assistant's bubble shows before the first word: the model loading, with a progress bar, or the queue
ahead. The chat keeps a <progress> element (the bubble's HTML is sanitised, and that one passes)."""

from __future__ import annotations

from request_llms.request import Status, StatusKind

from .i18n import t


def bar(percent: float) -> str:
    percent = round(max(0.0, min(100.0, percent)))
    return f'<progress value="{percent}" max="100">{percent}%</progress>'


def waiting_line(status: Status | None, lang: str) -> str:
    """The bubble's text while no answer has come: the latest progress in `lang`, or a plain wait."""
    if status is None:
        return f"⏳ {t('waiting', lang)}"
    line = f"⏳ {status.text(lang)}"
    if status.kind is StatusKind.LOADING and status.percent is not None:
        line += f"\n\n{bar(status.percent)}"
    return line

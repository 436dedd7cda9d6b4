"""Words for the user in both languages, and the one rule for which of the two a message is shown in."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass


@dataclass(frozen=True)
class Text:
    """One message in Chinese and English; `text(lang)` gives the one to show."""

    zh: str
    en: str

    def text(self, lang: str) -> str:
        return self.zh if lang == "zh" else self.en


def language(setting: str = "auto", environ: Mapping[str, str] | None = None) -> str:
    """`zh` or `en`: the setting (LANGUAGE) if it names one, else the locale (LC_ALL, LC_MESSAGES, LANG), else English."""
    if setting in ("zh", "en"):
        return setting
    environ = os.environ if environ is None else environ
    locale = environ.get("LC_ALL") or environ.get("LC_MESSAGES") or environ.get("LANG") or ""
    return "zh" if locale.lower().startswith("zh") else "en"

"""Which models a run asks: the ones typed in a plugin's Models field, else the one picked on the page."""

from __future__ import annotations

import re


def selected_models(plugin_kwargs: dict, llm_kwargs: dict) -> str:
    """The models typed in the Models field (separated by &, commas or spaces), else the model picked on the page."""
    typed = (plugin_kwargs.get("models") or "").strip()
    joined = "&".join(part for part in re.split(r"[,，;；\s]+|&", typed) if part)
    return joined or llm_kwargs["llm_model"]

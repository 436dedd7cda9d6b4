"""GPT Academic-style plugins written for the tests, and where a full GPT Academic checkout is."""

from __future__ import annotations

import os
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]


def checkout() -> Path | None:
    """A full GPT Academic checkout: LOCALSCHOLAR_GPT_ACADEMIC, else ../shared/gpt_academic beside the project;
    None where there is none (a fresh clone on its own)."""
    named = os.environ.get("LOCALSCHOLAR_GPT_ACADEMIC")
    folder = Path(named) if named else ROOT.parent / "shared" / "gpt_academic"
    return folder if (folder / "crazy_functional.py").is_file() else None


NO_CHECKOUT = "no GPT Academic checkout at ../shared/gpt_academic (or LOCALSCHOLAR_GPT_ACADEMIC)"

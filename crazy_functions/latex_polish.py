"""Polishing the English of a LaTeX project: grammar, clarity and academic style, the markup kept as it was.

The project is rewritten piece by piece (latex.rewrite); the outputs are the polished project and a
word-by-word diff page. Its prompts and words are latex.rewritings.POLISH_EN.
"""

from __future__ import annotations

from .latex.rewritings import POLISH_EN

polish_en = POLISH_EN.task
PLUGIN = POLISH_EN.plugin()
run = PLUGIN.run

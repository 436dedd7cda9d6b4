"""Polishing the Chinese prose of a LaTeX project; the markup stays as it was (see latex.rewrite).

Its prompts and words are latex.rewritings.POLISH_ZH.
"""

from __future__ import annotations

from .latex.rewritings import POLISH_ZH

polish_zh = POLISH_ZH.task
PLUGIN = POLISH_ZH.plugin()
run = PLUGIN.run

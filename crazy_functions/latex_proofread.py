"""Proofreading a LaTeX project: spelling, grammar and punctuation only, with as few changes as possible.

Its prompts and words are latex.rewritings.PROOFREAD.
"""

from __future__ import annotations

from .latex.rewritings import PROOFREAD

proofread = PROOFREAD.task
PLUGIN = PROOFREAD.plugin()
run = PLUGIN.run

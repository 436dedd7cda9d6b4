"""How the compare tab shows its lanes (request_llms.lanes runs them): each answer with its figures."""

from __future__ import annotations

from collections.abc import Sequence

from request_llms.lanes import Lane

from .figures import figures


def lane_figures(lane: Lane, lang: str) -> str:
    """The figures once the lane is done, its status line before."""
    return figures(lane.stream, lang) if lane.done else lane.status_in(lang)


def lanes_markdown(lanes: Sequence[Lane], lang: str) -> str:
    """All lanes in one chat message: a heading, the answer and its figures for each model."""
    parts = []
    for lane in lanes:
        parts.append(f"**{lane.model}**\n\n{lane.markdown(lang)}\n\n<sub>{lane_figures(lane, lang)}</sub>")
    return "\n\n---\n\n".join(parts)

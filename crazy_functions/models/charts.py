"""Small self-contained SVG bar charts for plugin reports (no plotting library needed)."""

from __future__ import annotations

from html import escape

BAR_HEIGHT = 22
LABEL_WIDTH = 230
BAR_WIDTH = 300
COLOURS = ("#4e79a7", "#f28e2b", "#59a14f", "#e15759", "#76b7b2", "#edc948")


def bar_chart(title: str, unit: str, items: list[tuple[str, float | None]], digits: int = 1) -> str:
    """Horizontal bars, one per (label, value); a missing value is drawn as "—"."""
    top = max((value for _, value in items if value is not None), default=0) or 1
    height = 34 + len(items) * (BAR_HEIGHT + 8)
    width = LABEL_WIDTH + BAR_WIDTH + 90
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" viewBox="0 0 {width} {height}" '
        'font-family="system-ui, sans-serif" font-size="13">',
        f'<text x="4" y="18" font-weight="bold">{escape(title)}</text>',
    ]
    for i, (label, value) in enumerate(items):
        y = 30 + i * (BAR_HEIGHT + 8)
        shown = label if len(label) <= 32 else label[:31] + "…"
        parts.append(f'<text x="4" y="{y + 15}">{escape(shown)}</text>')
        if value is None:
            parts.append(f'<text x="{LABEL_WIDTH}" y="{y + 15}" fill="#888">—</text>')
            continue
        length = max(1.0, BAR_WIDTH * value / top)
        colour = COLOURS[i % len(COLOURS)]
        parts.append(f'<rect x="{LABEL_WIDTH}" y="{y}" width="{length:.1f}" height="{BAR_HEIGHT}" fill="{colour}" rx="3"/>')
        parts.append(f'<text x="{LABEL_WIDTH + length + 6:.1f}" y="{y + 15}">{value:.{digits}f} {escape(unit)}</text>')
    parts.append("</svg>")
    return "".join(parts)

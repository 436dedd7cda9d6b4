"""How often a streaming answer is redrawn: at most once every REDRAW_SECONDS, updates arriving faster shown together.

Used by the page's chat and plugin runs (Throttle) and by the compare lanes (a wait of REDRAW_SECONDS
between draws). It imports nothing from the rest of the model layer, so the web page can use it too.
"""

from __future__ import annotations

import time
from collections.abc import Callable

REDRAW_SECONDS = 0.05


class Throttle:
    """Says whether a redraw is due: the first at once, then at most one every `seconds`."""

    def __init__(self, seconds: float = REDRAW_SECONDS, clock: Callable[[], float] = time.monotonic) -> None:
        self.seconds = seconds
        self._clock = clock
        self._last: float | None = None

    def due(self) -> bool:
        """Whether enough time has passed since the last redraw; if so, the redraw about to happen is counted."""
        now = self._clock()
        if self._last is not None and now - self._last < self.seconds:
            return False
        self._last = now
        return True

    def mark(self) -> None:
        """Count a redraw that happens now whatever `due` would say (an update that is always shown)."""
        self._last = self._clock()

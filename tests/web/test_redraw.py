"""The page redraws a streaming answer at most once every REDRAW_SECONDS; a status is shown at once."""

from __future__ import annotations

from request_llms.redraw import REDRAW_SECONDS, Throttle


def test_a_redraw_is_due_at_once_then_once_per_interval():
    now = [100.0]
    throttle = Throttle(clock=lambda: now[0])
    assert throttle.seconds == REDRAW_SECONDS == 0.05
    assert throttle.due()
    now[0] += 0.03
    assert not throttle.due()
    now[0] += 0.03
    assert throttle.due()
    assert not throttle.due()


def test_a_marked_redraw_counts_as_the_last_one():
    now = [0.0]
    throttle = Throttle(clock=lambda: now[0])
    throttle.mark()
    assert not throttle.due()
    now[0] += REDRAW_SECONDS
    assert throttle.due()

"""One gate per server, whose size follows the server's slots: a smaller size holds new requests back."""

from __future__ import annotations

from request_llms.gates import Gate
from request_llms.request import CancelToken


def _enter(gate: Gate) -> bool:
    """True if a request gets in at once (the gate yields a queued status otherwise)."""
    turn = gate.wait_turn(CancelToken(), "server")
    try:
        next(turn)
    except StopIteration as done:
        return done.value
    turn.close()
    return False


def test_a_gate_made_smaller_lets_no_new_request_in_until_enough_have_left():
    gate = Gate(2)
    assert _enter(gate) and _enter(gate)
    gate.resize(1)
    gate.leave()
    assert not _enter(gate)  # one still in, and the server now takes one
    gate.leave()
    assert _enter(gate)
    gate.resize(3)
    assert _enter(gate) and _enter(gate) and not _enter(gate)


def _waits_then_goes(gate: Gate, got: list) -> None:
    turn = gate.wait_turn(CancelToken(), "server")
    try:
        while True:
            next(turn)
    except StopIteration as done:
        got.append(done.value)


def test_a_waiter_whose_caller_stopped_reading_does_not_hold_up_the_queue_and_waits_again_if_it_comes_back():
    import threading
    import time

    gate = Gate(1, stale_seconds=0.5)
    assert _enter(gate)  # one request in
    quiet = gate.wait_turn(CancelToken(), "server")
    next(quiet)  # waiting, first in line; then its caller stops reading (never resumes, never closes)
    got: list = []
    behind = threading.Thread(target=_waits_then_goes, args=(gate, got))
    behind.start()
    time.sleep(0.2)
    gate.leave()  # the place is free: the quiet waiter would have had it
    behind.join(10)
    assert got == [True] and gate.active == 1 and gate.waiting == 0
    gate.leave()
    try:  # the quiet caller comes back: it waits again, at the back, and gets its turn
        while True:
            next(quiet)
    except StopIteration as done:
        assert done.value is True
    assert gate.active == 1

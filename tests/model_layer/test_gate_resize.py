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

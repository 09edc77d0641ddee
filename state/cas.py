"""The compare-and-swap rule every backend's `write` applies, with the same words.

A write names the serial (and lineage) it was computed from; it is refused, and nothing is
stored, when the stored state moved on or is another state altogether.
"""

from __future__ import annotations

from crmform.engine.errors import StateError
from crmform.engine.model import State

__all__ = ["check_expected", "moved_error"]


def check_expected(location: str, stored: State | None, state: State) -> None:
    """Raise StateError unless `state` was computed from `stored` (None: nothing stored)."""
    stored_serial = stored.serial if stored is not None else 0
    if stored_serial != state.serial:
        raise moved_error(location, stored_serial, state.serial)
    if stored is not None and stored.lineage != state.lineage:
        raise StateError(
            f"The state {location} has lineage {stored.lineage}, but the state being "
            f"written has lineage {state.lineage or '(none)'}: they are different states, "
            "so it was probably replaced. Nothing was written; check which state "
            "is the right one, then run the command again."
        )


def moved_error(location: str, stored_serial: int, expected: int) -> StateError:
    return StateError(
        f"The state {location} changed since it was read (serial {stored_serial}, "
        f"expected {expected}); another process wrote it. Nothing was written; "
        "run the command again."
    )

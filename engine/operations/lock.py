"""The state lock of an operation, saying so when it has to wait."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager

from crmform.engine.errors import StateLockedError
from crmform.engine.ports import LockInfo, StateBackend

__all__ = ["Waiting", "locked"]

# Told that the state lock is held, by whom, and how long the command will wait for it.
Waiting = Callable[[str, float], None]


@contextmanager
def locked(
    backend: StateBackend, operation: str, timeout: float, waiting: Waiting | None
) -> Iterator[LockInfo]:
    """The state lock for the `with` block; when it is held and `timeout` allows waiting,
    `waiting` hears so first (so a command never sits silent on a lock)."""
    with ExitStack() as stack:
        try:
            first = 0.0 if timeout > 0 and waiting is not None else timeout
            info = stack.enter_context(backend.lock(operation, first))
        except StateLockedError as held:
            if first == timeout or waiting is None:
                raise
            waiting(str(held), timeout)
            info = stack.enter_context(backend.lock(operation, timeout))
        yield info

"""The StateBackend protocol: where crmform keeps what it last applied.

Every backend must pass the conformance suite in state/conformance.py: read, write
(atomic, compare-and-swap on serial), lock (exclusive, with holder info) and force-unlock.
"""

from __future__ import annotations

from contextlib import AbstractContextManager
from dataclasses import dataclass
from typing import Protocol

from crmform.engine.model import State


@dataclass(frozen=True, slots=True)
class LockInfo:
    """Who holds a state lock, shown to anyone who finds it taken."""

    id: str
    operation: str  # the command line that took it, e.g. "crmform apply"
    who: str  # user name
    host: str
    pid: int
    created: str  # ISO-8601 UTC

    def describe(self) -> str:
        return (
            f"lock {self.id} held by {self.who}@{self.host} (pid {self.pid}) "
            f"since {self.created}, running `{self.operation}`"
        )


class StateBackend(Protocol):
    """Read, write and lock one state."""

    @property
    def location(self) -> str:
        """Where the state lives, for messages (e.g. the file path)."""
        ...

    def read(self) -> State:
        """The stored state; an empty State() when none was ever written.

        Raises StateError when the stored state is corrupt or of a newer version.
        """
        ...

    def write(self, state: State) -> State:
        """Store `state` atomically as the next serial and return what was stored.

        `state.serial` must be the serial currently stored (compare-and-swap); the stored
        copy gets serial + 1, and a fresh lineage when `state.lineage` is empty. Raises
        StateError if the stored serial moved, leaving the stored state untouched.
        """
        ...

    def lock(self, operation: str, timeout: float = 0.0) -> AbstractContextManager[LockInfo]:
        """Hold the exclusive lock for the `with` block; wait up to `timeout` seconds.

        Raises StateLockedError naming the holder when it cannot be taken in time.
        """
        ...

    def force_unlock(self, lock_id: str, *, force: bool = False) -> LockInfo:
        """Remove a lock left behind by a crashed process; the id must match the holder's.

        Refused while the holder is known to be running (on this host), unless `force`:
        its late writes could undo those of whoever takes the lock next.
        """
        ...

"""`crmform state pull` and `crmform state push FILE`: moving a state between a local file
and the configured backend (how a team leaves the committed state file; docs/backends.md).
"""

from __future__ import annotations

from dataclasses import dataclass

from crmform.engine.errors import StateError
from crmform.engine.model import State, replace
from crmform.engine.ports import StateBackend

__all__ = ["Pushed", "push"]


@dataclass(frozen=True, slots=True)
class Pushed:
    before: State  # what the backend held
    after: State  # what it holds now


def push(backend: StateBackend, pushed: State, source: str, *, force: bool) -> Pushed:
    """Store `pushed` (read from `source`) as the backend's next state, under its lock.

    Refused, unless `force`, when the backend holds another lineage (another state) or a
    higher serial (newer applies than the file records). With `force` and another lineage,
    the backend's lineage is kept so its own compare-and-swap still holds.
    """
    if not pushed.lineage:
        raise StateError(f"{source} holds no state (nothing was ever applied with it).")
    with backend.lock("crmform state push"):
        stored = backend.read()
        if stored.lineage and stored.lineage != pushed.lineage and not force:
            raise StateError(
                f"Refusing to push {source}: the state {backend.location} has lineage "
                f"{stored.lineage}, {source} has {pushed.lineage}; they are different states. "
                "Nothing was written; check that this is the right backend, or push with "
                "--force to replace it."
            )
        if stored.serial > pushed.serial and not force:
            raise StateError(
                f"Refusing to push {source} (serial {pushed.serial}): the state "
                f"{backend.location} is newer (serial {stored.serial}). Nothing was written; "
                "pull it instead, or push with --force to replace it."
            )
        lineage = stored.lineage or pushed.lineage
        after = backend.write(replace(pushed, lineage=lineage, serial=stored.serial))
    return Pushed(stored, after)

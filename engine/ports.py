"""The ports: what the engine needs from a remote CRM (Provider) and from a state store
(StateBackend), and the typed values that cross them.

Adapters implement these: providers/gong/ the Provider, state/ the StateBackend. The
engine imports only this module of them, so the engine never depends on an adapter and
an adapter never depends on more of the engine than model, errors and ports.
"""

from __future__ import annotations

from collections.abc import Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from typing import Protocol

from crmform.engine.errors import ProviderError
from crmform.engine.model import Field, ObjectType, State

__all__ = [
    "Extra",
    "FieldWrite",
    "LockInfo",
    "Provider",
    "ProviderError",
    "RemoteSchema",
    "RequestPreview",
    "StateBackend",
    "WritePreviewer",
    "WriteResult",
]


@dataclass(frozen=True, slots=True)
class FieldWrite:
    """One item of an upload: what the remote is to know of one field.

    `field.last_modified` is the modification time to send (None: none is sent) and
    `field.protect` is never sent. With `deleted`, the item is a tombstone: the remote
    removes the field and all its data (Gong's `isDeleted`). How an item is spelled on the
    wire is the provider's business (providers/gong/wire.py).
    """

    field: Field
    deleted: bool = False


# Attributes of a remote field that crmform does not model, as (key, JSON text) pairs sorted
# by key: the JSON text is the value exactly as the remote answered it, canonically encoded
# (json.dumps with sort_keys), so the pairs are hashable and compare by value.
Extra = tuple[tuple[str, str], ...]


@dataclass(frozen=True, slots=True)
class RemoteSchema:
    """The live fields of one object type as the remote reports them.

    Attributes the remote leaves null (Gong often does for referenceTo, orderedValueList and
    lastModified) are None here and mean "unknown", never "empty". `extra` keeps, per field
    (by uniqueName, only fields that have any), the attributes the remote reported that
    crmform does not model: an upload of the complete field list does not send them, and
    the remote may reset them (see engine/remote_diff.py).
    """

    object_type: ObjectType
    fields: tuple[Field, ...]
    request_id: str | None = None
    extra: tuple[tuple[str, Extra], ...] = ()

    def extra_of(self, unique_name: str) -> Extra:
        """The unmodelled attributes the remote reported for one field (empty if none)."""
        for name, attributes in self.extra:
            if name == unique_name:
                return attributes
        return ()


@dataclass(frozen=True, slots=True)
class WriteResult:
    status: int
    request_id: str | None


class Provider(Protocol):
    """What the engine needs from a remote CRM."""

    name: str

    def read_schema(
        self, integration_id: int, object_type: ObjectType | None = None
    ) -> dict[ObjectType, RemoteSchema]:
        """Live fields per object type; all types when object_type is None."""
        ...

    def write_schema(
        self, integration_id: int, object_type: ObjectType, writes: Sequence[FieldWrite]
    ) -> WriteResult:
        """Upload the complete field list of one object type, in the order given.

        Raises ProviderError when the remote refused it, and UncertainOutcomeError (a
        ProviderError) when the remote may have applied it without saying so: a timeout, a
        dropped connection, a 5xx after the request was sent, or a success that is not the
        remote's answer.
        """
        ...


@dataclass(frozen=True, slots=True)
class RequestPreview:
    """A request as `apply --dry-run` shows it: `method` and the full `url`, and `body`,
    the JSON value the request sends, indented for reading."""

    method: str
    url: str
    body: str


class WritePreviewer(Protocol):
    """Shows the request a write would send, without credentials and without sending it."""

    def preview_write(
        self, integration_id: int, object_type: ObjectType, writes: Sequence[FieldWrite]
    ) -> RequestPreview: ...


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
        # pid 0 or less: the backend does not keep it (GitLab); never show it as a pid.
        pid = f"pid {self.pid}" if self.pid > 0 else "pid not reported"
        return (
            f"lock {self.id} held by {self.who}@{self.host} ({pid}) "
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

    def delete(self) -> None:
        """Remove the stored state and its lock, so a later read gives an empty State().

        Deleting a state that was never written is not an error. Only `crmform backend
        check` calls it, on the scratch state it made; no command deletes a team's state.
        """
        ...

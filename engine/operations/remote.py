"""refresh and import: read Gong's schema into the state (GETs only)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from crmform.engine import drift
from crmform.engine.errors import CrmformError
from crmform.engine.model import (
    DEFAULT_PROVIDER,
    Desired,
    FieldDrift,
    ObjectKey,
    ObjectSchema,
    ObjectType,
    State,
)
from crmform.engine.operations.lock import Waiting, locked
from crmform.engine.ports import Provider, StateBackend
from crmform.engine.preflight import read_remote

__all__ = ["Imported", "ImportedObject", "Refreshed", "import_", "refresh"]


@dataclass(frozen=True, slots=True)
class Refreshed:
    """What `refresh` found and did. `written` is None when the state was not changed;
    `environment` is the crmform.toml environment refreshed ("" when none)."""

    location: str
    read: tuple[ObjectKey, ...]
    found: tuple[FieldDrift, ...]
    before: State
    written: State | None
    environment: str = ""


def refresh(
    desired: Desired | None,
    backend: StateBackend,
    provider: Provider,
    *,
    operation: str,
    lock_timeout: float,
    waiting: Waiting | None = None,
    environment: str = "",
) -> Refreshed:
    """Read Gong's schema of every address in the state (and the files, when given) and
    record it in the state, written once."""
    with locked(backend, operation, lock_timeout, waiting):
        state = backend.read()
        keys = drift.addresses(state, desired)
        if not keys:
            return Refreshed(backend.location, (), (), state, None, environment)
        remotes = read_remote(provider, keys)
        found = drift.compare_all(state, remotes)
        updated = drift.refreshed(state, remotes)
        # Gong's schema is now the record; an upload of unknown outcome is settled by it.
        for key in keys:
            updated = updated.without_pending(key)
        unchanged = updated.objects == state.objects and updated.pending == state.pending
        written = None if unchanged else backend.write(updated)
    return Refreshed(backend.location, keys, found, state, written, environment)


@dataclass(frozen=True, slots=True)
class ImportedObject:
    key: ObjectKey
    fields: int  # 0: Gong has no custom fields there, skipped


@dataclass(frozen=True, slots=True)
class Imported:
    """What `import` adopted; `written` is None when nothing was imported; `environment`
    is the crmform.toml environment imported from ("" when none)."""

    location: str
    objects: tuple[ImportedObject, ...]
    adopted: tuple[ObjectSchema, ...]
    written: State | None
    environment: str = ""


def import_(
    integration_id: int,
    object_type: ObjectType | None,
    backend: StateBackend,
    provider: Provider,
    *,
    force: bool,
    files: Callable[[tuple[ObjectSchema, ...]], None] | None = None,
    operation: str,
    lock_timeout: float,
    waiting: Waiting | None = None,
    environment: str = "",
) -> Imported:
    """Adopt Gong's schema into the state. Object types the state records already are
    refused unless `force` (protect flags are kept). `files` checks the schema files about
    to be written before anything is (it raises to refuse)."""
    with locked(backend, operation, lock_timeout, waiting):
        state = backend.read()
        answer = provider.read_schema(integration_id, object_type)
        adopted: list[ObjectSchema] = []
        report: list[ImportedObject] = []
        for each in [object_type] if object_type is not None else list(ObjectType):
            key = ObjectKey(DEFAULT_PROVIDER, integration_id, each)
            remote = answer.get(each)
            if remote is None or not remote.fields:
                report.append(ImportedObject(key, 0))
                continue
            adopted.append(drift.refreshed_object(key, state.get(key), remote))
            report.append(ImportedObject(key, len(adopted[-1].fields)))
        if not adopted:
            return Imported(backend.location, tuple(report), (), None, environment)
        taken = [o.key.address for o in adopted if state.get(o.key) is not None]
        if taken and not force:
            raise CrmformError(
                f"The state {backend.location} already records {', '.join(taken)}; nothing "
                "was imported. To update the state from Gong, run `crmform refresh DIR` "
                "(it shows what changed); to adopt Gong's schema anyway, rerun with --force "
                "(protect flags are kept)."
            )
        if files is not None:
            files(tuple(adopted))
        for obj in adopted:
            state = state.with_object(obj)
        written = backend.write(state)
    return Imported(backend.location, tuple(report), tuple(adopted), written, environment)

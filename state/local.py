"""The local state backend: one JSON file, written atomically, with a backup and a lock file.

Layout beside the state file `<path>`: `<path>.backup` holds the version before the last
write, `<path>.lock` exists while a command holds the lock and says who that is (see
lockfile.py; the JSON reading, layout and atomic writes are jsonfile.py's).
A corrupt or newer state file is reported and never rewritten: it may be the only record
of what was applied, and the user must decide how to restore it.

The state file is UTF-8 JSON laid out like `json.dumps(indent=2)` down to each object's
"fields" list, with each field on one line of its own (keys in the codec's order, ", " and
": " between items, no \\u escapes), and a trailing newline. A field per line keeps a
state diff in a pull request to the fields that changed, and lets json's C encoder write
each line (`indent` forces its pure-Python encoder, several times slower on large states).

A handle remembers the bytes it last read or wrote and the state they hold: while the file
still holds exactly those bytes, reading or checking it again would give the same answer,
so neither `read` nor `write` parses it again. Any other content is parsed and checked in
full, so a backup is always a state that loads.
"""

from __future__ import annotations

import os
import time
import uuid
from collections.abc import Callable, Mapping
from contextlib import AbstractContextManager
from dataclasses import replace
from pathlib import Path
from typing import Any

from crmform.engine.errors import StateError
from crmform.engine.formats.codec import objects_from_json, state_to_json
from crmform.engine.model import STATE_VERSION, ObjectKey, ObjectSchema, State
from crmform.engine.ports import LockInfo
from crmform.state.jsonfile import (
    NEW_FILE_MODE,
    Unreadable,
    atomic_write,
    fsync_dir,
    kind,
    laid_out_bytes,
    parse_object,
)
from crmform.state.lockfile import LockFile

__all__ = ["LocalState"]

# The state document nests objects (1) > one object (2) > its "fields" list (3) > a field.
_FIELDS_DEPTH = 3


class LocalState:
    """State in a local JSON file (the default `crmform.state.json`).

    `clock` and `sleep` pace the wait for a taken lock; tests inject fakes.
    """

    def __init__(
        self,
        path: Path,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.path = Path(path)
        self.backup_path = self.path.with_name(self.path.name + ".backup")
        self.lock_path = self.path.with_name(self.path.name + ".lock")
        self._lock_file = LockFile(
            self.lock_path, location=str(self.path), clock=clock, sleep=sleep
        )
        # The bytes this handle last read or wrote, and the state they hold (see above).
        self._known: tuple[bytes, State] | None = None

    @property
    def location(self) -> str:
        return str(self.path)

    # -- read / write -------------------------------------------------------------------

    def read(self) -> State:
        raw = self._read_bytes()
        return self._state_of(raw) if raw is not None else State()

    def write(self, state: State) -> State:
        raw = self._read_bytes()
        stored = self._state_of(raw) if raw is not None else None
        stored_serial = stored.serial if stored is not None else 0
        if stored_serial != state.serial:
            raise StateError(
                f"The state {self.location} changed since it was read (serial {stored_serial}, "
                f"expected {state.serial}); another process wrote it. Nothing was written; "
                "run the command again."
            )
        if stored is not None and stored.lineage != state.lineage:
            raise StateError(
                f"The state {self.location} has lineage {stored.lineage}, but the state being "
                f"written has lineage {state.lineage or '(none)'}: they are different states, "
                "so it was probably replaced. Nothing was written; check which state "
                "is the right one, then run the command again."
            )
        written = State(
            state.lineage or str(uuid.uuid4()), state.serial + 1, self._storable(state.objects)
        )
        data = laid_out_bytes(state_to_json(written), _FIELDS_DEPTH)
        try:
            mode = NEW_FILE_MODE
            if raw is not None:
                mode = os.stat(self.path).st_mode & 0o7777
                # The bytes checked above, not a re-read: a backup must be a state we can load.
                atomic_write(self.backup_path, raw, mode)
            atomic_write(self.path, data, mode)
        except OSError as exc:
            raise StateError(
                f"The state file {self.location} could not be written ({exc.strerror}); its "
                "previous content is unchanged. Check that its folder is writable and has free "
                "space, then run the command again."
            ) from exc
        fsync_dir(self.path.parent)
        self._known = (data, written)
        return written

    def _read_bytes(self) -> bytes | None:
        """The state file's content; None when there is no file."""
        try:
            return self.path.read_bytes()
        except FileNotFoundError:
            return None
        except OSError as exc:
            raise StateError(
                f"The state file {self.location} cannot be read ({exc.strerror}). "
                "crmform did not modify it; check that it is a readable file, then run "
                "the command again."
            ) from exc

    def _state_of(self, raw: bytes) -> State:
        """The state in `raw`, checked in full unless this handle already knows these bytes."""
        if self._known is not None and self._known[0] == raw:
            return self._known[1]
        try:
            doc = parse_object(raw)
            version = doc.get("version")
            if isinstance(version, int) and not isinstance(version, bool):
                if version > STATE_VERSION:
                    raise StateError(
                        f"The state file {self.location} was written by a newer crmform (state "
                        f"version {version}; this crmform reads version {STATE_VERSION}). "
                        "crmform did not modify it; upgrade crmform to use this state."
                    )
                if version < STATE_VERSION:
                    raise Unreadable(f'has an unknown "version" {version}')
            state = _state_from_doc(doc)
        except Unreadable as exc:
            raise StateError(
                f"The state file {self.location} {exc.args[0]}. crmform did not modify it; "
                f"restore it from {self.backup_path} or fix it by hand, then run the "
                "command again."
            ) from exc
        self._known = (raw, state)
        return state

    def _storable(self, objects: tuple[ObjectSchema, ...]) -> tuple[ObjectSchema, ...]:
        """`objects` as reading them back gives them: sorted, one per address, no source.

        This is what `write` returns instead of converting the written document back, so
        an address that would not read back is refused here, before anything is written.
        """
        by_address: dict[str, ObjectSchema] = {}
        for obj in sorted(objects, key=lambda o: o.key):
            try:
                readable = ObjectKey.parse(obj.key.address) == obj.key
            except ValueError:
                readable = False
            if not readable:
                raise StateError(
                    f"The state {self.location} cannot record the object type {obj.key}: its "
                    "provider must not contain '/' and its integration id must be a "
                    "non-negative integer. Nothing was written; fix the integration id or "
                    "provider, then run the command again."
                )
            by_address[obj.key.address] = (
                replace(obj, source=None) if obj.source is not None else obj
            )
        return tuple(by_address.values())

    # -- lock (the lock file beside the state; see lockfile.py) -------------------------

    def lock(self, operation: str, timeout: float = 0.0) -> AbstractContextManager[LockInfo]:
        return self._lock_file.hold(operation, timeout)

    def force_unlock(self, lock_id: str) -> LockInfo:
        return self._lock_file.force_unlock(lock_id)


def _state_from_doc(doc: Mapping[str, Any]) -> State:
    expected = (
        ("version", "an integer"),
        ("lineage", "a string"),
        ("serial", "an integer"),
        ("objects", "an object"),
    )
    for key, needed in expected:
        if key not in doc:
            raise Unreadable(f'has no "{key}" key')
        if kind(doc[key]) != needed:
            raise Unreadable(f'has "{key}" set to {kind(doc[key])}, where it needs {needed}')
    if not doc["lineage"]:
        raise Unreadable('has an empty "lineage"')
    if doc["serial"] < 0:
        raise Unreadable(f'has a negative "serial" ({doc["serial"]})')
    objects = []
    for address, body in doc["objects"].items():
        obj = _object_from_doc(address, body)
        if isinstance(obj, str):
            raise Unreadable(f'has a malformed object "{address}" ({obj})')
        objects.append(obj)
    return State(doc["lineage"], doc["serial"], tuple(sorted(objects, key=lambda o: o.key)))


def _object_from_doc(address: str, body: object) -> ObjectSchema | str:
    """The object stored under `address`, or what is wrong with it."""
    fields = body.get("fields") if isinstance(body, dict) else None
    if not isinstance(fields, list) or not all(isinstance(f, dict) for f in fields):
        return 'expected an object with a "fields" list of objects'
    try:
        (obj,) = objects_from_json({address: body})
    except KeyError as exc:
        return f"a field has no {exc.args[0]!r}"
    except (ValueError, TypeError) as exc:
        return str(exc)
    return obj

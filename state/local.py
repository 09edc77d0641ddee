"""The local state backend: one JSON file, written atomically, with a backup and a lock file.

Layout beside the state file `<path>`: `<path>.backup` holds the version before the last
write, `<path>.lock` exists while a command holds the lock and says who that is.
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

import dataclasses
import getpass
import json
import os
import socket
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager, suppress
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from crmform.engine.codec import objects_from_json, state_to_json
from crmform.engine.errors import StateError, StateLockedError
from crmform.engine.model import STATE_VERSION, ObjectKey, ObjectSchema, State
from crmform.state.backend import LockInfo

__all__ = ["LocalState"]

_NEW_FILE_MODE = 0o644
_POLL_SECONDS = 0.1
# The state document nests objects (1) > one object (2) > its "fields" list (3) > a field.
_FIELDS_DEPTH = 3
# Without indent, json uses its C encoder; ensure_ascii=False keeps the file's text readable.
_ONE_LINE = json.JSONEncoder(ensure_ascii=False, separators=(", ", ": "))


class _Unreadable(Exception):
    """A file that cannot be used; the argument completes "The file <path> ...", e.g. "is empty"."""


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
        self._clock = clock
        self._sleep = sleep
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
        data = _state_bytes(state_to_json(written))
        try:
            mode = _NEW_FILE_MODE
            if raw is not None:
                mode = os.stat(self.path).st_mode & 0o7777
                # The bytes checked above, not a re-read: a backup must be a state we can load.
                _atomic_write(self.backup_path, raw, mode)
            _atomic_write(self.path, data, mode)
        except OSError as exc:
            raise StateError(
                f"The state file {self.location} could not be written ({exc.strerror}); its "
                "previous content is unchanged. Check that its folder is writable and has free "
                "space, then run the command again."
            ) from exc
        _fsync_dir(self.path.parent)
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
            doc = _parse_object(raw)
            version = doc.get("version")
            if isinstance(version, int) and not isinstance(version, bool):
                if version > STATE_VERSION:
                    raise StateError(
                        f"The state file {self.location} was written by a newer crmform (state "
                        f"version {version}; this crmform reads version {STATE_VERSION}). "
                        "crmform did not modify it; upgrade crmform to use this state."
                    )
                if version < STATE_VERSION:
                    raise _Unreadable(f'has an unknown "version" {version}')
            state = _state_from_doc(doc)
        except _Unreadable as exc:
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

    # -- lock ---------------------------------------------------------------------------

    @contextmanager
    def lock(self, operation: str, timeout: float = 0.0) -> Iterator[LockInfo]:
        info = self._acquire(operation, timeout)
        try:
            yield info
        except BaseException:
            # The with-block's own error is the one to report; a failed removal must not
            # replace it (the lock then shows up, with its holder, on the next run).
            with suppress(StateError):
                self._release(info)
            raise
        self._release(info)

    def force_unlock(self, lock_id: str) -> LockInfo:
        holder = self._holder()
        if holder is None:
            raise StateError(f"No lock is held on {self.location}; there is nothing to unlock.")
        if isinstance(holder, str):
            raise StateError(
                f"The lock file {self.lock_path} {holder}, so crmform cannot check that it "
                f"is lock {lock_id}. If no crmform command is running on this "
                f"state, delete {self.lock_path} by hand."
            )
        if holder.id != lock_id:
            raise StateError(
                f"Refusing to unlock {self.location}: the lock held is {holder.id}, not "
                f"{lock_id} ({holder.describe()}). If that process is gone, run "
                f"`crmform force-unlock {holder.id}`."
            )
        self.lock_path.unlink(missing_ok=True)
        return holder

    def _acquire(self, operation: str, timeout: float) -> LockInfo:
        info = LockInfo(
            id=str(uuid.uuid4()),
            operation=operation,
            who=_user(),
            host=socket.gethostname(),
            pid=os.getpid(),
            created=datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        )
        deadline = self._clock() + timeout
        grace_used = False
        while not self._create_lock_file(info):
            holder = self._holder()
            if holder is None:  # released between our attempt and our look: try again
                continue
            if self._clock() >= deadline:
                if isinstance(holder, str) and not grace_used:
                    # A holder writes its details just after creating the file: an
                    # unreadable lock may be one being taken right now, so look once more.
                    grace_used = True
                else:
                    raise self._locked_error(holder, timeout)
            self._sleep(_POLL_SECONDS)
        return info

    def _create_lock_file(self, info: LockInfo) -> bool:
        """Take the lock for `info`; False when someone else holds it."""
        created = False
        try:
            fd = os.open(self.lock_path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, _NEW_FILE_MODE)
            created = True
            with os.fdopen(fd, "wb") as out:
                out.write(_pretty(dataclasses.asdict(info)))
                out.flush()
                os.fsync(out.fileno())
        except FileExistsError:
            return False
        except BaseException as exc:
            if created:  # ours, but it may not hold our id yet: remove it directly
                with suppress(OSError):
                    self.lock_path.unlink()
            if isinstance(exc, OSError):
                raise StateError(
                    f"The lock file {self.lock_path} could not be created ({exc.strerror}). "
                    f"Check that the folder of {self.location} exists and is writable, then "
                    "run the command again."
                ) from exc
            raise
        return True

    def _release(self, info: LockInfo) -> None:
        holder = self._holder()
        # Someone force-unlocked us (and maybe took the lock since): theirs is not ours to remove.
        if not (isinstance(holder, LockInfo) and holder.id == info.id):
            return
        try:
            self.lock_path.unlink(missing_ok=True)
        except OSError as exc:
            raise StateError(
                f"The lock file {self.lock_path} could not be removed ({exc.strerror}). "
                f"Delete it by hand, or run `crmform force-unlock {info.id}`."
            ) from exc

    def _holder(self) -> LockInfo | str | None:
        """The lock's holder; a reason string when the lock file is unreadable; None if free."""
        try:
            raw = self.lock_path.read_bytes()
        except FileNotFoundError:
            return None
        except OSError as exc:
            return f"cannot be opened ({exc.strerror})"
        try:
            return _lock_from_doc(_parse_object(raw))
        except _Unreadable as exc:
            return str(exc.args[0])

    def _locked_error(self, holder: LockInfo | str, timeout: float) -> StateLockedError:
        state = f"The state {self.location} is " + (
            f"still locked after waiting {timeout:g} s" if timeout > 0 else "locked"
        )
        if isinstance(holder, str):
            return StateLockedError(
                f"{state}, but its lock file {self.lock_path} {holder}; crmform left it in "
                "place. If no crmform command is running on this state, "
                f"delete {self.lock_path} by hand."
            )
        if holder.host == socket.gethostname() and not _pid_alive(holder.pid):
            return StateLockedError(
                f"{state}: {holder.describe()}. Process {holder.pid} is not running on this "
                f"host, so the lock looks stale; run `crmform force-unlock {holder.id}` to "
                "remove it."
            )
        return StateLockedError(
            f"{state}: {holder.describe()}. Wait for it to finish, or, if that process is "
            f"gone, run `crmform force-unlock {holder.id}`."
        )


def _atomic_write(target: Path, data: bytes, mode: int) -> None:
    """Replace `target` with `data` so that a crash leaves either the old or the new file."""
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    try:
        with os.fdopen(fd, "wb") as out:
            os.fchmod(out.fileno(), mode)
            out.write(data)
            out.flush()
            os.fsync(out.fileno())
        os.replace(tmp, target)
    except BaseException:
        with suppress(OSError):
            os.unlink(tmp)
        raise


def _fsync_dir(directory: Path) -> None:
    # Makes the renames themselves durable, not just the files' contents.
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _parse_object(raw: bytes) -> Mapping[str, Any]:
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise _Unreadable(f"is not UTF-8 text (byte {exc.start})") from exc
    if not text.strip():
        raise _Unreadable("is empty")
    try:
        doc = json.loads(text)
    except json.JSONDecodeError as exc:
        raise _Unreadable(
            f"is not valid JSON (line {exc.lineno}, column {exc.colno}: {exc.msg})"
        ) from exc
    if not isinstance(doc, dict):
        raise _Unreadable(f"holds {_kind(doc)} at the top level, not an object")
    return doc


def _state_from_doc(doc: Mapping[str, Any]) -> State:
    expected = (
        ("version", "an integer"),
        ("lineage", "a string"),
        ("serial", "an integer"),
        ("objects", "an object"),
    )
    for key, kind in expected:
        if key not in doc:
            raise _Unreadable(f'has no "{key}" key')
        if _kind(doc[key]) != kind:
            raise _Unreadable(f'has "{key}" set to {_kind(doc[key])}, where it needs {kind}')
    if not doc["lineage"]:
        raise _Unreadable('has an empty "lineage"')
    if doc["serial"] < 0:
        raise _Unreadable(f'has a negative "serial" ({doc["serial"]})')
    objects = []
    for address, body in doc["objects"].items():
        obj = _object_from_doc(address, body)
        if isinstance(obj, str):
            raise _Unreadable(f'has a malformed object "{address}" ({obj})')
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


def _kind(value: object) -> str:
    """What JSON value this is, with its article, for messages."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    names = {int: "an integer", float: "a number", str: "a string", list: "an array"}
    return names.get(type(value), "an object")


def _lock_from_doc(doc: Mapping[str, Any]) -> LockInfo:
    names = [f.name for f in dataclasses.fields(LockInfo)]
    for name in names:
        kind = "an integer" if name == "pid" else "a string"
        if _kind(doc.get(name)) != kind:
            raise _Unreadable(f'does not give "{name}" as {kind}')
    return LockInfo(**{name: doc[name] for name in names})


def _state_bytes(doc: Mapping[str, Any]) -> bytes:
    return (_laid_out(doc, 0) + "\n").encode("utf-8")


def _laid_out(value: object, depth: int) -> str:
    """`value` indented like json.dumps(indent=2) down to the fields lists, one line below."""
    if depth > _FIELDS_DEPTH or not value or not isinstance(value, dict | list):
        return _ONE_LINE.encode(value)
    inner = "  " * (depth + 1)
    if isinstance(value, dict):
        items = [f"{_ONE_LINE.encode(k)}: {_laid_out(v, depth + 1)}" for k, v in value.items()]
        brackets = "{}"
    else:
        items = [_laid_out(v, depth + 1) for v in value]
        brackets = "[]"
    body = f",\n{inner}".join(items)
    return f"{brackets[0]}\n{inner}{body}\n{'  ' * depth}{brackets[1]}"


def _pretty(doc: Mapping[str, Any]) -> bytes:
    # Indented, key order as built, one trailing newline: stable diffs when kept in git.
    return (json.dumps(doc, indent=2, ensure_ascii=False) + "\n").encode("utf-8")


def _user() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):  # no login name and no passwd entry (e.g. some containers)
        return f"uid{os.getuid()}" if hasattr(os, "getuid") else "unknown"


def _pid_alive(pid: int) -> bool:
    if pid <= 0:  # os.kill(0, ...) would address our whole process group
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:  # e.g. PermissionError: it exists, under another user
        pass
    return True

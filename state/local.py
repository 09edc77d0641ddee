"""The local state backend: one JSON file, written atomically, with a backup and a lock file.

Layout beside the state file `<path>`: `<path>.backup` holds the version before the last
write, `<path>.lock` exists while a command holds the lock and says who that is.
A corrupt or newer state file is reported and never rewritten: it may be the only record
of what was applied, and the user must decide how to restore it.
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
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from crmform.engine.codec import objects_from_json, state_from_json, state_to_json
from crmform.engine.errors import StateError, StateLockedError
from crmform.engine.model import STATE_VERSION, State
from crmform.state.backend import LockInfo

__all__ = ["LocalState"]

_NEW_FILE_MODE = 0o644
_POLL_SECONDS = 0.1


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

    @property
    def location(self) -> str:
        return str(self.path)

    # -- read / write -------------------------------------------------------------------

    def read(self) -> State:
        state, _raw = self._load()
        return state if state is not None else State()

    def write(self, state: State) -> State:
        stored, raw = self._load()
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
        lineage = state.lineage or str(uuid.uuid4())
        doc = state_to_json(State(lineage, state.serial + 1, state.objects))
        try:
            mode = _NEW_FILE_MODE
            if raw is not None:
                mode = os.stat(self.path).st_mode & 0o7777
                # The bytes just validated, not a re-read: a backup must be a state we can load.
                _atomic_write(self.backup_path, raw, mode)
            _atomic_write(self.path, _pretty(doc), mode)
        except OSError as exc:
            raise StateError(
                f"The state file {self.location} could not be written ({exc.strerror}); its "
                "previous content is unchanged. Check that its folder is writable and has free "
                "space, then run the command again."
            ) from exc
        _fsync_dir(self.path.parent)
        return state_from_json(doc)

    def _load(self) -> tuple[State | None, bytes | None]:
        """The stored state and its bytes; (None, None) when there is no file."""
        try:
            raw = self.path.read_bytes()
        except FileNotFoundError:
            return None, None
        except OSError as exc:
            raise StateError(
                f"The state file {self.location} cannot be read ({exc.strerror}). "
                "crmform did not modify it; check that it is a readable file, then run "
                "the command again."
            ) from exc
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
            return _state_from_doc(doc), raw
        except _Unreadable as exc:
            raise StateError(
                f"The state file {self.location} {exc.args[0]}. crmform did not modify it; "
                f"restore it from {self.backup_path} or fix it by hand, then run the "
                "command again."
            ) from exc

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
    for address, body in doc["objects"].items():
        problem = _object_problem(address, body)
        if problem:
            raise _Unreadable(f'has a malformed object "{address}" ({problem})')
    return state_from_json(doc)


def _object_problem(address: str, body: object) -> str:
    fields = body.get("fields") if isinstance(body, dict) else None
    if not isinstance(fields, list) or not all(isinstance(f, dict) for f in fields):
        return 'expected an object with a "fields" list of objects'
    try:
        objects_from_json({address: body})
    except KeyError as exc:
        return f"a field has no {exc.args[0]!r}"
    except (ValueError, TypeError) as exc:
        return str(exc)
    return ""


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

"""The lock file beside a local state: it exists while a command holds the lock, and its
JSON content (a LockInfo) says who that is, so anyone who finds the lock taken can tell
whether to wait, or to force-unlock a holder whose process is gone.
"""

from __future__ import annotations

import dataclasses
import getpass
import os
import socket
import uuid
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager, suppress
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from crmform.engine.errors import StateError, StateLockedError
from crmform.engine.ports import LockInfo
from crmform.state.jsonfile import NEW_FILE_MODE, Unreadable, indented_bytes, kind, parse_object

__all__ = ["LockFile"]

_POLL_SECONDS = 0.1


class LockFile:
    """The lock file `path` of the state at `location` (named in messages).

    `clock` and `sleep` pace the wait for a taken lock; tests inject fakes.
    """

    def __init__(
        self,
        path: Path,
        *,
        location: str,
        clock: Callable[[], float],
        sleep: Callable[[float], None],
    ) -> None:
        self.lock_path = path
        self.location = location
        self._clock = clock
        self._sleep = sleep

    @contextmanager
    def hold(self, operation: str, timeout: float) -> Iterator[LockInfo]:
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
            fd = os.open(self.lock_path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, NEW_FILE_MODE)
            created = True
            with os.fdopen(fd, "wb") as out:
                out.write(indented_bytes(dataclasses.asdict(info)))
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
            return _lock_from_doc(parse_object(raw))
        except Unreadable as exc:
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


def _lock_from_doc(doc: Mapping[str, Any]) -> LockInfo:
    names = [f.name for f in dataclasses.fields(LockInfo)]
    for name in names:
        expected = "an integer" if name == "pid" else "a string"
        if kind(doc.get(name)) != expected:
            raise Unreadable(f'does not give "{name}" as {expected}')
    return LockInfo(**{name: doc[name] for name in names})


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

"""The lock file beside a local state: it exists while a command holds the lock, and its
JSON content (a LockInfo) says who that is, so anyone who finds the lock taken can tell
whether to wait, or to force-unlock a holder whose process is gone.

Where the OS has `fcntl.flock`, the holder also keeps an exclusive flock on the lock file
for as long as it holds the lock, and the kernel drops it when the process ends, however it
ends. A lock file whose flock nobody holds, naming a process of this host that is no longer
running (a holder killed with `kill -9`, or a power cut), is then taken over at once
instead of needing `crmform force-unlock`. A holder on another host, or one whose pid is
still alive (a crmform that takes no flock, or a reused pid), is respected as before.
Without flock (e.g. Windows) the lock file alone is the lock, as it always was.
"""

from __future__ import annotations

import dataclasses
import os
import socket
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import Any

from crmform.engine.errors import StateError, StateLockedError
from crmform.engine.ports import LockInfo
from crmform.state.holder import alive_here, new_lock_info, pid_alive
from crmform.state.jsonfile import NEW_FILE_MODE, Unreadable, indented_bytes, kind, parse_object

try:
    import fcntl
except ImportError:  # pragma: no cover - no flock on this OS: the lock file alone
    HAVE_FLOCK = False
else:
    HAVE_FLOCK = True

__all__ = ["HAVE_FLOCK", "LockFile"]

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
        flock: bool = HAVE_FLOCK,
    ) -> None:
        self.lock_path = path
        self.location = location
        self._clock = clock
        self._sleep = sleep
        self._flock = flock

    @contextmanager
    def hold(self, operation: str, timeout: float) -> Iterator[LockInfo]:
        info, fd = self._acquire(operation, timeout)
        try:
            yield info
        except BaseException:
            # The with-block's own error is the one to report; a failed removal must not
            # replace it (the lock then shows up, with its holder, on the next run).
            with suppress(StateError):
                self._release(info, fd)
            raise
        self._release(info, fd)

    def force_unlock(self, lock_id: str, *, force: bool = False) -> LockInfo:
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
        if not force and (alive_here(holder) or self._flock_taken()):
            raise StateError(holder_running_message(self.location, holder))
        self.lock_path.unlink(missing_ok=True)
        return holder

    def _acquire(self, operation: str, timeout: float) -> tuple[LockInfo, int | None]:
        info = new_lock_info(operation)
        deadline = self._clock() + timeout
        grace_used = False
        while not (taken := self._create_lock_file(info))[0]:
            holder = self._holder()
            if holder is None:  # released between our attempt and our look: try again
                continue
            if isinstance(holder, LockInfo) and (fd := self._take_over(holder, info)) is not None:
                return info, fd
            if self._clock() >= deadline:
                if isinstance(holder, str) and not grace_used:
                    # A holder writes its details just after creating the file: an
                    # unreadable lock may be one being taken right now, so look once more.
                    grace_used = True
                else:
                    raise self._locked_error(holder, timeout)
            self._sleep(_POLL_SECONDS)
        return info, taken[1]

    def _create_lock_file(self, info: LockInfo) -> tuple[bool, int | None]:
        """Take the lock for `info`: (True, the flocked descriptor to keep open while
        holding it, or None without flock); (False, None) when someone else holds it."""
        fd = -1
        try:
            fd = os.open(self.lock_path, os.O_CREAT | os.O_EXCL | os.O_RDWR, NEW_FILE_MODE)
            if self._flock:
                # Blocking is safe: another process holds it here only for the moment it
                # takes to find our file empty (see _take_over).
                fcntl.flock(fd, fcntl.LOCK_EX)
            _write_all(fd, indented_bytes(dataclasses.asdict(info)))
        except FileExistsError:
            return False, None
        except BaseException as exc:
            if fd >= 0:  # ours, but it may not hold our id yet: remove it directly
                with suppress(OSError):
                    self.lock_path.unlink()
                os.close(fd)
            if isinstance(exc, OSError):
                raise StateError(
                    f"The lock file {self.lock_path} could not be created ({exc.strerror}). "
                    f"Check that the folder of {self.location} exists and is writable, then "
                    "run the command again."
                ) from exc
            raise
        if self._flock:
            return True, fd
        os.close(fd)
        return True, None

    def _take_over(self, holder: LockInfo, info: LockInfo) -> int | None:
        """The lock of a holder that is gone, taken for `info`: the flocked descriptor, or
        None when the lock is not provably abandoned (see the module's docstring)."""
        if not self._flock or holder.host != socket.gethostname() or pid_alive(holder.pid):
            return None
        try:
            fd = os.open(self.lock_path, os.O_RDWR)
        except OSError:
            return None
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            # Still the file at our path, and still naming the dead holder we judged?
            if os.fstat(fd).st_ino != os.stat(self.lock_path).st_ino:
                raise BlockingIOError
            current = _lock_from_doc(parse_object(_read_all(fd)))
            if current.id != holder.id:
                raise BlockingIOError
            os.ftruncate(fd, 0)
            os.lseek(fd, 0, os.SEEK_SET)
            _write_all(fd, indented_bytes(dataclasses.asdict(info)))
        except (OSError, Unreadable):
            os.close(fd)
            return None
        return fd

    def _flock_taken(self) -> bool:
        """True when some process holds the kernel lock on the lock file right now."""
        if not self._flock:
            return False
        try:
            fd = os.open(self.lock_path, os.O_RDONLY)
        except OSError:
            return False
        try:
            fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
        except BlockingIOError:
            return True
        except OSError:
            return False
        finally:
            os.close(fd)
        return False

    def _release(self, info: LockInfo, fd: int | None) -> None:
        try:
            holder = self._holder()
            # Someone force-unlocked us (and maybe took the lock since): not ours to remove.
            if not (isinstance(holder, LockInfo) and holder.id == info.id):
                return
            try:
                self.lock_path.unlink(missing_ok=True)
            except OSError as exc:
                raise StateError(
                    f"The lock file {self.lock_path} could not be removed ({exc.strerror}). "
                    f"Delete it by hand, or run `crmform force-unlock {info.id}`."
                ) from exc
        finally:
            if fd is not None:  # after the unlink: closing drops the kernel lock
                os.close(fd)

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
        if holder.host == socket.gethostname() and not pid_alive(holder.pid):
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


def holder_running_message(location: str, holder: LockInfo) -> str:
    """Why force-unlock refuses a holder that is still running (issue 11 item 4)."""
    return (
        f"Refusing to unlock {location}: {holder.describe()}, and that process is still "
        "running. Removing its lock would let another command write the state and Gong while "
        "it goes on, and its late uploads could then undo the other's. Wait for it to finish "
        "or stop it; only if it can never write again, force the removal with "
        f"`crmform force-unlock --force {holder.id}`."
    )


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view) :]
    os.fsync(fd)


def _read_all(fd: int) -> bytes:
    os.lseek(fd, 0, os.SEEK_SET)
    chunks = []
    while chunk := os.read(fd, 65536):
        chunks.append(chunk)
    return b"".join(chunks)

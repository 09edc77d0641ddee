"""Who takes a lock: the LockInfo every backend records for its holder, whether a
holder named in a lock is still running on this host, and PolledLock, the polling loop of
the backends whose lock is one try-lock request (http, s3).
"""

from __future__ import annotations

import getpass
import os
import socket
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime

from crmform.engine.errors import StateLockedError
from crmform.engine.ports import LockInfo

__all__ = [
    "POLL_SECONDS",
    "VANISHED",
    "PolledLock",
    "alive_here",
    "new_lock_info",
    "pid_alive",
    "user",
]

# How often a backend without a blocking lock asks again while waiting for it.
POLL_SECONDS = 0.2
# What a try_lock returns when it was refused but then found no holder: the lock was
# released between the refused take and the read of who held it. Free, so try again at once.
VANISHED = LockInfo("(released)", "", "(nobody)", "", 0, "")
# Consecutive VANISHED answers retried at once, whatever the deadline; then polled as held.
_VANISHED_RETRIES = 3


def new_lock_info(operation: str) -> LockInfo:
    """A fresh lock id for `operation`, held by this user, host and process, from now."""
    return LockInfo(
        id=str(uuid.uuid4()),
        operation=operation,
        who=user(),
        host=socket.gethostname(),
        pid=os.getpid(),
        created=datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
    )


def user() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):  # no login name and no passwd entry (e.g. some containers)
        return f"uid{os.getuid()}" if hasattr(os, "getuid") else "unknown"


# On Windows os.kill(pid, 0) sends CTRL_C_EVENT instead of probing: never call it there.
_WINDOWS = os.name == "nt"


def pid_alive(pid: int) -> bool:
    """Whether a process of this host runs; where that cannot be probed, assume it does
    (so its lock is never called stale by mistake)."""
    if pid <= 0 or _WINDOWS:  # os.kill(0, ...) would address our whole process group
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:  # e.g. PermissionError: it exists, under another user
        pass
    return True


def alive_here(holder: LockInfo) -> bool:
    """True when `holder` names a process of this host that is still running.

    A pid of 0 or less means "not reported" (a server that does not keep it): unknown,
    so not known to be alive.
    """
    return holder.host == socket.gethostname() and holder.pid > 0 and pid_alive(holder.pid)


class PolledLock:
    """The lock of a backend that takes it with one request and polls while another holds
    it (http, s3). `_hold` keeps it for a `with` block, naming it in `_held` meanwhile (so a
    write inside the block goes under it); the backend provides the three requests."""

    _clock: Callable[[], float]
    _sleep: Callable[[float], None]
    _held: LockInfo | None

    def _try_lock(self, info: LockInfo) -> LockInfo | None:
        """Take the lock as `info`: None when taken, else who holds it (or VANISHED)."""
        raise NotImplementedError

    def _release(self, info: LockInfo) -> None:
        """Release the lock `info` took, only while it is still ours."""
        raise NotImplementedError

    def _locked_error(self, holder: LockInfo, timeout: float) -> StateLockedError:
        raise NotImplementedError

    @contextmanager
    def _hold(self, operation: str, timeout: float) -> Iterator[LockInfo]:
        """Hold the lock for the `with` block, asking `_try_lock` every POLL_SECONDS until
        `timeout` has passed, then raising `_locked_error`. `_release` runs however the
        block ends (only once the lock was taken). A VANISHED holder is retried at once (a
        few times), so a lock released just then is taken, never reported as held by
        nobody."""
        info = new_lock_info(operation)
        deadline = self._clock() + timeout
        vanished = 0
        while True:
            holder = self._try_lock(info)
            if holder is None:
                break
            if holder is VANISHED and vanished < _VANISHED_RETRIES:
                vanished += 1
                continue
            vanished = 0
            if self._clock() >= deadline:
                raise self._locked_error(holder, timeout)
            self._sleep(POLL_SECONDS)
        previous, self._held = self._held, info
        try:
            yield info
        finally:
            self._held = previous
            self._release(info)

"""Who takes a lock: the LockInfo every backend records for its holder, and whether a
holder named in a lock is still running on this host.
"""

from __future__ import annotations

import getpass
import os
import socket
import uuid
from datetime import UTC, datetime

from crmform.engine.ports import LockInfo

__all__ = ["alive_here", "new_lock_info", "pid_alive", "user"]


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

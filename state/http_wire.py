"""The wire side of the http backend: Terraform's LockInfo JSON, and requests retried the
way Terraform's http backend retries them (go-retryablehttp: connection errors, timeouts,
429 and 5xx other than 501; waits growing from retry_wait_min to retry_wait_max).

Terraform's LockInfo (internal/states/statemgr/locker.go) has ID, Operation, Info, Who,
Version, Created and Path; crmform puts "user@host" in Who, as Terraform does, and the
pid and lock id in Info ("crmform pid=1234 lock=<id>"), so a crmform that finds the lock
taken can tell whether the holder still runs on its host. Servers may keep less: GitLab
answers a taken lock with the holder's ID, its own user name as Who and the lock time, and
echoes the asker's Operation, Info, Version and Path; an Info that is the asker's own (it
names the asker's lock id) marks such an echo, and those four are then unknown.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from importlib import metadata

from crmform.engine.ports import LockInfo

__all__ = ["RetryPolicy", "lock_body", "lock_from_body", "retry_waits"]

_PID = re.compile(r"(?:^|\s)pid=(\d+)(?:\s|$)")


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """Terraform's keys and defaults: retry_max 2, retry_wait_min 1 s, retry_wait_max 30 s."""

    retry_max: int = 2
    retry_wait_min: float = 1.0
    retry_wait_max: float = 30.0


def retry_waits(policy: RetryPolicy) -> list[float]:
    """The waits before each retry: doubling from the minimum, capped at the maximum."""
    return [
        min(policy.retry_wait_max, policy.retry_wait_min * 2**attempt)
        for attempt in range(policy.retry_max)
    ]


def retryable(status: int) -> bool:
    return status == 429 or (status >= 500 and status != 501)


def retry_after(value: str | None, now: Callable[[], float] = time.time) -> float | None:
    """Seconds a Retry-After header asks for (delta form only), or None."""
    if value is None:
        return None
    try:
        return max(0.0, float(value.strip()))
    except ValueError:
        return None


def _version() -> str:
    try:
        return metadata.version("crmform")
    except metadata.PackageNotFoundError:
        return "unknown"


def lock_body(info: LockInfo, path: str) -> dict[str, str]:
    """`info` as Terraform's LockInfo JSON object (all strings, as GitLab requires)."""
    return {
        "ID": info.id,
        "Operation": info.operation,
        "Info": f"crmform pid={info.pid} lock={info.id}",
        "Who": f"{info.who}@{info.host}",
        "Version": _version(),
        "Created": info.created,
        "Path": path,
    }


def lock_from_body(raw: bytes, asked: Mapping[str, str] | None = None) -> LockInfo | None:
    """The holder a server names in `raw` (None when it names none).

    When its Info is the one we `asked` with, the server echoed our Operation, Info,
    Version and Path (GitLab): the holder's are unknown ("not reported", pid 0).
    """
    try:
        doc = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        return None
    if not isinstance(doc, dict) or not isinstance(doc.get("ID"), str) or not doc["ID"]:
        return None

    echo = asked is not None and doc.get("Info") == asked.get("Info")

    def field(key: str) -> str:
        value = doc.get(key)
        text = value if isinstance(value, str) else ""
        return "" if echo and key in ("Operation", "Info", "Version", "Path") else text

    who, _, host = field("Who").partition("@")
    found = _PID.search(field("Info"))
    return LockInfo(
        id=doc["ID"],
        operation=field("Operation") or "(not reported by the server)",
        who=who or "(unknown)",
        host=host or "(host not reported)",
        pid=int(found.group(1)) if found else 0,
        created=field("Created") or "(time not reported)",
    )

"""The S3 state backend (boto3, the optional extra `crmform[s3]`, imported here only).

The state is the object `key` of `bucket` holding the state document (document.py, the
same bytes as the local file). A write is a compare-and-swap on the object's ETag: read
the object and its ETag, check serial and lineage, then PUT with `If-Match: <that ETag>`
(`If-None-Match: *` when there was none); 412 or 409 means another writer got there first
and nothing was written, unless the object now holds exactly our bytes: botocore retried a
PUT whose first attempt was stored and whose answer was lost.

The lock is a second object, `<key>.crmlock`, created with `If-None-Match: *` and holding
the holder's LockInfo as JSON; 412 or 409 means it exists, i.e. the lock is held. botocore
retries a request whose answer was lost, so a 412 may answer our own first attempt: the
lock is then read back and, when it carries our id, it is ours (OpenTofu#4405 leaked
locks exactly there). Unlock deletes the lock only while it is ours, with `If-Match` its
ETag, so a holder that was force-unlocked never removes its successor's lock.

S3 has no session, so a killed holder's lock stays until `crmform force-unlock`. Servers
that ignore conditional headers (some S3-compatible ones) make both guarantees void:
`crmform backend check` finds that out.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from contextlib import AbstractContextManager, suppress
from dataclasses import dataclass
from typing import Any

from crmform.engine.errors import StateError, StateLockedError, StateWriteUncertainError
from crmform.engine.model import STATE_VERSION, State
from crmform.engine.ports import LockInfo
from crmform.state.cas import check_expected, moved_error
from crmform.state.document import (
    NewerVersion,
    UnstorableState,
    UnusableDocument,
    decode,
    encode,
    next_state,
    remember_encoded,
)
from crmform.state.holder import VANISHED, PolledLock, alive_here
from crmform.state.lockfile import holder_running_message

__all__ = ["S3Settings", "S3State"]

_WRITE_LOCK_WAIT = 10.0  # seconds a write waits for the lock it takes for itself
_HELD = ("PreconditionFailed", "ConditionalRequestConflict", "412", "409")


@dataclass(frozen=True, slots=True)
class S3Settings:
    """Terraform's s3 backend key names where they exist (bucket, key, region, endpoint_url)."""

    bucket: str
    key: str
    region: str = ""
    endpoint_url: str = ""


class S3State(PolledLock):
    def __init__(
        self,
        settings: S3Settings,
        *,
        client: Any = None,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.settings = settings
        self.lock_key = f"{settings.key}.crmlock"
        if client is None:
            import boto3

            client = boto3.client(
                "s3",
                region_name=settings.region or None,
                endpoint_url=settings.endpoint_url or None,
            )
        self._s3 = client
        self._clock = clock
        self._sleep = sleep
        self._held: LockInfo | None = None
        where = f" at {settings.endpoint_url}" if settings.endpoint_url else ""
        self._location = f"s3://{settings.bucket}/{settings.key}{where}"

    @property
    def location(self) -> str:
        return self._location

    def close(self) -> None:
        with suppress(Exception):
            self._s3.close()

    def delete(self) -> None:
        """Remove the state and lock objects (`crmform backend check`'s scratch state)."""
        for key in (self.settings.key, self.lock_key):
            with suppress(Exception):
                self._s3.delete_object(Bucket=self.settings.bucket, Key=key)

    # -- read / write -------------------------------------------------------------------

    def read(self) -> State:
        found = self._get(self.settings.key, "read")
        return self._state_of(found[0]) if found is not None else State()

    def write(self, state: State) -> State:
        if self._held is not None:
            return self._write(state)
        # The lock too, so that a server whose If-Match is not atomic under concurrent
        # PUTs (moto's is not) still gives one winner, as long as If-None-Match is.
        with self.lock("crmform state write", timeout=_WRITE_LOCK_WAIT):
            return self._write(state)

    def _write(self, state: State) -> State:
        found = self._get(self.settings.key, "write")
        stored = self._state_of(found[0]) if found is not None else None
        check_expected(self.location, stored, state)
        if found is not None and stored is not None:  # unchanged objects' lines: not re-encoded
            remember_encoded(found[0], stored)
        try:
            written = next_state(state)
            data = encode(written)
        except UnstorableState as exc:
            raise StateError(exc.message(self.location)) from exc
        condition = {"IfMatch": found[1]} if found is not None else {"IfNoneMatch": "*"}
        try:
            self._s3.put_object(
                Bucket=self.settings.bucket,
                Key=self.settings.key,
                Body=data,
                ContentType="application/json",
                **condition,
            )
        except Exception as exc:
            if _code(exc) in _HELD:
                now = self._get(self.settings.key, "read")
                if now is not None and now[0] == data:
                    return written  # a retried PUT whose first attempt was stored
                serial = self._state_of(now[0]).serial if now is not None else 0
                raise moved_error(self.location, serial, state.serial) from exc
            raise StateWriteUncertainError(
                f"The state {self.location} may or may not have been written: S3 said "
                f"{_said(exc)}. Read it again (`crmform state pull`) to see which, then run "
                "the command again."
            ) from exc
        return written

    def _state_of(self, raw: bytes) -> State:
        try:
            return decode(raw).state
        except NewerVersion as exc:
            raise StateError(
                f"The state {self.location} was written by a newer crmform (state version "
                f"{exc.version}; this crmform reads version {STATE_VERSION}). crmform did not "
                "modify it; upgrade crmform to use this state."
            ) from exc
        except UnusableDocument as exc:
            raise StateError(
                f"The state {self.location} {exc.args[0]}. crmform did not modify it; restore "
                "an earlier version of the object (bucket versioning), then run the command "
                "again."
            ) from exc

    def _get(self, key: str, what: str) -> tuple[bytes, str] | None:
        """The object's bytes and ETag; None when there is none."""
        try:
            answer = self._s3.get_object(Bucket=self.settings.bucket, Key=key)
            return answer["Body"].read(), str(answer["ETag"])
        except Exception as exc:
            if _code(exc) in ("NoSuchKey", "404"):
                return None
            raise StateError(
                f"crmform could not {what} the state {self.location}: S3 said {_said(exc)}. "
                "Check the bucket, the region and the credentials, then run the command again."
            ) from exc

    # -- lock ---------------------------------------------------------------------------

    def lock(self, operation: str, timeout: float = 0.0) -> AbstractContextManager[LockInfo]:
        return self._hold(operation, timeout)

    def _release(self, info: LockInfo) -> None:
        """Delete the lock object only while it is still ours (IfMatch its ETag): a lock
        force-unlocked and taken by another since is left alone."""
        found = self._lock_object()
        if found is not None and found[0].id == info.id:
            with suppress(Exception):
                self._s3.delete_object(
                    Bucket=self.settings.bucket, Key=self.lock_key, IfMatch=found[1]
                )

    def _try_lock(self, info: LockInfo) -> LockInfo | None:
        try:
            self._s3.put_object(
                Bucket=self.settings.bucket,
                Key=self.lock_key,
                Body=json.dumps(_info_doc(info)).encode(),
                ContentType="application/json",
                IfNoneMatch="*",
            )
            return None
        except Exception as exc:
            if _code(exc) not in _HELD:
                raise StateError(
                    f"crmform could not lock the state {self.location}: S3 said {_said(exc)}."
                ) from exc
        found = self._lock_object()
        if found is None:
            return VANISHED  # released between our PUT and our GET: try again
        holder = found[0]
        return None if holder.id == info.id else holder  # ours: a retried PUT's 412

    def _lock_object(self) -> tuple[LockInfo, str] | None:
        found = self._get(self.lock_key, "read the lock of")
        if found is None:
            return None
        return _info_from(found[0]), found[1]

    def _locked_error(self, holder: LockInfo, timeout: float) -> StateLockedError:
        state = f"The state {self.location} is " + (
            f"still locked after waiting {timeout:g} s" if timeout > 0 else "locked"
        )
        return StateLockedError(
            f"{state}: {holder.describe()}. Wait for it to finish; if that process is gone "
            f"(S3 cannot tell), run `crmform force-unlock {holder.id}`."
        )

    def force_unlock(self, lock_id: str, *, force: bool = False) -> LockInfo:
        found = self._lock_object()
        if found is None:
            raise StateError(f"No lock is held on {self.location}; there is nothing to unlock.")
        holder, etag = found
        if holder.id != lock_id:
            raise StateError(
                f"Refusing to unlock {self.location}: the lock held is {holder.id}, not "
                f"{lock_id} ({holder.describe()}). If that process is gone, run "
                f"`crmform force-unlock {holder.id}`."
            )
        if not force and alive_here(holder):
            raise StateError(holder_running_message(self.location, holder))
        try:
            self._s3.delete_object(Bucket=self.settings.bucket, Key=self.lock_key, IfMatch=etag)
        except Exception as exc:
            raise StateError(
                f"crmform could not remove the lock of {self.location}: S3 said {_said(exc)}."
            ) from exc
        return holder


def _code(exc: Exception) -> str:
    response = getattr(exc, "response", None)
    if not isinstance(response, dict):
        return ""
    error = response.get("Error") or {}
    return str(error.get("Code") or response.get("ResponseMetadata", {}).get("HTTPStatusCode"))


def _said(exc: Exception) -> str:
    text = " ".join(str(exc).split())
    return text[:200] or type(exc).__name__


def _info_doc(info: LockInfo) -> dict[str, object]:
    return {
        "ID": info.id,
        "Operation": info.operation,
        "Who": info.who,
        "Host": info.host,
        "Pid": info.pid,
        "Created": info.created,
    }


def _info_from(raw: bytes) -> LockInfo:
    try:
        doc = json.loads(raw)
    except ValueError:
        doc = {}
    d = doc if isinstance(doc, dict) else {}
    pid = d.get("Pid")
    return LockInfo(
        id=str(d.get("ID") or "(unknown)")[:80],
        operation=str(d.get("Operation") or "")[:80],
        who=str(d.get("Who") or "(unknown)")[:80],
        host=str(d.get("Host") or "")[:80],
        pid=pid if isinstance(pid, int) and not isinstance(pid, bool) else 0,
        created=str(d.get("Created") or "")[:40],
    )

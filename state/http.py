"""The http state backend: Terraform's `http` backend wire protocol, so GitLab-managed
Terraform state (or any server speaking it) stores crmform state.

The protocol (Terraform's internal/backend/remote-state/http client, followed here):
- GET `address`: 200 with the document; 204, 404 or an empty 200 body mean "no state yet".
  A `Content-MD5` answer header, when present, must match the body.
- `update_method` (POST) to `address`, with `?ID=<lock id>` while a lock is held, and a
  `Content-MD5` header (base64 of the body's MD5).
- `lock_method` (LOCK) to `lock_address` with the LockInfo JSON (Terraform's names: ID,
  Operation, Info, Who, Version, Created, Path): 200 = taken; 409 or 423 = held, the body
  names the holder. `unlock_method` (UNLOCK) to `unlock_address` with the same JSON.
  GitLab uses POST and DELETE on `<address>/lock`.

The protocol has no compare-and-swap, so `write` makes one: it reads, checks serial and
lineage, and posts while holding the lock (its caller's, or one it takes for the write
alone and releases after). Between crmform clients that makes the check and the write one
step; a server that enforces `?ID` on writes (GitLab) makes it hold against any client.

Who the holder is: `Who` is "user@host" and `Info` carries "pid=<n>", so a second
crmform sees host and pid, as Terraform's test server returns the stored body. GitLab
answers with its own user name, the id and the time only (Traits.holder_process False).

Force-unlock first learns the holder by asking for the lock with a probe id (the protocol
has no "who holds it" request): a 409/423 names the holder; a 200 means there was none,
and the probe lock is released at once.
"""

from __future__ import annotations

import base64
import hashlib
import json
import time
from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from urllib.parse import urlencode, urlsplit, urlunsplit

import httpx

from crmform.engine.errors import StateError, StateLockedError, StateWriteUncertainError
from crmform.engine.model import STATE_VERSION, State
from crmform.engine.ports import LockInfo
from crmform.state.cas import check_expected
from crmform.state.document import (
    NewerVersion,
    UnstorableState,
    UnusableDocument,
    decode,
    encode,
    next_state,
    remember_encoded,
)
from crmform.state.holder import PolledLock, alive_here, new_lock_info
from crmform.state.http_wire import RetryPolicy, lock_body, lock_from_body, retry_waits, retryable
from crmform.state.lockfile import holder_running_message

__all__ = ["HttpSettings", "HttpState"]

_WRITE_LOCK_WAIT = 10.0  # seconds a write waits for the lock it takes for itself


_DEFAULT_RETRY = RetryPolicy()


@dataclass(frozen=True, slots=True)
class HttpSettings:
    """Terraform's http backend keys (the same names in crmform.toml)."""

    address: str
    lock_address: str
    unlock_address: str
    update_method: str = "POST"
    lock_method: str = "LOCK"
    unlock_method: str = "UNLOCK"
    username: str = ""
    password: str = field(default="", repr=False)
    retry: RetryPolicy = _DEFAULT_RETRY
    timeout: float = 30.0
    skip_cert_verification: bool = False


class HttpState(PolledLock):
    def __init__(
        self,
        settings: HttpSettings,
        *,
        transport: httpx.BaseTransport | None = None,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.settings = settings
        auth = (settings.username, settings.password) if settings.username else None
        self._client = httpx.Client(
            auth=auth,
            timeout=settings.timeout,
            transport=transport,
            verify=not settings.skip_cert_verification,
        )
        self._clock = clock
        self._sleep = sleep
        self._held: LockInfo | None = None
        self._path = urlsplit(settings.address).path
        parts = urlsplit(settings.address)
        self._location = urlunsplit((parts.scheme, parts.hostname or "", parts.path, "", ""))
        if parts.port:
            self._location = urlunsplit(
                (parts.scheme, f"{parts.hostname}:{parts.port}", parts.path, "", "")
            )

    @property
    def location(self) -> str:
        return self._location

    def close(self) -> None:
        self._client.close()

    def delete(self) -> None:
        """DELETE the state (`crmform backend check`'s scratch state); both reference
        servers and GitLab support it."""
        self._send("delete", "DELETE", self.settings.address)

    # -- read / write -------------------------------------------------------------------

    def read(self) -> State:
        return self._read()[1]

    def _read(self) -> tuple[bytes, State]:
        """The stored bytes (b"" when there is no state) and the state they hold."""
        response = self._send("read", "GET", self.settings.address)
        if response.status_code in (204, 404) or (
            response.status_code == 200 and not response.content
        ):
            return b"", State()
        if response.status_code != 200:
            raise self._refused("read", response)
        md5 = response.headers.get("Content-MD5")
        if md5 and md5 != _md5(response.content):
            raise StateError(
                f"The state {self.location} arrived damaged (its Content-MD5 does not match "
                "its body). crmform did not modify it; run the command again."
            )
        try:
            return response.content, decode(response.content).state
        except NewerVersion as exc:
            raise StateError(
                f"The state {self.location} was written by a newer crmform (state version "
                f"{exc.version}; this crmform reads version {STATE_VERSION}). crmform did not "
                "modify it; upgrade crmform to use this state."
            ) from exc
        except UnusableDocument as exc:
            raise StateError(
                f"The state {self.location} {exc.args[0]}. crmform did not modify it; restore "
                "it from the server's history (GitLab keeps versions), then run the command again."
            ) from exc

    def write(self, state: State) -> State:
        if self._held is not None:
            return self._write(state, self._held)
        with self.lock("crmform state write", timeout=_WRITE_LOCK_WAIT) as info:
            return self._write(state, info)

    def _write(self, state: State, held: LockInfo) -> State:
        check_expected(self.location, self._stored(), state)
        try:
            written = next_state(state)
            data = encode(written)
        except UnstorableState as exc:
            raise StateError(exc.message(self.location)) from exc
        url = _with_query(self.settings.address, ID=held.id)
        headers = {"Content-Type": "application/json", "Content-MD5": _md5(data)}
        try:
            response = self._send("write", self.settings.update_method, url, data, headers)
        except StateError as exc:
            raise StateWriteUncertainError(
                f"The state {self.location} may or may not have been written: {exc} Read it "
                "again (`crmform state pull`) to see which, then run the command again."
            ) from exc
        if response.status_code not in (200, 201, 204):
            raise self._refused("write", response, " Nothing was written.")
        return written

    def _stored(self) -> State | None:
        raw, stored = self._read()
        if not (stored.lineage or stored.serial):
            return None
        remember_encoded(raw, stored)  # the unchanged objects' lines, not re-encoded
        return stored

    # -- lock ---------------------------------------------------------------------------

    def lock(self, operation: str, timeout: float = 0.0) -> AbstractContextManager[LockInfo]:
        return self._hold(operation, timeout)

    def _release(self, info: LockInfo) -> None:
        self._unlock(info.id, self._lock_body(info))

    def _try_lock(self, info: LockInfo) -> LockInfo | None:
        """None when `info` now holds the lock; else the holder the server named."""
        asked = lock_body(info, self._path)
        response = self._send(
            "lock", self.settings.lock_method, self.settings.lock_address, _json(asked)
        )
        if response.status_code == 200:
            return None
        if response.status_code in (409, 423):
            holder = lock_from_body(response.content, asked) or _UNKNOWN_HOLDER
            # A retried request whose first attempt took the lock finds it held by us.
            return None if holder.id == info.id else holder
        raise self._refused("lock", response)

    def _unlock(self, lock_id: str, body: bytes) -> httpx.Response:
        return self._send("unlock", self.settings.unlock_method, self.settings.unlock_address, body)

    def _lock_body(self, info: LockInfo) -> bytes:
        return _json(lock_body(info, self._path))

    def _locked_error(self, holder: LockInfo, timeout: float) -> StateLockedError:
        state = f"The state {self.location} is " + (
            f"still locked after waiting {timeout:g} s" if timeout > 0 else "locked"
        )
        return StateLockedError(
            f"{state}: {holder.describe()}. Wait for it to finish; if that process is gone, "
            f"run `crmform force-unlock {holder.id}`."
        )

    def force_unlock(self, lock_id: str, *, force: bool = False) -> LockInfo:
        probe = new_lock_info("crmform force-unlock")
        holder = self._try_lock(probe)
        if holder is None:
            self._unlock(probe.id, self._lock_body(probe))
            raise StateError(f"No lock is held on {self.location}; there is nothing to unlock.")
        if holder.id != lock_id:
            raise StateError(
                f"Refusing to unlock {self.location}: the lock held is {holder.id}, not "
                f"{lock_id} ({holder.describe()}). If that process is gone, run "
                f"`crmform force-unlock {holder.id}`."
            )
        if not force and alive_here(holder):
            raise StateError(holder_running_message(self.location, holder))
        response = self._unlock(lock_id, json.dumps({"ID": lock_id}).encode())
        if response.status_code not in (200, 204):
            raise self._refused("unlock", response)
        return holder

    # -- transport ----------------------------------------------------------------------

    def _send(
        self,
        what: str,
        method: str,
        url: str,
        body: bytes | None = None,
        headers: dict[str, str] | None = None,
    ) -> httpx.Response:
        """One request, retried like Terraform's client (retry_max times on 5xx, 429 and
        transport errors, waits doubling from retry_wait_min up to retry_wait_max)."""
        waits = retry_waits(self.settings.retry)
        for attempt in range(len(waits) + 1):
            last = attempt == len(waits)
            if body is not None and headers is None:
                headers = {"Content-Type": "application/json"}  # as Terraform's client sends
            try:
                response = self._client.request(method, url, content=body, headers=headers)
            except httpx.HTTPError as exc:
                if last:
                    raise StateError(
                        f"crmform could not {what} the state {self.location}: "
                        f"{type(exc).__name__} ({_short(str(exc))})."
                    ) from exc
            else:
                if last or not retryable(response.status_code):
                    return response
            self._sleep(waits[attempt])
        raise AssertionError("unreachable")  # pragma: no cover

    def _refused(self, what: str, response: httpx.Response, done: str = "") -> StateError:
        hint = (
            " Check username and the password (CRMFORM_BACKEND_PASSWORD)."
            if response.status_code in (401, 403)
            else ""
        )
        return StateError(
            f"The server refused to {what} the state {self.location}: HTTP "
            f"{response.status_code} {_short(response.text)}.{done}{hint}"
        )


def _md5(data: bytes) -> str:
    # The protocol's integrity check, not security.
    return base64.b64encode(hashlib.md5(data).digest()).decode()


def _with_query(url: str, **params: str) -> str:
    parts = urlsplit(url)
    query = "&".join(q for q in (parts.query, urlencode(params)) if q)
    return urlunsplit((parts.scheme, parts.netloc, parts.path, query, parts.fragment))


def _json(doc: dict[str, str]) -> bytes:
    return json.dumps(doc).encode()


def _short(text: str, limit: int = 200) -> str:
    """Server text for our sentences: one line, printable, cut short."""
    flat = " ".join(text.split())
    flat = "".join(c if c.isprintable() else "?" for c in flat)
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


# A 409/423 whose body names nobody (a server that answers without the LockInfo).
_UNKNOWN_HOLDER = LockInfo("(unknown)", "(not reported by the server)", "(unknown)", "", 0, "")

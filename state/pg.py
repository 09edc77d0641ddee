"""The PostgreSQL state backend (psycopg 3, the optional extra `crmform[pg]`).

Each state is one row of `<schema>.states`: its name, lineage, serial and the state
document (document.py: the same bytes as the local file, as text). A write is a
compare-and-swap: inside one transaction the row is read `FOR UPDATE`, checked, and
replaced by an UPDATE whose WHERE clause repeats the serial and lineage it was checked
against (or inserted with ON CONFLICT DO NOTHING for a first write), so two writers from
the same serial can never both succeed.

The lock is `pg_try_advisory_lock` on a 64-bit key hashed from the schema and state name
(not a row id, which would be shared between states and needs a row first: Terraform's
hashicorp/terraform#33217), taken on a connection of its own that is opened for the lock
and closed with it, never pooled. PostgreSQL releases it when that session ends, so a
holder that crashes, is killed or loses its network frees the lock by itself. Beside it,
a row of `<schema>.locks` records the holder's LockInfo and session pid, so whoever finds
the lock taken sees who holds it, and force-unlock can end a hung holder's session
(`pg_terminate_backend`, which needs the same role or pg_signal_backend).

The schema and tables are created on first use with IF NOT EXISTS and no global lock
(hashicorp/terraform#22833: one lock for creation serialised every state); two sessions
creating them at once can make one fail with a unique violation, which is caught and the
creation retried.

psycopg is imported here only, so crmform runs without it unless this backend is chosen;
messages name the server without the password of the connection string.
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager, suppress
from typing import TYPE_CHECKING, Any

from crmform.engine.errors import StateError, StateLockedError, StateWriteUncertainError
from crmform.engine.model import STATE_VERSION, State
from crmform.engine.ports import LockInfo
from crmform.state.cas import check_expected, moved_error
from crmform.state.document import (
    Document,
    NewerVersion,
    UnstorableState,
    UnusableDocument,
    decode,
    encode,
    next_state,
    remember_encoded,
)
from crmform.state.holder import alive_here, new_lock_info
from crmform.state.lockfile import holder_running_message

if TYPE_CHECKING:
    import psycopg

__all__ = ["PgState", "advisory_key", "safe_conninfo"]

_POLL_SECONDS = 0.1
_CONNECT_TIMEOUT = 10
_IDENT = "abcdefghijklmnopqrstuvwxyz0123456789_"


def advisory_key(schema: str, name: str) -> int:
    """The signed 64-bit advisory lock key of state `name` in `schema`."""
    digest = hashlib.sha256(f"crmform\0{schema}\0{name}".encode()).digest()
    return int.from_bytes(digest[:8], "big", signed=True)


def safe_conninfo(conn_str: str) -> str:
    """Where `conn_str` points, for messages: host, port, database and user, never the
    password or other settings ("host=db port=5432 dbname=crm user=alice")."""
    from psycopg.conninfo import conninfo_to_dict

    try:
        params = conninfo_to_dict(conn_str)
    except Exception:  # a malformed string must never be echoed
        return "(a connection string crmform cannot parse)"
    shown = [f"{k}={params[k]}" for k in ("host", "port", "dbname", "user") if params.get(k)]
    return " ".join(shown) or "(default server)"


class PgState:
    """State `name` in the PostgreSQL database of `conn_str`, tables in `schema`."""

    def __init__(
        self,
        conn_str: str,
        *,
        name: str = "default",
        schema: str = "crmform",
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        if not schema or any(c not in _IDENT for c in schema) or schema[0].isdigit():
            raise StateError(
                f"The PostgreSQL schema name {schema!r} is not usable: use lower-case "
                "letters, digits and underscores, starting with a letter."
            )
        if not name:
            raise StateError("The PostgreSQL state name is empty; give the state a name.")
        import psycopg  # noqa: F401 - fail here, with the hint below, when it is missing

        self._conn_str = conn_str
        self._password = _password_of(conn_str)
        self.name = name
        self.schema = schema
        self._key = advisory_key(schema, name)
        self._clock = clock
        self._sleep = sleep
        self._conn: psycopg.Connection[Any] | None = None
        self._schema_ready = False
        self._location = f"{name} (PostgreSQL {safe_conninfo(conn_str)}, schema {schema})"

    @property
    def location(self) -> str:
        return self._location

    def close(self) -> None:
        if self._conn is not None:
            with suppress(Exception):
                self._conn.close()
            self._conn = None

    def delete(self) -> None:
        """Remove this state's rows (`crmform backend check` removes its scratch state)."""
        with self._session("delete") as conn:
            conn.execute(f"DELETE FROM {self.schema}.states WHERE name = %s", (self.name,))
            conn.execute(f"DELETE FROM {self.schema}.locks WHERE name = %s", (self.name,))
            conn.commit()

    # -- read / write -------------------------------------------------------------------

    def read(self) -> State:
        with self._session("read") as conn:
            row = conn.execute(
                f"SELECT document FROM {self.schema}.states WHERE name = %s", (self.name,)
            ).fetchone()
            conn.commit()
        return self._document_of(row[0]).state if row is not None else State()

    def write(self, state: State) -> State:
        with self._session("write") as conn:
            try:
                written = self._write_in(conn, state)
            except BaseException:
                with suppress(Exception):
                    conn.rollback()
                raise
            try:
                conn.commit()
            except Exception as exc:
                # The COMMIT may have reached the server: its outcome is unknown.
                self.close()
                raise StateWriteUncertainError(
                    f"The state {self.location} may or may not have been written: the "
                    f"connection to PostgreSQL failed while committing "
                    f"({self._scrub(str(exc)).strip()}). Read it again (`crmform state pull`) "
                    "to see which, then run the command again."
                ) from exc
        return written

    def _write_in(self, conn: psycopg.Connection[Any], state: State) -> State:
        table = f"{self.schema}.states"
        row = conn.execute(
            f"SELECT document FROM {table} WHERE name = %s FOR UPDATE", (self.name,)
        ).fetchone()
        stored = self._document_of(row[0]) if row is not None else None
        check_expected(self.location, stored.state if stored is not None else None, state)
        if (
            row is not None and stored is not None
        ):  # the unchanged objects' lines, not re-encoded (as local does)
            remember_encoded(row[0].encode("utf-8"), stored.state)
        try:
            written = next_state(state)
            data = encode(written)
        except UnstorableState as exc:
            raise StateError(exc.message(self.location)) from exc
        text = data.decode("utf-8")
        if stored is None:
            cursor = conn.execute(
                f"INSERT INTO {table} (name, lineage, serial, document) VALUES (%s, %s, %s, %s)"
                " ON CONFLICT (name) DO NOTHING",
                (self.name, written.lineage, written.serial, text),
            )
        else:
            cursor = conn.execute(
                f"UPDATE {table} SET lineage = %s, serial = %s, document = %s, "
                "updated_at = now() WHERE name = %s AND serial = %s AND lineage = %s",
                (written.lineage, written.serial, text, self.name, state.serial, state.lineage),
            )
        if cursor.rowcount != 1:
            conn.rollback()
            now = conn.execute(
                f"SELECT serial FROM {table} WHERE name = %s", (self.name,)
            ).fetchone()
            raise moved_error(self.location, now[0] if now else 0, state.serial)
        return written

    def _document_of(self, text: str) -> Document:
        try:
            return decode(text.encode("utf-8"))
        except NewerVersion as exc:
            raise StateError(
                f"The state {self.location} was written by a newer crmform (state version "
                f"{exc.version}; this crmform reads version {STATE_VERSION}). crmform did not "
                "modify it; upgrade crmform to use this state."
            ) from exc
        except UnusableDocument as exc:
            raise StateError(
                f"The state {self.location} {exc.args[0]}. crmform did not modify it; fix "
                f"the document column of its row in {self.schema}.states, or restore it from "
                "a backup, then run the command again."
            ) from exc

    # -- lock ---------------------------------------------------------------------------

    def lock(self, operation: str, timeout: float = 0.0) -> AbstractContextManager[LockInfo]:
        return self._hold(operation, timeout)

    @contextmanager
    def _hold(self, operation: str, timeout: float) -> Iterator[LockInfo]:
        self._ensure_schema()
        info = new_lock_info(operation)
        conn = self._connect("lock")  # the session whose end frees the lock: never shared
        try:
            self._acquire(conn, info, timeout)
        except BaseException:
            with suppress(Exception):
                conn.close()
            raise
        try:
            yield info
        finally:
            # Closing the session frees the advisory lock whatever else fails here.
            with suppress(Exception):
                conn.execute(
                    f"DELETE FROM {self.schema}.locks WHERE name = %s AND id = %s",
                    (self.name, info.id),
                )
                conn.execute("SELECT pg_advisory_unlock(%s)", (self._key,))
            with suppress(Exception):
                conn.close()

    def _acquire(self, conn: psycopg.Connection[Any], info: LockInfo, timeout: float) -> None:
        deadline = self._clock() + timeout
        grace_used = False
        while True:
            try:
                taken = _scalar(conn.execute("SELECT pg_try_advisory_lock(%s)", (self._key,)))
                if taken:
                    conn.execute(
                        f"INSERT INTO {self.schema}.locks (name, id, info, backend_pid) "
                        "VALUES (%s, %s, %s, pg_backend_pid()) ON CONFLICT (name) DO UPDATE "
                        "SET id = EXCLUDED.id, info = EXCLUDED.info, "
                        "backend_pid = EXCLUDED.backend_pid, created = now()",
                        (self.name, info.id, json.dumps(_info_doc(info))),
                    )
                    return
                holder = self._holder(conn)
            except StateError:
                raise
            except Exception as exc:
                raise self._unreachable("lock", exc) from exc
            if self._clock() >= deadline:
                if holder is None and not grace_used:
                    grace_used = True  # a holder records itself just after taking the lock
                else:
                    raise self._locked_error(holder, timeout)
            self._sleep(_POLL_SECONDS)

    def _holder(self, conn: psycopg.Connection[Any]) -> LockInfo | None:
        """The recorded holder, if its session holds the advisory lock right now."""
        row = conn.execute(
            f"SELECT info, backend_pid FROM {self.schema}.locks WHERE name = %s", (self.name,)
        ).fetchone()
        if row is None or not self._session_holds(conn, row[1]):
            return None
        return _info_from(row[0])

    def _session_holds(self, conn: psycopg.Connection[Any], pid: int | None) -> bool:
        unsigned = self._key & 0xFFFFFFFFFFFFFFFF
        held = _scalar(
            conn.execute(
                "SELECT EXISTS (SELECT 1 FROM pg_locks WHERE locktype = 'advisory' AND granted "
                "AND classid = %s AND objid = %s AND objsubid = 1 "
                "AND database = (SELECT oid FROM pg_database WHERE datname = current_database()) "
                "AND (%s::int IS NULL OR pid = %s::int))",
                (unsigned >> 32, unsigned & 0xFFFFFFFF, pid, pid),
            )
        )
        return bool(held)

    def _locked_error(self, holder: LockInfo | None, timeout: float) -> StateLockedError:
        state = f"The state {self.location} is " + (
            f"still locked after waiting {timeout:g} s" if timeout > 0 else "locked"
        )
        if holder is None:
            return StateLockedError(
                f"{state} by a session that has not recorded who it is (it may be taking the "
                "lock right now). Run the command again in a moment."
            )
        return StateLockedError(
            f"{state}: {holder.describe()}. Wait for it to finish: PostgreSQL releases the "
            "lock by itself when that process ends, even if it crashed. If it hangs, run "
            f"`crmform force-unlock {holder.id}`."
        )

    def force_unlock(self, lock_id: str, *, force: bool = False) -> LockInfo:
        self._ensure_schema()
        with self._session("force-unlock") as conn:
            row = conn.execute(
                f"SELECT info, backend_pid FROM {self.schema}.locks WHERE name = %s",
                (self.name,),
            ).fetchone()
            held = self._session_holds(conn, None)
            conn.commit()
            if row is None or not self._session_holds(conn, row[1]):
                conn.commit()
                if held:
                    raise StateError(
                        f"The state {self.location} is locked by a session that recorded no "
                        f"holder, so crmform cannot check that it is lock {lock_id}. Run the "
                        "command again in a moment."
                    )
                raise StateError(f"No lock is held on {self.location}; there is nothing to unlock.")
            holder, pid = _info_from(row[0]), int(row[1])
            if holder.id != lock_id:
                raise StateError(
                    f"Refusing to unlock {self.location}: the lock held is {holder.id}, not "
                    f"{lock_id} ({holder.describe()}). If that process is gone, run "
                    f"`crmform force-unlock {holder.id}`."
                )
            if not force and alive_here(holder):
                raise StateError(holder_running_message(self.location, holder))
            try:
                conn.execute("SELECT pg_terminate_backend(%s)", (pid,))
            except Exception as exc:
                conn.rollback()
                raise StateError(
                    f"PostgreSQL refused to end the session (pid {pid}) that holds the lock "
                    f"of {self.location}: {self._scrub(str(exc)).strip()}. Ask a database "
                    f"administrator to run `SELECT pg_terminate_backend({pid})`."
                ) from exc
            conn.commit()
            deadline = self._clock() + 5
            while self._session_holds(conn, pid) and self._clock() < deadline:
                self._sleep(_POLL_SECONDS)
            conn.execute(
                f"DELETE FROM {self.schema}.locks WHERE name = %s AND id = %s",
                (self.name, lock_id),
            )
            conn.commit()
        return holder

    # -- connections and schema ---------------------------------------------------------

    @contextmanager
    def _session(self, what: str) -> Iterator[psycopg.Connection[Any]]:
        """This handle's connection for reads and writes, schema ready; errors in words."""
        self._ensure_schema()
        if self._conn is None or self._conn.closed:
            self._conn = self._connect(what, autocommit=False)
        try:
            yield self._conn
        except StateError:
            raise
        except Exception as exc:
            self.close()  # a broken session is not reused
            raise self._unreachable(what, exc) from exc

    def _connect(self, what: str, *, autocommit: bool = True) -> psycopg.Connection[Any]:
        import psycopg
        from psycopg.conninfo import conninfo_to_dict

        extra: dict[str, Any] = {}
        with suppress(Exception):
            if "connect_timeout" not in conninfo_to_dict(self._conn_str):
                extra["connect_timeout"] = _CONNECT_TIMEOUT
        try:
            return psycopg.connect(self._conn_str, autocommit=autocommit, **extra)
        except Exception as exc:
            raise self._unreachable(what, exc) from exc

    def _ensure_schema(self) -> None:
        if self._schema_ready:
            return
        import psycopg

        statements = (
            f"CREATE SCHEMA IF NOT EXISTS {self.schema}",
            f"CREATE TABLE IF NOT EXISTS {self.schema}.states (name text PRIMARY KEY, "
            "lineage text NOT NULL, serial bigint NOT NULL, document text NOT NULL, "
            "updated_at timestamptz NOT NULL DEFAULT now())",
            f"CREATE TABLE IF NOT EXISTS {self.schema}.locks (name text PRIMARY KEY, "
            "id text NOT NULL, info jsonb NOT NULL, backend_pid integer NOT NULL, "
            "created timestamptz NOT NULL DEFAULT now())",
        )
        conn = self._connect("prepare")
        try:
            for statement in statements:
                for attempt in range(3):
                    try:
                        conn.execute(statement)
                        break
                    except (
                        psycopg.errors.UniqueViolation,
                        psycopg.errors.DuplicateObject,
                        psycopg.errors.DuplicateSchema,
                        psycopg.errors.DuplicateTable,
                    ):
                        # Another session created it between our check and our insert.
                        if attempt == 2:
                            raise
                        self._sleep(_POLL_SECONDS)
        except Exception as exc:
            raise StateError(
                f"crmform could not create its tables for {self.location} "
                f"({self._scrub(str(exc)).strip()}). Check that the user may create a schema "
                f"and tables in this database, or have an administrator create schema "
                f"{self.schema} for it, then run the command again."
            ) from exc
        finally:
            with suppress(Exception):
                conn.close()
        self._schema_ready = True

    def _unreachable(self, what: str, exc: BaseException) -> StateError:
        done = " Nothing was written." if what == "write" else ""
        return StateError(
            f"crmform could not {what} the state {self.location}: PostgreSQL said "
            f"{self._scrub(str(exc)).strip() or type(exc).__name__}.{done} Check the "
            "connection string and that the server is reachable, then run the command again."
        )

    def _scrub(self, text: str) -> str:
        """A driver's message on one line, without the password, for our own sentences."""
        text = " ".join(text.split()).rstrip(".")
        return text.replace(self._password, "***") if self._password else text


def _scalar(cursor: psycopg.Cursor[Any]) -> object:
    row = cursor.fetchone()
    return row[0] if row is not None else None


def _password_of(conn_str: str) -> str:
    from psycopg.conninfo import conninfo_to_dict

    try:
        return str(conninfo_to_dict(conn_str).get("password") or "")
    except Exception:
        return ""


def _info_doc(info: LockInfo) -> dict[str, object]:
    return {
        "id": info.id,
        "operation": info.operation,
        "who": info.who,
        "host": info.host,
        "pid": info.pid,
        "created": info.created,
    }


def _info_from(doc: object) -> LockInfo:
    d = doc if isinstance(doc, dict) else {}
    pid = d.get("pid")
    return LockInfo(
        id=str(d.get("id", "")),
        operation=str(d.get("operation", "")),
        who=str(d.get("who", "")),
        host=str(d.get("host", "")),
        pid=pid if isinstance(pid, int) and not isinstance(pid, bool) else 0,
        created=str(d.get("created", "")),
    )

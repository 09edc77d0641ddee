"""The PostgreSQL backend against a real server (pg_server.py), beyond the conformance
suite: locks freed by PostgreSQL when a holder is killed, concurrent writers from other
processes, first use by many sessions at once, network failures during a write, and
connection strings whose password never shows."""

from __future__ import annotations

import json
import select
import signal
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Iterator

import pytest
from pg_server import PgServer
from tcp_proxy import TcpProxy

from crmform.engine.errors import StateError, StateLockedError
from crmform.engine.model import State
from crmform.state.conformance import sample_objects

psycopg = pytest.importorskip("psycopg")

from crmform.state.pg import PgState, advisory_key, safe_conninfo  # noqa: E402


@pytest.fixture
def name() -> str:
    return f"test-{uuid.uuid4()}"


@pytest.fixture
def handles(pg_server: PgServer, name: str) -> Iterator[list[PgState]]:
    made: list[PgState] = []
    yield made
    for handle in made:
        handle.close()


def handle(pg_server: PgServer, name: str, made: list[PgState], **kwargs) -> PgState:
    made.append(PgState(kwargs.pop("conn_str", pg_server.conn_str()), name=name, **kwargs))
    return made[-1]


HOLDER = """
import sys, time
from crmform.state.pg import PgState

with PgState(sys.argv[1], name=sys.argv[2]).lock("crmform apply") as info:
    print(info.id, flush=True)
    time.sleep(60)
"""


def start_holder(pg_server: PgServer, name: str) -> tuple[subprocess.Popen[str], str]:
    child = subprocess.Popen(
        [sys.executable, "-c", HOLDER, pg_server.conn_str(), name],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert child.stdout is not None
    ready, _, _ = select.select([child.stdout], [], [], 20)
    assert ready, "the holder did not take the lock within 20 s"
    return child, child.stdout.readline().strip()


def stop(child: subprocess.Popen[str]) -> None:
    if child.poll() is None:
        child.kill()
    child.wait(timeout=20)
    if child.stdout is not None:
        child.stdout.close()


def test_a_holder_killed_with_sigkill_loses_its_lock_to_postgresql(pg_server, name, handles):
    child, lock_id = start_holder(pg_server, name)
    try:
        with pytest.raises(StateLockedError) as caught:
            handle(pg_server, name, handles).lock("crmform plan").__enter__()
        assert f"lock {lock_id} held by " in str(caught.value)
        assert "PostgreSQL releases the lock by itself when that process ends" in str(caught.value)

        child.send_signal(signal.SIGKILL)
        child.wait(timeout=20)
        started = time.monotonic()
        with handle(pg_server, name, handles).lock("crmform apply", timeout=10) as info:
            waited = time.monotonic() - started
            assert info.id != lock_id
    finally:
        stop(child)
    assert waited < 5


def test_force_unlock_ends_a_hung_holders_session(pg_server, name, handles):
    child, lock_id = start_holder(pg_server, name)
    try:
        with pytest.raises(StateError, match="that process is still running"):
            handle(pg_server, name, handles).force_unlock(lock_id)

        holder = handle(pg_server, name, handles).force_unlock(lock_id, force=True)

        assert holder.id == lock_id
        assert holder.pid == child.pid
        with handle(pg_server, name, handles).lock("crmform apply") as info:
            assert info.id != lock_id
    finally:
        stop(child)


def test_force_unlock_of_a_holder_on_another_host_needs_no_force(pg_server, name, handles):
    with handle(pg_server, name, handles).lock("crmform apply") as info:
        with psycopg.connect(pg_server.conn_str(), autocommit=True) as conn:
            conn.execute(
                'UPDATE crmform.locks SET info = info || \'{"host": "ci-7"}\' WHERE name = %s',
                (name,),
            )
        assert handle(pg_server, name, handles).force_unlock(info.id).host == "ci-7"
        with handle(pg_server, name, handles).lock("crmform plan"):
            pass


WRITER = """
import sys
from crmform.engine.errors import StateError
from crmform.engine.model import State
from crmform.state.pg import PgState

backend = PgState(sys.argv[1], name=sys.argv[2])
seen = backend.read()
print("ready", flush=True)
sys.stdin.readline()
try:
    backend.write(seen)
except StateError as exc:
    print(exc, flush=True)
    sys.exit(3)
"""


@pytest.mark.slow
def test_of_eight_processes_writing_from_one_serial_exactly_one_wins(pg_server, name, handles):
    base = handle(pg_server, name, handles).write(State(objects=sample_objects()))
    children = [
        subprocess.Popen(
            [sys.executable, "-c", WRITER, pg_server.conn_str(), name],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        for _ in range(8)
    ]
    try:
        for child in children:
            assert child.stdout is not None
            assert child.stdout.readline() == "ready\n"
        for child in children:  # as close to one moment as pipes allow
            assert child.stdin is not None
            child.stdin.write("go\n")
            child.stdin.flush()
        codes = [child.wait(timeout=30) for child in children]
        outputs = [child.stdout.read() for child in children if child.stdout is not None]
    finally:
        for child in children:
            if child.poll() is None:
                child.kill()
            child.wait(timeout=20)
            for stream in (child.stdin, child.stdout):
                if stream is not None:
                    stream.close()

    assert sorted(codes) == [0] + [3] * 7
    assert sum("changed since it was read (serial 2, expected 1)" in o for o in outputs) == 7
    assert handle(pg_server, name, handles).read().serial == base.serial + 1


def test_many_sessions_creating_the_tables_at_once_all_succeed(pg_server, handles):
    schema = f"s{uuid.uuid4().hex[:12]}"
    barrier, errors = threading.Barrier(6), []
    backends = [PgState(pg_server.conn_str(), name=f"n{i}", schema=schema) for i in range(6)]
    handles.extend(backends)

    def first_use(backend: PgState) -> None:
        barrier.wait(10)
        try:
            backend.write(State())
        except Exception as exc:  # collected, asserted below
            errors.append(exc)

    threads = [threading.Thread(target=first_use, args=(b,)) for b in backends]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)

    assert errors == []
    assert [b.read().serial for b in backends] == [1] * 6


@pytest.mark.parametrize("cut", ["before", "after"])
def test_a_connection_cut_at_commit_never_claims_success(pg_server, name, handles, cut):
    base = handle(pg_server, name, handles).write(State())
    proxy = TcpProxy(pg_server.port)
    try:
        conn_str = f"host=127.0.0.1 port={proxy.port} user=postgres dbname=postgres"
        backend = handle(pg_server, name, handles, conn_str=conn_str)
        assert backend.read() == base
        proxy.cut_on(b"COMMIT", cut)

        with pytest.raises(StateError) as caught:
            backend.write(base.with_object(sample_objects()[0]))
    finally:
        proxy.close()

    assert proxy.cuts == 1
    assert str(caught.value).startswith(f"The state {backend.location} may or may not have")
    assert "Read it again (`crmform state pull`) to see which" in str(caught.value)
    stored = handle(pg_server, name, handles).read()
    if cut == "before":
        assert stored == base
    else:
        assert stored.serial == base.serial + 1
        assert stored.objects == sample_objects()[:1]


def test_a_connection_cut_before_the_write_says_nothing_was_written(pg_server, name, handles):
    base = handle(pg_server, name, handles).write(State())
    proxy = TcpProxy(pg_server.port)
    try:
        conn_str = f"host=127.0.0.1 port={proxy.port} user=postgres dbname=postgres"
        backend = handle(pg_server, name, handles, conn_str=conn_str)
        backend.read()
        proxy.cut_on(b"FOR UPDATE", "before")
        with pytest.raises(StateError, match=r"PostgreSQL said .*\. Nothing was written\."):
            backend.write(base)
    finally:
        proxy.close()
    assert handle(pg_server, name, handles).read() == base


def test_the_password_of_the_connection_string_is_never_shown(handles):
    conn_str = "host=127.0.0.1 port=1 user=alice password='s3cr3t-\\'pa ss' connect_timeout=2"
    backend = PgState(conn_str, name="x")
    handles.append(backend)

    with pytest.raises(StateError) as caught:
        backend.read()

    assert "s3cr3t" not in str(caught.value)
    assert "s3cr3t" not in backend.location
    assert backend.location == "x (PostgreSQL host=127.0.0.1 port=1 user=alice, schema crmform)"
    assert safe_conninfo("postgresql://alice:s3cr3t@db/crm") == "host=db dbname=crm user=alice"


def test_the_stored_row_holds_the_local_files_document(pg_server, name, handles):
    from crmform.state.document import encode

    stored = handle(pg_server, name, handles).write(State(objects=sample_objects()))
    with psycopg.connect(pg_server.conn_str()) as conn:
        row = conn.execute(
            "SELECT lineage, serial, document FROM crmform.states WHERE name = %s", (name,)
        ).fetchone()

    assert row == (stored.lineage, stored.serial, encode(stored).decode())
    assert json.loads(row[2])["serial"] == stored.serial


def test_a_corrupt_row_is_reported_and_left_alone(pg_server, name, handles):
    handle(pg_server, name, handles).write(State())
    with psycopg.connect(pg_server.conn_str(), autocommit=True) as conn:
        conn.execute(
            'UPDATE crmform.states SET document = \'{"version": 1, "version": 1}\' WHERE name = %s',
            (name,),
        )
    backend = handle(pg_server, name, handles)

    with pytest.raises(StateError) as caught:
        backend.write(State(serial=1))

    assert str(caught.value) == (
        f'The state {backend.location} has the key "version" twice in one object. crmform '
        "did not modify it; fix the document column of its row in crmform.states, or restore "
        "it from a backup, then run the command again."
    )


def test_advisory_keys_differ_by_schema_and_name_and_fit_a_bigint():
    keys = {advisory_key(s, n) for s in ("crmform", "other") for n in ("default", "prod")}

    assert len(keys) == 4
    assert all(-(2**63) <= k < 2**63 for k in keys)

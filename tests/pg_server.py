"""A throwaway PostgreSQL server for the tests: initdb into a temporary folder, trust
authentication, listening on 127.0.0.1 at a free port with its unix socket in that folder,
stopped (and the folder removed) at the end of the session.

As root, the server binaries run as the `postgres` user (PostgreSQL refuses to run as
root), switched to by subprocess itself (`user=`/`group=`), so no su/runuser process sits
between the tests and the server's signals. Binaries are looked up in
/usr/lib/postgresql/<version>/bin, newest first (the CI image has 15; `.ci/run` installs it
when missing). Without them the tests that need the
server are skipped, except under CI (`CI` set), where a missing server fails the run.
"""

from __future__ import annotations

import contextlib
import os
import pwd
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

START_SECONDS = 30


@dataclass(frozen=True, slots=True)
class PgServer:
    port: int
    folder: Path

    def conn_str(self, dbname: str = "postgres") -> str:
        return f"host=127.0.0.1 port={self.port} user=postgres dbname={dbname}"


def find_bindir() -> Path | None:
    root = Path("/usr/lib/postgresql")
    candidates = sorted(
        (p / "bin" for p in root.glob("*") if (p / "bin" / "postgres").exists()),
        key=lambda p: int(p.parent.name) if p.parent.name.isdigit() else 0,
        reverse=True,
    )
    return candidates[0] if candidates else None


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _as_server_user() -> dict[str, object]:
    """subprocess arguments that run a binary as the `postgres` user when we are root."""
    if os.geteuid() != 0:
        return {}
    try:
        entry = pwd.getpwnam("postgres")
    except KeyError:
        pytest.fail("running as root, but there is no `postgres` user to run PostgreSQL as")
    return {"user": entry.pw_uid, "group": entry.pw_gid, "extra_groups": []}


@contextlib.contextmanager
def running_server() -> Iterator[PgServer]:
    bindir = find_bindir()
    if bindir is None:
        reason = "no PostgreSQL server binaries under /usr/lib/postgresql/*/bin"
        if os.environ.get("CI"):
            pytest.fail(f"{reason}, and CI is set: .ci/run must install postgresql")
        pytest.skip(f"{reason} (install postgresql to run these tests)")
    as_user = _as_server_user()
    folder = Path(tempfile.mkdtemp(prefix="crmform-pg-"))
    data, sockets = folder / "data", folder / "sockets"
    sockets.mkdir()
    if as_user:
        for path in (folder, sockets):
            os.chown(path, int(str(as_user["user"])), int(str(as_user["group"])))
    server: subprocess.Popen[bytes] | None = None
    try:
        subprocess.run(
            [
                str(bindir / "initdb"),
                "-D",
                str(data),
                "-A",
                "trust",
                "-U",
                "postgres",
                "-E",
                "UTF8",
                "--locale=C",
                "--no-sync",
            ],
            check=True,
            capture_output=True,
            timeout=120,
            cwd=folder,
            **as_user,  # type: ignore[call-overload]
        )
        port = _free_port()
        server = subprocess.Popen(  # type: ignore[call-overload]
            [
                str(bindir / "postgres"),
                "-D",
                str(data),
                "-p",
                str(port),
                "-c",
                "listen_addresses=127.0.0.1",
                "-c",
                f"unix_socket_directories={sockets}",
                "-c",
                "fsync=off",
                "-c",
                "synchronous_commit=off",
                "-c",
                "full_page_writes=off",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            cwd=folder,
            **as_user,
        )
        _wait_ready(port, server)
        yield PgServer(port, folder)
    finally:
        if server is not None:
            _stop(server)
        shutil.rmtree(folder, ignore_errors=True)


def _wait_ready(port: int, server: subprocess.Popen[bytes]) -> None:
    import psycopg

    deadline = time.monotonic() + START_SECONDS
    while True:
        if server.poll() is not None:
            pytest.fail(f"PostgreSQL exited with {server.returncode} while starting")
        try:
            psycopg.connect(
                f"host=127.0.0.1 port={port} user=postgres dbname=postgres", connect_timeout=2
            ).close()
            return
        except psycopg.OperationalError:
            if time.monotonic() > deadline:
                pytest.fail(f"PostgreSQL did not accept connections within {START_SECONDS} s")
            time.sleep(0.05)


def _stop(server: subprocess.Popen[bytes]) -> None:
    # SIGINT is PostgreSQL's "fast" shutdown.
    with contextlib.suppress(ProcessLookupError):
        server.send_signal(signal.SIGINT)
    try:
        server.wait(timeout=20)
    except subprocess.TimeoutExpired:
        server.kill()
        server.wait(timeout=20)

"""Gong's emulator served for real on 127.0.0.1 (a threaded WSGI server, as `crmform
emulator` serves it), for tests that run crmform as separate processes and interfere with
the traffic: `Stalling` applies a POST and then holds its answer back until released, so a
test can SIGKILL an apply whose upload Gong has applied, or keep its state lock held while
other processes try to take it.

`serve()` yields a `Served` (the wrapper, the emulator and the base URL) and stops the
server afterwards; `apply_process` starts `python -m crmform apply` against it; `run_cli`
runs the CLI in-process with the same environment (cheaper than a process where a test
only needs its result).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from socketserver import ThreadingMixIn
from typing import IO
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

from click.testing import CliRunner
from conftest import CliResult
from emulated import ENV, ID, field

from crmform.cli import run
from crmform.providers.gong.emulator import GongEmulator
from crmform.runtime import Runtime

CRMFORM = [sys.executable, "-m", "crmform"]
LIMIT = 60  # seconds: the bound of every wait on a server, a process or an event


class _Quiet(WSGIRequestHandler):
    def log_message(self, format: str, *args: object) -> None:
        pass


class _Threaded(ThreadingMixIn, WSGIServer):
    daemon_threads = True


class Stalling:
    """While `enabled`, applies every POST and then holds its answer until `release` is set
    (at most LIMIT seconds); `stalled` is set when the first one is held. Once released,
    later POSTs are answered at once."""

    def __init__(self, app: GongEmulator) -> None:
        self.app = app
        self.stalled = threading.Event()
        self.release = threading.Event()
        self.enabled = False

    def __call__(self, environ, start_response):
        answer = self.app(environ, start_response)
        if self.enabled and environ["REQUEST_METHOD"] == "POST":
            self.stalled.set()
            self.release.wait(LIMIT)
        return answer


@dataclass(frozen=True)
class Served:
    app: Stalling
    emulator: GongEmulator
    url: str

    def env(self, extra: Mapping[str, str] | None = None) -> dict[str, str]:
        """What a crmform run needs to talk to this emulator (plus `extra`), without the
        test process's own environment."""
        return {**ENV, "GONG_BASE_URL": self.url, "GONG_RATE_LIMIT": "1000", **(extra or {})}

    def fields(self, object_type: str = "ACCOUNT") -> list[str]:
        """Gong's live field names of `object_type`, in creation order."""
        return [f["uniqueName"] for f in self.emulator.schema(ID, object_type)]

    def posts(self) -> list[str]:
        """The object type of every POST Gong received, in order."""
        return [r.query.get("objectType", "") for r in self.emulator.requests if r.method == "POST"]


@contextmanager
def serve() -> Iterator[Served]:
    emulator = GongEmulator(access_key=ENV["GONG_ACCESS_KEY"], secret=ENV["GONG_ACCESS_KEY_SECRET"])
    app = Stalling(emulator)
    server = make_server("127.0.0.1", 0, app, server_class=_Threaded, handler_class=_Quiet)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05})
    thread.start()
    try:
        yield Served(app, emulator, f"http://127.0.0.1:{server.server_address[1]}")
    finally:
        app.release.set()
        server.shutdown()
        server.server_close()
        thread.join(LIMIT)


def write_schema(directory: Path, object_type: str, names: list[str]) -> None:
    """The schema file of `object_type` in `directory`: STRING fields `names`."""
    doc = {"integrationId": ID, "objectType": object_type, "fields": [field(n) for n in names]}
    (directory / f"{object_type.lower()}.json").write_text(json.dumps(doc), encoding="utf-8")


def apply_process(
    cwd: Path,
    env: Mapping[str, str],
    *flags: str,
    stdout: int | IO[str] = subprocess.PIPE,
    stderr: int | IO[str] = subprocess.PIPE,
) -> subprocess.Popen[str]:
    """`crmform apply schema --auto-approve FLAGS` in `cwd`, as a process of its own."""
    return subprocess.Popen(
        [*CRMFORM, "apply", "schema", "--auto-approve", *flags],
        cwd=cwd,
        env={**os.environ, **env},
        stdout=stdout,
        stderr=stderr,
        text=True,
    )


def run_cli(env: Mapping[str, str], *args: str) -> CliResult:
    """`crmform ARGS` in-process, in the working directory, with `env` and the real clock
    and provider (the emulator at env's GONG_BASE_URL)."""
    runtime = Runtime(env=dict(env), interactive=False, tty=False)
    runner = CliRunner()
    with runner.isolation() as (out, err, _):
        code = run(list(args), runtime)
    return CliResult(code, out.getvalue().decode(), err.getvalue().decode())

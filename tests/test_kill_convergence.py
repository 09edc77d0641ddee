"""`kill -9` of apply while its upload is in flight, seeded and bounded (issue 11 item 1).

The emulator runs in a thread on 127.0.0.1 behind a WSGI wrapper that, for chosen POSTs,
applies the upload and then holds the answer back. crmform runs as a real subprocess and is
killed with SIGKILL while it waits: no handler runs, nothing is cleaned up. A second apply
must then record the upload Gong did apply (from the pending record written before the POST)
and converge: Gong has the files' fields, the state has Gong's, and planning shows nothing.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from socketserver import ThreadingMixIn
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

import pytest
from emulated import ENV, ID, field

from crmform.providers.gong.emulator import GongEmulator

CRMFORM = [sys.executable, "-m", "crmform"]
LIMIT = 60


class _Quiet(WSGIRequestHandler):
    def log_message(self, format: str, *args: object) -> None:
        pass


class _Threaded(ThreadingMixIn, WSGIServer):
    daemon_threads = True


class Stalling:
    """Applies every POST, then holds its answer until released (at most LIMIT seconds)."""

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


@pytest.fixture
def served(tmp_path: Path) -> Iterator[tuple[Stalling, GongEmulator, str]]:
    emulator = GongEmulator(access_key=ENV["GONG_ACCESS_KEY"], secret=ENV["GONG_ACCESS_KEY_SECRET"])
    app = Stalling(emulator)
    server = make_server("127.0.0.1", 0, app, server_class=_Threaded, handler_class=_Quiet)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05})
    thread.start()
    try:
        yield app, emulator, f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        app.release.set()
        server.shutdown()
        server.server_close()
        thread.join(LIMIT)


def _write(directory: Path, names: list[str]) -> None:
    doc = {"integrationId": ID, "objectType": "ACCOUNT", "fields": [field(n) for n in names]}
    (directory / "account.json").write_text(json.dumps(doc), encoding="utf-8")


def _apply(cwd: Path, base_url: str) -> subprocess.Popen[str]:
    env = {**os.environ, **ENV, "GONG_BASE_URL": base_url, "GONG_RATE_LIMIT": "1000"}
    return subprocess.Popen(
        [*CRMFORM, "apply", "schema", "--auto-approve", "--allow-destroy"],
        cwd=cwd,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


@pytest.mark.slow
@pytest.mark.parametrize(
    ("before", "after"),
    [(["a", "b"], ["a"]), (["a"], ["a", "c"]), (["a", "b"], ["c"])],
    ids=["delete", "create", "delete and create"],
)
def test_a_kill_during_an_upload_is_settled_by_the_next_apply(
    tmp_path: Path, served: tuple[Stalling, GongEmulator, str], before: list[str], after: list[str]
):
    app, emulator, base_url = served
    schema = tmp_path / "schema"
    schema.mkdir()
    _write(schema, before)
    first = _apply(tmp_path, base_url)
    _, first_err = first.communicate(timeout=LIMIT)
    assert first.returncode == 0, first_err

    _write(schema, after)
    app.enabled = True
    victim = _apply(tmp_path, base_url)
    if not app.stalled.wait(LIMIT):
        victim.kill()
        pytest.fail(victim.communicate()[1])
    time.sleep(0.1)
    victim.send_signal(signal.SIGKILL)
    victim.communicate(timeout=LIMIT)
    app.enabled = False
    app.release.set()
    # The kernel released the lock with the process; the state names the pending upload.
    assert [
        p["address"] for p in json.loads((tmp_path / "crmform.state.json").read_text())["pending"]
    ] == [f"gong/{ID}/ACCOUNT"]

    again = _apply(tmp_path, base_url)
    out, err = again.communicate(timeout=LIMIT)
    assert again.returncode == 0, err
    assert "shows in Gong: recorded as applied" in err
    assert "No changes." in out
    assert [f["uniqueName"] for f in emulator.schema(ID, "ACCOUNT")] == after
    stored = json.loads((tmp_path / "crmform.state.json").read_text())
    assert "pending" not in stored
    assert [f["uniqueName"] for f in stored["objects"][f"gong/{ID}/ACCOUNT"]["fields"]] == after

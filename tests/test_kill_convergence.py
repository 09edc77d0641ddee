"""`kill -9` of apply while its upload is in flight, seeded and bounded (issue 11 item 1).

The emulator runs in a thread on 127.0.0.1 behind a WSGI wrapper that, for chosen POSTs,
applies the upload and then holds the answer back. crmform runs as a real subprocess and is
killed with SIGKILL while it waits: no handler runs, nothing is cleaned up. A second apply
must then record the upload Gong did apply (from the pending record written before the POST)
and converge: Gong has the files' fields, the state has Gong's, and planning shows nothing.
"""

from __future__ import annotations

import json
import signal
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from emulated import ID
from served_gong import LIMIT, Served, apply_process, serve, write_schema


@pytest.fixture
def served() -> Iterator[Served]:
    with serve() as gong:
        yield gong


def _write(directory: Path, names: list[str]) -> None:
    write_schema(directory, "ACCOUNT", names)


def _apply(cwd: Path, gong: Served):
    return apply_process(cwd, gong.env(), "--allow-destroy")


@pytest.mark.slow
@pytest.mark.parametrize(
    ("before", "after"),
    [(["a", "b"], ["a"]), (["a"], ["a", "c"]), (["a", "b"], ["c"])],
    ids=["delete", "create", "delete and create"],
)
def test_a_kill_during_an_upload_is_settled_by_the_next_apply(
    tmp_path: Path, served: Served, before: list[str], after: list[str]
):
    app, emulator = served.app, served.emulator
    schema = tmp_path / "schema"
    schema.mkdir()
    _write(schema, before)
    first = _apply(tmp_path, served)
    _, first_err = first.communicate(timeout=LIMIT)
    assert first.returncode == 0, first_err

    _write(schema, after)
    app.enabled = True
    victim = _apply(tmp_path, served)
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

    again = _apply(tmp_path, served)
    out, err = again.communicate(timeout=LIMIT)
    assert again.returncode == 0, err
    assert "shows in Gong: recorded as applied" in err
    assert "No changes." in out
    assert [f["uniqueName"] for f in emulator.schema(ID, "ACCOUNT")] == after
    stored = json.loads((tmp_path / "crmform.state.json").read_text())
    assert "pending" not in stored
    assert [f["uniqueName"] for f in stored["objects"][f"gong/{ID}/ACCOUNT"]["fields"]] == after

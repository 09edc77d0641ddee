"""The local lock's kernel half (fcntl.flock) and force-unlock's refusal of a live holder
(issue 12: locks that die with their holder; issue 11 item 4)."""

from __future__ import annotations

import json
import os
import select
import signal
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from crmform.engine.errors import StateError, StateLockedError
from crmform.state.local import LocalState
from crmform.state.lockfile import HAVE_FLOCK

pytestmark = pytest.mark.skipif(not HAVE_FLOCK, reason="this OS has no fcntl.flock")

HOLDER = """
import sys, time
from pathlib import Path
from crmform.state.local import LocalState

with LocalState(Path(sys.argv[1])).lock("crmform apply") as info:
    print(info.id, flush=True)
    time.sleep(60)
"""


def start_holder(state_path: Path) -> tuple[subprocess.Popen[str], str]:
    child = subprocess.Popen(
        [sys.executable, "-c", HOLDER, str(state_path)], stdout=subprocess.PIPE, text=True
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


@pytest.fixture
def state_path(tmp_path: Path) -> Path:
    return tmp_path / "crmform.state.json"


def test_a_holder_killed_with_sigkill_leaves_a_lock_the_next_command_takes_at_once(state_path):
    child, lock_id = start_holder(state_path)
    try:
        with pytest.raises(StateLockedError, match=lock_id):
            LocalState(state_path).lock("crmform plan").__enter__()
        child.send_signal(signal.SIGKILL)
        child.wait(timeout=20)
        left = json.loads(Path(f"{state_path}.lock").read_text(encoding="utf-8"))
        assert left["id"] == lock_id  # kill -9 ran no clean-up: the file is still there

        with LocalState(state_path).lock("crmform apply") as info:
            mine = json.loads(Path(f"{state_path}.lock").read_text(encoding="utf-8"))
            assert mine["id"] == info.id != lock_id
    finally:
        stop(child)
    assert not Path(f"{state_path}.lock").exists()


def test_force_unlock_refuses_a_holder_running_on_this_host_unless_forced(state_path):
    child, lock_id = start_holder(state_path)
    try:
        with pytest.raises(StateError) as caught:
            LocalState(state_path).force_unlock(lock_id)
        assert str(caught.value).startswith(
            f"Refusing to unlock {state_path}: lock {lock_id} held by "
        )
        assert str(caught.value).endswith(
            "and that process is still running. Removing its lock would let another command "
            "write the state and Gong while it goes on, and its late uploads could then undo "
            "the other's. Wait for it to finish or stop it; only if it can never write again, "
            f"force the removal with `crmform force-unlock --force {lock_id}`."
        )
        assert Path(f"{state_path}.lock").exists()

        assert LocalState(state_path).force_unlock(lock_id, force=True).id == lock_id
        with LocalState(state_path).lock("crmform apply") as info:
            assert info.id != lock_id
    finally:
        stop(child)


def test_a_live_flock_holder_whose_pid_looks_dead_is_still_respected(state_path):
    # A holder in another pid namespace (a container sharing the folder) has a pid that
    # means nothing here; the kernel lock still tells that it runs.
    child, lock_id = start_holder(state_path)
    lock_path = Path(f"{state_path}.lock")
    try:
        doc = json.loads(lock_path.read_text(encoding="utf-8"))
        dead = subprocess.Popen([sys.executable, "-c", "pass"])
        dead.wait(timeout=20)
        doc["pid"] = dead.pid
        lock_path.write_text(json.dumps(doc), encoding="utf-8")  # same inode, flock kept

        with pytest.raises(StateLockedError, match=lock_id):
            LocalState(state_path).lock("crmform plan").__enter__()
        with pytest.raises(StateError, match="still running"):
            LocalState(state_path).force_unlock(lock_id)
    finally:
        stop(child)


def test_a_dead_holder_on_another_host_is_not_taken_over(state_path):
    Path(f"{state_path}.lock").write_text(
        json.dumps(
            {
                "id": "x",
                "operation": "crmform apply",
                "who": "alice",
                "host": socket.gethostname() + "-other",
                "pid": 1 << 22,
                "created": "2026-11-28T20:31:05Z",
            }
        ),
        encoding="utf-8",
    )

    with pytest.raises(StateLockedError, match="held by alice@"):
        LocalState(state_path).lock("crmform plan").__enter__()
    assert LocalState(state_path).force_unlock("x").id == "x"


def test_the_lock_file_is_kept_open_and_flocked_while_held(state_path):
    import fcntl

    with LocalState(state_path).lock("crmform apply"):
        fd = os.open(f"{state_path}.lock", os.O_RDONLY)
        try:
            with pytest.raises(BlockingIOError):
                fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
        finally:
            os.close(fd)

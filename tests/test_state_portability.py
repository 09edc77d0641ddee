"""The local state works where POSIX-only calls are missing (issue 13, portability):
simulated by removing them, as Windows before Python 3.13 lacks os.fchmod and cannot open a
folder, and os.kill(pid, 0) there is CTRL_C_EVENT."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest
from factories import ACCOUNT, fld

from crmform.engine.model import ObjectSchema, State
from crmform.state import holder
from crmform.state.local import LocalState


def test_state_is_written_without_os_fchmod(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.delattr(os, "fchmod")
    backend = LocalState(tmp_path / "crmform.state.json")
    first = backend.write(State(objects=(ObjectSchema(ACCOUNT, (fld("a"),)),)))
    backend.write(first)
    assert backend.read().objects == first.objects
    assert stat.S_IMODE(os.stat(tmp_path / "crmform.state.json").st_mode) == 0o644


def test_state_is_written_where_a_folder_cannot_be_opened(tmp_path: Path, monkeypatch):
    real_open = os.open

    def no_folders(path, flags, *args):
        if Path(path).is_dir():
            raise PermissionError(13, "Permission denied", str(path))
        return real_open(path, flags, *args)

    monkeypatch.setattr(os, "open", no_folders)
    backend = LocalState(tmp_path / "crmform.state.json")
    with backend.lock("crmform apply"):
        written = backend.write(State(objects=(ObjectSchema(ACCOUNT, (fld("a"),)),)))
    assert backend.read() == written


def test_no_process_is_probed_with_os_kill_on_windows(monkeypatch: pytest.MonkeyPatch):
    def forbidden(*args):
        raise AssertionError("os.kill(pid, 0) is CTRL_C_EVENT on Windows")

    monkeypatch.setattr(holder, "_WINDOWS", True)
    monkeypatch.setattr(os, "kill", forbidden)
    assert holder.pid_alive(123456) is True  # unknown: never called stale

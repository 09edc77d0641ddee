"""apply reads Gong while it loads the files (engine/preflight.py EarlyReads, issue 14): the
GETs of the object types the state records start once the lock is held and the state read,
and everything else stays as it was: the same requests, the same errors, nothing sent when
the files are invalid, Ctrl-C still a clean stop."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from emulated import ID, Gong, field

from crmform.commands import apply as apply_command
from crmform.engine.errors import ProviderError
from crmform.engine.model import ObjectKey, ObjectType
from crmform.engine.ports import RemoteSchema
from crmform.engine.preflight import EarlyReads, read_remote

real_load_files = apply_command.load_files  # type: ignore[attr-defined]


def _gets(gong: Gong, since: int) -> list[str | None]:
    return [t for m, t in gong.requests(since) if m == "GET"]


def _wait_for_get(gong: Gong, since: int) -> bool:
    """Whether Gong was asked for a schema since request `since`, polling a bounded number
    of times (a bound, not a timing assertion: the read normally lands at once)."""
    for _ in range(2000):
        if _gets(gong, since):
            return True
        time.sleep(0.005)
    return False


@pytest.fixture(autouse=True)
def _reads_end() -> Iterator[None]:
    """A run stopped by Ctrl-C does not wait for a read in flight (the process ends): wait
    for it here, so that no test leaves a thread behind for the next."""
    yield
    for thread in threading.enumerate():
        if thread.name == "crmform-read":
            thread.join(30)
            assert not thread.is_alive()


def _state(tmp_path: Path) -> bytes:
    return (tmp_path / "crmform.state.json").read_bytes()


@pytest.fixture
def applied(gong: Gong) -> Gong:
    """ACCOUNT and DEAL applied once: the state records both."""
    gong.write("ACCOUNT", field("a"))
    gong.write("DEAL", field("d"))
    assert gong.apply("--auto-approve").code == 0
    return gong


def test_the_reads_start_before_the_files_are_loaded(
    applied: Gong, monkeypatch: pytest.MonkeyPatch
):
    gong = applied
    gong.write("ACCOUNT", field("a"), field("b"))
    gong.write("DEAL", field("d"), field("e"))
    since = len(gong.emulator.requests)
    seen: list[bool] = []

    def load_files(*args, **kwargs):
        seen.append(_wait_for_get(gong, since))  # Gong is read while the files load
        return real_load_files(*args, **kwargs)

    monkeypatch.setattr(apply_command, "load_files", load_files)
    result = gong.apply("--auto-approve")
    assert result.code == 0, result.stderr
    assert seen == [True]
    # The same requests as ever: one GET per object type to write, then per type the upload
    # and its read-back.
    assert gong.requests(since) == [
        ("GET", "ACCOUNT"),
        ("GET", "DEAL"),
        ("POST", "ACCOUNT"),
        ("GET", "ACCOUNT"),
        ("POST", "DEAL"),
        ("GET", "DEAL"),
    ]
    assert gong.remote("DEAL") == {"d": "STRING", "e": "STRING"}


def test_a_type_only_the_files_name_is_read_after_they_load(applied: Gong):
    gong = applied
    gong.write("ACCOUNT", field("a"), field("b"))
    gong.write("LEAD", field("l"))
    since = len(gong.emulator.requests)
    result = gong.apply("--auto-approve")
    assert result.code == 0, result.stderr
    # Every type to write is read before the first POST (LEAD, new, once the files named it).
    requests = gong.requests(since)
    first_post = requests.index(("POST", "ACCOUNT"))
    assert {("GET", "ACCOUNT"), ("GET", "LEAD")} <= set(requests[:first_post])
    assert [r for r in requests if r[0] == "POST"] == [("POST", "ACCOUNT"), ("POST", "LEAD")]


def test_an_invalid_file_after_a_started_read_fails_as_before_and_sends_nothing(
    applied: Gong, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    gong = applied
    gong.write("ACCOUNT", field("a"), field("b", "NOT_A_TYPE"))
    before = _state(tmp_path)
    # The message the files error has without any read (--no-refresh reads nothing).
    unread = gong.apply("--auto-approve", "--no-refresh")
    assert unread.code == 1
    since = len(gong.emulator.requests)
    seen: list[bool] = []

    def load_files(*args, **kwargs):
        seen.append(_wait_for_get(gong, since))
        return real_load_files(*args, **kwargs)

    monkeypatch.setattr(apply_command, "load_files", load_files)
    result = gong.apply("--auto-approve")
    assert seen == [True]
    assert result.code == 1
    assert result.stderr == unread.stderr
    assert "NOT_A_TYPE" in result.stderr
    assert "Traceback" not in result.stderr
    assert all(method == "GET" for method, _ in gong.requests(since))
    assert _state(tmp_path) == before
    # Nothing was left running or locked: the fixed files apply at once.
    gong.write("ACCOUNT", field("a"), field("b"))
    assert gong.apply("--auto-approve").code == 0
    assert gong.remote() == {"a": "STRING", "b": "STRING"}


def test_ctrl_c_while_the_files_load_stops_cleanly(
    applied: Gong, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    gong = applied
    gong.write("ACCOUNT", field("a"), field("b"))
    before = _state(tmp_path)
    since = len(gong.emulator.requests)

    def load_files(*args, **kwargs):
        assert _wait_for_get(gong, since)
        raise KeyboardInterrupt  # Ctrl-C (or SIGTERM) arrives while the files load

    monkeypatch.setattr(apply_command, "load_files", load_files)
    result = gong.apply("--auto-approve")
    assert result.code == 1
    assert "Interrupted; no upload was in flight." in result.stderr
    assert "Traceback" not in result.stderr
    assert all(method == "GET" for method, _ in gong.requests(since))
    assert _state(tmp_path) == before
    monkeypatch.setattr(apply_command, "load_files", real_load_files)
    assert gong.apply("--auto-approve").code == 0  # the lock was released
    assert gong.remote() == {"a": "STRING", "b": "STRING"}


def test_a_failed_read_of_a_type_to_write_is_the_error_it_always_was(applied: Gong, tmp_path):
    gong = applied
    gong.write("ACCOUNT", field("a"), field("b"))
    before = _state(tmp_path)
    gong.emulator.fail_next(403, method="GET", object_type="ACCOUNT", errors=("no access",))
    result = gong.apply("--auto-approve")
    assert result.code == 1
    assert "no access" in result.stderr
    assert "Traceback" not in result.stderr
    assert gong.posts()[-1].query["objectType"] == "DEAL"  # from the first apply only
    assert len(gong.posts()) == 2
    assert _state(tmp_path) == before


def test_a_failed_read_of_an_unchanged_type_does_not_matter(applied: Gong):
    gong = applied
    gong.write("DEAL", field("d"), field("e"))
    # Whether or not the early reads got to ACCOUNT before the plan said it is unchanged,
    # its read is not one the run needs: the run goes on as if it had never been made.
    gong.emulator.fail_next(403, method="GET", object_type="ACCOUNT", errors=("no access",))
    result = gong.apply("--auto-approve")
    assert result.code == 0, result.stderr
    assert "no access" not in result.stderr
    assert gong.remote("DEAL") == {"d": "STRING", "e": "STRING"}


# --- EarlyReads on its own -------------------------------------------------------------------

A = ObjectKey("gong", ID, ObjectType.ACCOUNT)
C = ObjectKey("gong", ID, ObjectType.CONTACT)
D = ObjectKey("gong", ID, ObjectType.DEAL)


class Reads:
    """A provider that answers from a dict, fails the types in `failing`, and records every
    read; `gate` holds the first read until the test opens it."""

    name = "gong"

    def __init__(self, failing=(), gate: threading.Event | None = None) -> None:
        self.failing = set(failing)
        self.gate = gate
        self.reads: list[ObjectType] = []
        self.threads: set[str] = set()

    def read_schema(self, integration_id, object_type=None):
        if self.gate is not None:
            assert self.gate.wait(10)
        self.threads.add(threading.current_thread().name)
        self.reads.append(object_type)
        if object_type in self.failing:
            raise ProviderError(f"cannot read {object_type}", status=403)
        return {object_type: RemoteSchema(object_type, ())}

    def write_schema(self, integration_id, object_type, body):
        raise AssertionError("reads only")


def test_take_returns_what_read_remote_returns():
    early = EarlyReads(Reads(), [D, A])
    assert early.take([A, C, D]) == read_remote(Reads(), [A, C, D])


def test_take_raises_the_first_failure_in_address_order_as_read_remote_does():
    with pytest.raises(ProviderError, match="cannot read ACCOUNT") as plain:
        read_remote(Reads(failing={ObjectType.ACCOUNT, ObjectType.DEAL}), [A, D])
    provider = Reads(failing={ObjectType.ACCOUNT, ObjectType.DEAL})
    with pytest.raises(ProviderError, match="cannot read ACCOUNT") as early:
        EarlyReads(provider, [A, D]).take([A, D])
    assert str(early.value) == str(plain.value)
    assert provider.reads == [ObjectType.ACCOUNT]  # nothing read after the failure


def test_a_failure_of_a_key_not_taken_is_dropped_and_the_rest_is_read():
    provider = Reads(failing={ObjectType.ACCOUNT})
    found = EarlyReads(provider, [A, D]).take([D])
    assert list(found) == [D]
    assert provider.reads == [ObjectType.ACCOUNT, ObjectType.DEAL]


def test_no_read_starts_after_stop():
    gate = threading.Event()
    provider = Reads(gate=gate)
    early = EarlyReads(provider, [A, C, D])
    early.stop(wait=False)
    gate.set()
    early.stop()  # waits for the read that was in flight, if one was
    assert len(provider.reads) <= 1


def test_reads_after_take_are_made_by_the_caller():
    provider = Reads()
    early = EarlyReads(provider, [A])
    early.take([A, C])
    assert provider.reads == [ObjectType.ACCOUNT, ObjectType.CONTACT]
    assert threading.current_thread().name in provider.threads  # CONTACT: read here
    assert "crmform-read" in provider.threads  # ACCOUNT: read by the worker

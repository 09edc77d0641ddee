"""The local state file's own rules (every backend's shared ones are in
state/conformance.py, run for each backend by test_state_conformance.py)."""

from __future__ import annotations

import errno
import json
import os
import select
import signal
import socket
import stat
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from crmform.engine import model
from crmform.engine.errors import StateError, StateLockedError
from crmform.engine.formats.codec import field_to_json, state_to_json
from crmform.engine.model import (
    STATE_VERSION,
    Field,
    FieldType,
    ObjectKey,
    ObjectSchema,
    ObjectType,
    State,
)
from crmform.state.conformance import sample_objects
from crmform.state.local import LocalState

BIG_ID = 2**53 + 7  # not exactly representable as a double: survives only as a JSON integer


# -- the local file ------------------------------------------------------------------------

LINEAGE = "0b9f6c54-3f7e-4c1a-9d0e-5a2b7c8d9e10"
LOCK_ID = "8f1c2d3e-4b5a-4c6d-8e7f-9a0b1c2d3e4f"


@pytest.fixture
def state_path(tmp_path: Path) -> Path:
    return tmp_path / "crmform.state.json"


def written(path: Path, objects: tuple[ObjectSchema, ...] = ()) -> State:
    return LocalState(path).write(State(lineage=LINEAGE, objects=objects))


def test_a_held_lock_names_its_holder_in_full(state_path):
    with (
        LocalState(state_path).lock("crmform apply") as info,
        pytest.raises(StateLockedError) as caught,
        LocalState(state_path).lock("crmform plan"),
    ):
        pass

    assert str(caught.value) == (
        f"The state {state_path} is locked: lock {info.id} held by "
        f"{info.who}@{socket.gethostname()} (pid {os.getpid()}) since {info.created}, running "
        f"`crmform apply`. Wait for it to finish, or, if that process is gone, run "
        f"`crmform force-unlock {info.id}`."
    )


def test_the_state_file_is_indented_json_with_one_field_per_line_and_a_trailing_newline(
    state_path,
):
    deal = ObjectSchema(
        ObjectKey("gong", 6286478263646, ObjectType.DEAL),
        (
            Field("arr", "ARR (Région)", FieldType.CURRENCY, last_modified="2026-11-28T20:31:06Z"),
            Field("stage", "Stage", FieldType.PICKLIST, ordered_value_list=("Open", "Won")),
        ),
    )
    lead = ObjectSchema(ObjectKey("gong", 6286478263646, ObjectType.LEAD), ())
    written(state_path, (lead, deal))

    assert state_path.read_text(encoding="utf-8") == "\n".join(
        [
            "{",
            f'  "version": {STATE_VERSION},',
            f'  "lineage": "{LINEAGE}",',
            '  "serial": 1,',
            '  "objects": {',
            '    "gong/6286478263646/DEAL": {',
            '      "fields": [',
            '        {"uniqueName": "arr", "label": "ARR (Région)", "type": "CURRENCY", '
            '"protect": false, "lastModified": "2026-11-28T20:31:06Z"},',
            '        {"uniqueName": "stage", "label": "Stage", "type": "PICKLIST", '
            '"orderedValueList": ["Open", "Won"], "protect": false}',
            "      ]",
            "    },",
            '    "gong/6286478263646/LEAD": {',
            '      "fields": []',
            "    }",
            "  }",
            "}",
            "",
        ]
    )


def test_a_state_without_objects_is_written_with_an_empty_objects_object(state_path):
    written(state_path)

    assert state_path.read_text(encoding="utf-8") == (
        f'{{\n  "version": {STATE_VERSION},\n  "lineage": "{LINEAGE}",\n  "serial": 1,\n'
        '  "objects": {}\n}\n'
    )


AWKWARD_TEXT = [
    'a "quoted" label',
    "back\\slash",
    "two\nlines\tand a tab",
    '}, {"uniqueName": "not a field"}',
    "Ärger 😀 \u2028 \u00a0",
    "",
]


def awkward_objects() -> tuple[ObjectSchema, ...]:
    fields = tuple(
        Field(
            f"f{i}{text}",
            text,
            FieldType.PICKLIST,
            ordered_value_list=(text, "x"),
            # lastModified must be a UTC time (issue 11 item 7): awkward text goes elsewhere.
            last_modified="2026-11-28T20:31:05Z" if i % 2 else None,
        )
        for i, text in enumerate(AWKWARD_TEXT)
    )
    return (ObjectSchema(ObjectKey("gong", BIG_ID, ObjectType.ACCOUNT), fields),)


def test_each_field_line_is_that_field_as_json_even_with_awkward_text(state_path):
    stored = written(state_path, awkward_objects())
    text = state_path.read_text(encoding="utf-8")
    # Lines as git sees them: str.splitlines() would also break at the raw U+2028.
    field_lines = [line for line in text.split("\n") if line.startswith("        {")]

    assert json.loads(text) == state_to_json(stored)
    assert [json.loads(line.strip().rstrip(",")) for line in field_lines] == [
        field_to_json(f) for f in awkward_objects()[0].fields
    ]
    assert "Ärger 😀" in text  # UTF-8, not \u escapes
    assert LocalState(state_path).read() == stored


@settings(max_examples=40, deadline=None)
@given(
    st.lists(
        # A uniqueName is never empty (the schema files' rule, checked in the state too).
        st.tuples(st.text(min_size=1), st.text(), st.lists(st.text(), max_size=3)),
        max_size=4,
        unique_by=lambda t: t[0],
    )
)
def test_any_text_reads_back_exactly_and_the_file_is_the_codecs_document(specs):
    fields = tuple(
        Field(name, label, FieldType.PICKLIST, ordered_value_list=tuple(values))
        for name, label, values in specs
    )
    objects = (ObjectSchema(ObjectKey("gong", 1, ObjectType.DEAL), fields),)
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "crmform.state.json"
        stored = written(path, objects)
        text = path.read_text(encoding="utf-8")

        assert json.loads(text) == state_to_json(stored)
        assert LocalState(path).read() == stored
        assert stored.objects == objects


def test_the_same_state_is_written_as_the_same_bytes_whatever_the_order_given(tmp_path):
    first, second = tmp_path / "first.json", tmp_path / "second.json"
    written(first, sample_objects())
    written(second, tuple(reversed(sample_objects())))

    assert first.read_bytes() == second.read_bytes()


def test_a_write_returns_exactly_what_reading_the_file_gives(state_path):
    account, deal = sample_objects()
    from_files = (
        model.replace(deal, source="schema/deal.yaml"),
        model.replace(account, source="schema/account.yaml"),
    )

    stored = written(state_path, from_files)

    assert stored == LocalState(state_path).read()
    assert stored.objects == (account, deal)


@pytest.mark.parametrize(
    "key",
    [ObjectKey("gong", -1, ObjectType.DEAL), ObjectKey("gong/eu", 1, ObjectType.DEAL)],
    ids=["negative-id", "slash-in-provider"],
)
def test_an_object_type_whose_address_would_not_read_back_is_refused_before_writing(
    state_path, key
):
    with pytest.raises(StateError) as caught:
        written(state_path, (ObjectSchema(key, sample_objects()[0].fields),))

    assert str(caught.value) == (
        f"The state {state_path} cannot record the object type {key}: its provider must not "
        "contain '/' and its integration id must be a non-negative integer. Nothing was "
        "written; fix the integration id or provider, then run the command again."
    )
    assert list(state_path.parent.iterdir()) == []


def test_a_handle_reads_a_file_rewritten_by_hand_since_its_last_write(state_path):
    backend = LocalState(state_path)
    stored = backend.write(State(lineage=LINEAGE, objects=sample_objects()))
    edited = State(LINEAGE, stored.serial, sample_objects()[:1])
    state_path.write_text(json.dumps(state_to_json(edited)), encoding="utf-8")

    assert backend.read() == edited
    assert backend.write(edited).objects == edited.objects


def test_a_handle_refuses_to_write_over_a_file_corrupted_since_its_last_write(state_path):
    backend = LocalState(state_path)
    stored = backend.write(State(lineage=LINEAGE, objects=sample_objects()))
    broken = state_to_json(stored)
    broken["objects"]["gong/6286478263646/DEAL"]["fields"][0]["type"] = "MONEY"
    content = json.dumps(broken).encode()
    state_path.write_bytes(content)

    with pytest.raises(StateError) as caught:
        backend.write(stored)

    assert str(caught.value) == (
        f'The state file {state_path} has a malformed object "gong/6286478263646/DEAL" '
        f"('MONEY' is not a valid FieldType). crmform did not modify it; restore it from "
        f"{state_path}.backup or fix it by hand, then run the command again."
    )
    assert state_path.read_bytes() == content
    assert not Path(f"{state_path}.backup").exists()


def test_a_state_path_relative_to_the_working_directory_is_written_there(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    stored = written(Path("crmform.state.json"))

    assert LocalState(tmp_path / "crmform.state.json").read() == stored
    assert sorted(p.name for p in tmp_path.iterdir()) == ["crmform.state.json"]


def test_a_new_state_file_is_created_with_mode_644(state_path):
    written(state_path)

    assert state_path.stat().st_mode & 0o777 == 0o644


def test_an_existing_state_file_keeps_its_mode_and_the_backup_gets_it_too(state_path):
    first = written(state_path)
    state_path.chmod(0o600)
    LocalState(state_path).write(first)

    assert state_path.stat().st_mode & 0o777 == 0o600
    assert Path(f"{state_path}.backup").stat().st_mode & 0o777 == 0o600


def test_the_backup_holds_the_previous_version(state_path):
    first = written(state_path)
    first_bytes = state_path.read_bytes()
    assert not Path(f"{state_path}.backup").exists()

    LocalState(state_path).write(first.with_object(sample_objects()[0]))

    assert Path(f"{state_path}.backup").read_bytes() == first_bytes
    assert LocalState(Path(f"{state_path}.backup")).read() == first


def test_the_backup_is_the_previous_file_itself_or_where_links_fail_a_copy(state_path, monkeypatch):
    first = written(state_path)
    first_bytes = state_path.read_bytes()
    second = LocalState(state_path).write(first.with_object(sample_objects()[0]))
    backup = Path(f"{state_path}.backup")
    assert backup.read_bytes() == first_bytes
    # A file system without hard links: the backup is written as a copy.
    second_bytes = state_path.read_bytes()

    def no_links(*args, **kwargs):
        raise OSError(errno.EPERM, "Operation not permitted")

    monkeypatch.setattr(os, "link", no_links)
    LocalState(state_path).write(second.with_object(sample_objects()[1]))
    assert backup.read_bytes() == second_bytes
    assert LocalState(backup).read() == second
    assert {p.name for p in state_path.parent.iterdir()} == {
        state_path.name,
        backup.name,
    }


def test_a_state_file_rewritten_in_place_after_it_was_read_is_backed_up_as_read(
    state_path, monkeypatch
):
    # Someone edits the file in place between the write's read and its backup: the backup
    # is what the write read and checked, never the file as it is now.
    first = written(state_path)
    first_bytes = state_path.read_bytes()
    real_link = os.link

    def edit_then_link(source, target, *args, **kwargs):
        with open(source, "r+b") as handle:
            handle.write(b" ")  # same size, other bytes, another modification time
        os.utime(source, ns=(0, 0))
        real_link(source, target, *args, **kwargs)

    monkeypatch.setattr(os, "link", edit_then_link)
    LocalState(state_path).write(first.with_object(sample_objects()[0]))
    backup = Path(f"{state_path}.backup")
    assert backup.read_bytes() == first_bytes
    assert sorted(p.name for p in state_path.parent.iterdir()) == sorted(
        [state_path.name, backup.name]
    )


def test_contents_are_synced_before_each_rename_and_the_folder_after(state_path, monkeypatch):
    first = written(state_path)
    events: list[tuple[str, str]] = []
    real_fsync, real_replace = os.fsync, os.replace

    def fsync(fd):
        events.append(("fsync", "folder" if stat.S_ISDIR(os.fstat(fd).st_mode) else "file"))
        real_fsync(fd)

    def replace(src, dst):
        events.append(("replace", Path(dst).name))
        real_replace(src, dst)

    monkeypatch.setattr(os, "fsync", fsync)
    monkeypatch.setattr(os, "replace", replace)
    LocalState(state_path).write(first)

    assert events == [
        ("fsync", "file"),
        ("replace", "crmform.state.json.backup"),
        ("fsync", "file"),
        ("replace", "crmform.state.json"),
        ("fsync", "folder"),
    ]


def _fail_replace_onto(monkeypatch, target: Path) -> None:
    real_replace = os.replace

    def replace(src, dst):
        if Path(dst) == target:
            raise OSError(errno.EIO, "Input/output error")
        real_replace(src, dst)

    monkeypatch.setattr(os, "replace", replace)


def _fail_fsync(monkeypatch, target: Path) -> None:
    def fsync(fd):
        raise OSError(errno.EIO, "Input/output error")

    monkeypatch.setattr(os, "fsync", fsync)


@pytest.mark.parametrize("fail", [_fail_replace_onto, _fail_fsync], ids=["rename", "fsync"])
def test_a_write_failing_midway_leaves_the_old_file_intact_and_no_temp_file(
    state_path, monkeypatch, fail
):
    first = written(state_path, sample_objects()[:1])
    before = state_path.read_bytes()
    fail(monkeypatch, state_path)

    with pytest.raises(StateError) as caught:
        LocalState(state_path).write(first.with_object(sample_objects()[1]))

    assert str(caught.value) == (
        f"The state file {state_path} could not be written (Input/output error); its previous "
        "content is unchanged. Check that its folder is writable and has free space, then run "
        "the command again."
    )
    assert isinstance(caught.value.__cause__, OSError)
    monkeypatch.undo()
    assert state_path.read_bytes() == before
    leftovers = {p.name for p in state_path.parent.iterdir()}
    assert leftovers <= {state_path.name, f"{state_path.name}.backup"}
    assert LocalState(state_path).read() == first


@pytest.mark.parametrize("fail", [_fail_replace_onto, _fail_fsync], ids=["rename", "fsync"])
def test_a_first_write_failing_midway_leaves_no_file(state_path, monkeypatch, fail):
    fail(monkeypatch, state_path)

    with pytest.raises(StateError, match=r"could not be written \(Input/output error\)"):
        LocalState(state_path).write(State(objects=sample_objects()))

    assert list(state_path.parent.iterdir()) == []


def _doc(**changes: object) -> str:
    doc: dict[str, object] = {"version": 1, "lineage": LINEAGE, "serial": 3, "objects": {}}
    doc.update(changes)
    return json.dumps(doc, indent=2)


UNUSABLE = [
    pytest.param(b"", "is empty", id="empty"),
    pytest.param(
        b'{\n  "version": 1,\n  "lineage": "0b9f',
        "is not valid JSON (line 3, column 14: Unterminated string starting at)",
        id="truncated",
    ),
    pytest.param(
        b'{\n  "version": 1\n  "serial": 2\n}\n',
        "is not valid JSON (line 3, column 3: Expecting ',' delimiter)",
        id="missing-comma",
    ),
    pytest.param(b"\xff\xfe{}", "is not UTF-8 text (byte 0)", id="binary"),
    pytest.param(b"[]", "holds an array at the top level, not an object", id="array"),
    pytest.param(b"null", "holds null at the top level, not an object", id="null"),
    pytest.param(
        json.dumps({"version": 1, "lineage": LINEAGE, "objects": {}}).encode(),
        'has no "serial" key',
        id="no-serial",
    ),
    pytest.param(
        _doc(version="1").encode(),
        'has "version" set to a string, where it needs an integer',
        id="v-str",
    ),
    pytest.param(
        _doc(version=1.5).encode(),
        'has "version" set to a number, where it needs an integer',
        id="v-num",
    ),
    pytest.param(_doc(version=0).encode(), 'has an unknown "version" 0', id="v-zero"),
    pytest.param(
        _doc(serial=True).encode(),
        'has "serial" set to a boolean, where it needs an integer',
        id="s-bool",
    ),
    pytest.param(_doc(serial=-1).encode(), 'has a negative "serial" (-1)', id="s-negative"),
    pytest.param(_doc(lineage="").encode(), 'has an empty "lineage"', id="no-lineage"),
    pytest.param(
        _doc(objects=[]).encode(),
        'has "objects" set to an array, where it needs an object',
        id="o-array",
    ),
    pytest.param(
        _doc(objects={"gong/1/ACCOUNT": []}).encode(),
        'has a malformed object "gong/1/ACCOUNT" (expected an object with a "fields" list of '
        "objects)",
        id="o-body",
    ),
    pytest.param(
        _doc(objects={"gong/1/ACCOUNT": {"fields": [{"uniqueName": "a", "label": "A"}]}}).encode(),
        "has a malformed object \"gong/1/ACCOUNT\" (a field has no 'type')",
        id="f-no-type",
    ),
    pytest.param(
        _doc(
            objects={"gong/1/ACCOUNT": {"fields": [{"uniqueName": "a", "label": "A", "type": "X"}]}}
        ).encode(),
        "has a malformed object \"gong/1/ACCOUNT\" ('X' is not a valid FieldType)",
        id="f-bad-type",
    ),
    pytest.param(
        _doc(objects={"gong/one/ACCOUNT": {"fields": []}}).encode(),
        'has a malformed object "gong/one/ACCOUNT" (not an address of the form '
        "provider/integrationId/OBJECT: 'gong/one/ACCOUNT')",
        id="bad-address",
    ),
]


@pytest.mark.parametrize(("content", "problem"), UNUSABLE)
def test_an_unusable_state_file_is_reported_and_never_rewritten(state_path, content, problem):
    state_path.write_bytes(content)
    backend = LocalState(state_path)
    expected = (
        f"The state file {state_path} {problem}. crmform did not modify it; restore it from "
        f"{state_path}.backup or fix it by hand, then run the command again."
    )

    with pytest.raises(StateError) as on_read:
        backend.read()
    with pytest.raises(StateError) as on_write:
        backend.write(State(lineage=LINEAGE, serial=3))

    assert str(on_read.value) == str(on_write.value) == expected
    assert state_path.read_bytes() == content
    assert sorted(p.name for p in state_path.parent.iterdir()) == [state_path.name]


def test_a_state_file_from_a_newer_crmform_asks_for_an_upgrade(state_path):
    content = _doc(version=STATE_VERSION + 1, objects={"someday": "else"}).encode()
    state_path.write_bytes(content)
    backend = LocalState(state_path)

    with pytest.raises(StateError) as on_read:
        backend.read()
    with pytest.raises(StateError) as on_write:
        backend.write(State(lineage=LINEAGE, serial=3))

    assert (
        str(on_read.value)
        == str(on_write.value)
        == (
            f"The state file {state_path} was written by a newer crmform (state version "
            f"{STATE_VERSION + 1}; this crmform reads version {STATE_VERSION}). crmform did not "
            "modify it; upgrade crmform to use this state."
        )
    )
    assert state_path.read_bytes() == content


def _foreign_lock(state_path: Path, host: str, pid: int) -> None:
    Path(f"{state_path}.lock").write_text(
        json.dumps(
            {
                "id": LOCK_ID,
                "operation": "crmform apply",
                "who": "alice",
                "host": host,
                "pid": pid,
                "created": "2026-11-28T20:31:05Z",
            }
        ),
        encoding="utf-8",
    )


def _dead_pid() -> int:
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait(timeout=30)
    return child.pid


def test_a_lock_held_elsewhere_says_who_holds_it_and_how_to_remove_it(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    state_path = Path("crmform.state.json")  # relative, as the CLI passes it by default
    _foreign_lock(state_path, "ci-7", 4242)

    with pytest.raises(StateLockedError) as caught, LocalState(state_path).lock("crmform plan"):
        pass

    assert str(caught.value) == (
        f"The state crmform.state.json is locked: lock {LOCK_ID} held by alice@ci-7 (pid 4242) "
        "since 2026-11-28T20:31:05Z, running `crmform apply`. Wait for it to finish, or, if that "
        f"process is gone, run `crmform force-unlock {LOCK_ID}`."
    )


def test_a_lock_of_a_dead_process_on_this_host_is_called_stale_without_flock(state_path):
    # With flock such a lock is taken over at once (test_state_local_locks.py).
    pid = _dead_pid()
    _foreign_lock(state_path, socket.gethostname(), pid)

    with (
        pytest.raises(StateLockedError) as caught,
        LocalState(state_path, flock=False).lock("crmform plan"),
    ):
        pass

    assert str(caught.value) == (
        f"The state {state_path} is locked: lock {LOCK_ID} held by "
        f"alice@{socket.gethostname()} (pid {pid}) since 2026-11-28T20:31:05Z, running "
        f"`crmform apply`. Process {pid} is not running on this host, so the lock looks "
        f"stale; run `crmform force-unlock {LOCK_ID}` to remove it."
    )
    assert LocalState(state_path).force_unlock(LOCK_ID).pid == pid
    assert not Path(f"{state_path}.lock").exists()


def test_a_lock_in_a_missing_folder_is_reported(tmp_path):
    state_path = tmp_path / "missing" / "crmform.state.json"

    with pytest.raises(StateError) as caught, LocalState(state_path).lock("crmform apply"):
        pass

    assert str(caught.value) == (
        f"The lock file {state_path}.lock could not be created (No such file or directory). "
        f"Check that the folder of {state_path} exists and is writable, then run the command "
        "again."
    )


def test_a_failed_lock_write_leaves_no_lock_behind(state_path, monkeypatch):
    def fsync(fd):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(os, "fsync", fsync)

    with pytest.raises(StateError, match=r"could not be created \(No space left on device\)"):
        LocalState(state_path).lock("crmform apply").__enter__()

    assert not Path(f"{state_path}.lock").exists()


class FakeTime:
    def __init__(self) -> None:
        self.now = 100.0
        self.sleeps: list[float] = []

    def clock(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


def test_waiting_for_a_lock_gives_up_after_the_timeout(state_path):
    _foreign_lock(state_path, "ci-7", 4242)
    fake = FakeTime()
    backend = LocalState(state_path, clock=fake.clock, sleep=fake.sleep)

    with pytest.raises(StateLockedError) as caught, backend.lock("crmform plan", timeout=1.0):
        pass

    assert str(caught.value).startswith(
        f"The state {state_path} is still locked after waiting 1 s: lock {LOCK_ID} held by "
    )
    assert set(fake.sleeps) == {0.1}
    assert 1.0 <= sum(fake.sleeps) < 1.15


def test_an_unreadable_lock_file_is_reported_and_left_in_place(state_path):
    lock_path = Path(f"{state_path}.lock")
    lock_path.write_bytes(b"garbage")
    fake = FakeTime()
    backend = LocalState(state_path, clock=fake.clock, sleep=fake.sleep)

    with pytest.raises(StateLockedError) as on_lock, backend.lock("crmform plan"):
        pass
    with pytest.raises(StateError) as on_unlock:
        backend.force_unlock(LOCK_ID)

    assert str(on_lock.value) == (
        f"The state {state_path} is locked, but its lock file {lock_path} is not valid JSON "
        "(line 1, column 1: Expecting value); crmform left it in place. If no crmform command "
        f"is running on this state, delete {lock_path} by hand."
    )
    assert str(on_unlock.value) == (
        f"The lock file {lock_path} is not valid JSON (line 1, column 1: Expecting value), so "
        f"crmform cannot check that it is lock {LOCK_ID}. If no crmform command is running on "
        f"this state, delete {lock_path} by hand."
    )
    assert lock_path.read_bytes() == b"garbage"


def test_a_lock_file_caught_while_being_written_is_read_again(state_path):
    Path(f"{state_path}.lock").write_bytes(b"")
    fake = FakeTime()

    def sleep(seconds: float) -> None:
        fake.sleep(seconds)
        _foreign_lock(state_path, "ci-7", 4242)  # the holder finished writing its details

    backend = LocalState(state_path, clock=fake.clock, sleep=sleep)
    with (
        pytest.raises(StateLockedError, match=f"is locked: lock {LOCK_ID} held by alice@ci-7"),
        backend.lock("crmform plan"),
    ):
        pass
    assert fake.sleeps == [0.1]


def test_a_lock_file_without_a_pid_is_unreadable(state_path):
    Path(f"{state_path}.lock").write_text('{"id": "x"}', encoding="utf-8")

    with pytest.raises(StateError, match=r'lock file .* does not give "operation" as a string'):
        LocalState(state_path).force_unlock("x")


CHILD = """
import signal, sys, time
from pathlib import Path
from crmform.state.local import LocalState

# The CLI installs this translation; a bare child has to do it itself.
signal.signal(signal.SIGTERM, lambda *a: sys.exit(143))
signal.signal(signal.SIGINT, signal.default_int_handler)
with LocalState(Path(sys.argv[1])).lock("crmform apply") as info:
    print(info.id, flush=True)
    time.sleep(30)
"""


@pytest.mark.slow
@pytest.mark.parametrize(
    ("signum", "returncode"),
    [(signal.SIGTERM, 143), (signal.SIGINT, -signal.SIGINT)],
    ids=["SIGTERM", "SIGINT"],
)
def test_a_holder_stopped_by_a_signal_removes_its_lock(state_path, signum, returncode):
    lock_path = Path(f"{state_path}.lock")
    child = subprocess.Popen(
        [sys.executable, "-c", CHILD, str(state_path)], stdout=subprocess.PIPE, text=True
    )
    stdout = child.stdout
    assert stdout is not None
    try:
        ready, _, _ = select.select([stdout], [], [], 20)
        assert ready, "the child did not take the lock within 20 s"
        lock_id = stdout.readline().strip()
        assert json.loads(lock_path.read_text(encoding="utf-8"))["id"] == lock_id

        child.send_signal(signum)
        assert child.wait(timeout=20) == returncode
    finally:
        if child.poll() is None:
            child.kill()
            child.wait(timeout=20)
        stdout.close()

    assert not lock_path.exists()

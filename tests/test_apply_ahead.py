"""Work apply does ahead, in the pauses between requests (issue 14: the paced wall): the
uploads and the first body while Gong is read, each next body and pending record before
the read-back of the upload before it; what is sent stays exactly what it was."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

from emulated import ENV, Gong, field
from gong_mock import FIELD_A, INTEGRATION, STAGE, make, ok

from crmform.engine.model import ObjectType
from crmform.engine.ports import FieldWrite, RemoteSchema, WriteResult
from crmform.engine.preflight import read_remote
from crmform.providers.gong.client import GongClient
from crmform.providers.gong.wire import encode_body


class Told(GongClient):
    """The real client, noting each call apply makes of it, in order."""

    calls: list[tuple[str, str]]

    def read_schema(
        self, integration_id: int, object_type: ObjectType | None = None
    ) -> dict[ObjectType, RemoteSchema]:
        self.calls.append(("read", str(object_type)))
        return super().read_schema(integration_id, object_type)

    def write_schema(
        self, integration_id: int, object_type: ObjectType, writes: Sequence[FieldWrite]
    ) -> WriteResult:
        self.calls.append(("write", str(object_type)))
        return super().write_schema(integration_id, object_type, writes)

    def prepare_write(
        self, integration_id: int, object_type: ObjectType, writes: Sequence[FieldWrite]
    ) -> None:
        self.calls.append(("prepare", str(object_type)))
        super().prepare_write(integration_id, object_type, writes)


class ToldGong(Gong):
    def __init__(self, tmp_path: Path) -> None:
        super().__init__(tmp_path)
        self.calls: list[tuple[str, str]] = []

    def client(self, env: Mapping[str, str] = ENV) -> GongClient:
        plain = super().client(env)
        told = Told(plain.settings, transport=plain._transport, sleep=lambda s: None)
        told.calls = self.calls
        return told


def test_each_body_is_prepared_while_the_request_before_it_waits_for_its_slot(
    tmp_path, monkeypatch
):
    monkeypatch.chdir(tmp_path)
    gong = ToldGong(tmp_path)
    for kind in ("ACCOUNT", "CONTACT", "DEAL"):
        gong.write(kind, "a", "b")
    assert gong.apply("--auto-approve").code == 0
    for kind in ("ACCOUNT", "CONTACT", "DEAL"):
        gong.write(kind, "a", "b", field("c", "NUMBER"))
    gong.calls.clear()
    since = len(gong.emulator.requests)

    result = gong.apply("--auto-approve")

    assert result.code == 0, result.stderr
    assert gong.calls == [
        ("read", "ACCOUNT"),  # then, before the next read's slot: the uploads are built
        ("read", "CONTACT"),
        ("prepare", "ACCOUNT"),  # the first body, before the last read's slot
        ("read", "DEAL"),
        ("write", "ACCOUNT"),
        ("prepare", "CONTACT"),  # before the read-back, which waits for its slot
        ("read", "ACCOUNT"),
        ("write", "CONTACT"),
        ("prepare", "DEAL"),
        ("read", "CONTACT"),
        ("write", "DEAL"),
        ("read", "DEAL"),
    ]
    # What went out is what each upload is: every field, the new one included.
    posts = [r for r in gong.emulator.requests[since:] if r.method == "POST"]
    bodies = [p.body for p in posts]
    assert all(isinstance(b, list) for b in bodies)
    assert [[i["uniqueName"] for i in b] for b in bodies if isinstance(b, list)] == [
        ["a", "b", "c"]
    ] * 3
    for kind in ("ACCOUNT", "CONTACT", "DEAL"):
        assert gong.remote(kind) == {"a": "STRING", "b": "STRING", "c": "NUMBER"}


def test_a_prepared_body_is_sent_byte_for_byte_and_only_for_its_own_writes():
    client, recorder, _, _ = make(ok(), ok(), ok())
    first = (FIELD_A, STAGE)
    other = (STAGE,)

    client.prepare_write(INTEGRATION, ObjectType.ACCOUNT, first)
    client.write_schema(INTEGRATION, ObjectType.ACCOUNT, first)
    # Prepared for other writes, or another object type: these writes are encoded anew.
    client.prepare_write(INTEGRATION, ObjectType.ACCOUNT, first)
    client.write_schema(INTEGRATION, ObjectType.ACCOUNT, other)
    client.prepare_write(INTEGRATION, ObjectType.DEAL, first)
    client.write_schema(INTEGRATION, ObjectType.ACCOUNT, first)

    assert [r.content for r in recorder.requests] == [
        encode_body(first),
        encode_body(other),
        encode_body(first),
    ]
    assert [r.url.params["objectType"] for r in recorder.requests] == ["ACCOUNT"] * 3


class Reads:
    name = "fake"

    def __init__(self, log: list[str]) -> None:
        self.log = log

    def read_schema(self, integration_id, object_type=None):
        self.log.append(f"read {object_type}")
        return {object_type: RemoteSchema(object_type, ())}

    def write_schema(self, integration_id, object_type, writes):
        raise AssertionError("reads only")


def test_work_between_reads_runs_after_each_read_but_the_last():
    from factories import ACCOUNT, CONTACT, DEAL

    log: list[str] = []
    read_remote(Reads(log), [DEAL, ACCOUNT, CONTACT], between=lambda: log.append("work"))
    assert log == ["read ACCOUNT", "work", "read CONTACT", "work", "read DEAL"]
    log.clear()
    read_remote(Reads(log), [ACCOUNT], between=lambda: log.append("work"))
    assert log == ["read ACCOUNT"]

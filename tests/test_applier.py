"""The applier: one complete upload per changed object type, state saved after each."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import pytest
from factories import fld

from crmform.engine import planner
from crmform.engine.applier import Outcome, apply
from crmform.engine.errors import ProviderError, StateError
from crmform.engine.model import (
    Desired,
    FieldType,
    ObjectKey,
    ObjectSchema,
    ObjectType,
    State,
)
from crmform.engine.ports import FieldPayload, RemoteSchema, WriteResult
from crmform.state.local import LocalState

NOW = "2026-11-28T12:00:00Z"
ID = 6286478263646


def key(object_type: str) -> ObjectKey:
    return ObjectKey("gong", ID, object_type)


def obj(object_type: str, *names: str, kind: FieldType = FieldType.STRING) -> ObjectSchema:
    return ObjectSchema(key(object_type), tuple(fld(n, kind) for n in names))


class FakeProvider:
    """Records uploads; fails for the object types in `fail`."""

    name = "gong"

    def __init__(self, fail: Sequence[str] = ()) -> None:
        self.fail = set(fail)
        self.sent: list[tuple[ObjectType, list[dict[str, object]]]] = []

    def read_schema(
        self, integration_id: int, object_type: ObjectType | None = None
    ) -> dict[ObjectType, RemoteSchema]:
        raise AssertionError("the applier does not read")

    def write_schema(
        self, integration_id: int, object_type: ObjectType, body: Sequence[FieldPayload]
    ) -> WriteResult:
        assert integration_id == ID
        if object_type in self.fail:
            raise ProviderError("Gong rejected it.", status=400, errors=("bad",), request_id="r1")
        self.sent.append((object_type, [dict(item) for item in body]))
        return WriteResult(201, f"req-{object_type}")


@pytest.fixture
def backend(tmp_path: Path) -> LocalState:
    return LocalState(tmp_path / "crmform.state.json")


def run(desired: Desired, backend: LocalState, provider: FakeProvider):
    state = backend.read()
    return apply(planner.plan(desired, state), provider, backend, now=NOW)


def test_one_request_per_changed_object_type_and_none_for_unchanged(backend):
    desired = Desired(tuple(obj(t, "a") for t in ("ACCOUNT", "CONTACT", "DEAL", "LEAD")))
    first = FakeProvider()
    assert run(desired, backend, first).ok
    assert [t for t, _ in first.sent] == ["ACCOUNT", "CONTACT", "DEAL", "LEAD"]

    changed = Desired((obj("ACCOUNT", "a"), obj("CONTACT", "a", "b"), *desired.objects[2:]))
    second = FakeProvider()
    result = run(changed, backend, second)
    assert [t for t, _ in second.sent] == ["CONTACT"]
    assert [r.outcome for r in result.results] == [Outcome.APPLIED]
    assert backend.read().serial == 5


def test_state_is_written_after_each_upload_and_failure_stops_the_run(backend):
    desired = Desired((obj("ACCOUNT", "a"), obj("CONTACT", "b"), obj("DEAL", "c")))
    provider = FakeProvider(fail=["CONTACT"])
    result = run(desired, backend, provider)

    assert [(r.key.object_type, r.outcome) for r in result.results] == [
        ("ACCOUNT", Outcome.APPLIED),
        ("CONTACT", Outcome.FAILED),
        ("DEAL", Outcome.NOT_ATTEMPTED),
    ]
    assert not result.ok
    assert str(result.results[1].error) == ("Gong rejected it. The server said: bad (requestId r1)")
    stored = backend.read()
    assert [o.key.object_type for o in stored.objects] == ["ACCOUNT"]
    assert stored.serial == 1
    # Re-running finishes the job without resending what was applied.
    retry = FakeProvider()
    assert run(desired, backend, retry).ok
    assert [t for t, _ in retry.sent] == ["CONTACT", "DEAL"]


def test_state_write_failure_after_accepted_upload_is_reported_and_state_is_unchanged(
    backend, monkeypatch
):
    def refuse(state: State) -> State:
        raise StateError("disk full.")

    monkeypatch.setattr(backend, "write", refuse)
    result = run(Desired((obj("ACCOUNT", "a"),)), backend, FakeProvider())
    (only,) = result.results
    assert only.outcome is Outcome.FAILED
    assert str(only.error).startswith(
        "Gong accepted the upload for gong/6286478263646/ACCOUNT (requestId req-ACCOUNT), "
        "but saving the state failed: disk full."
    )
    assert backend.read() == State()


def test_deleted_fields_leave_state_once_their_tombstone_is_accepted(backend):
    assert run(Desired((obj("ACCOUNT", "a", "b"),)), backend, FakeProvider()).ok
    provider = FakeProvider()
    assert run(Desired((obj("ACCOUNT", "b"),)), backend, provider).ok
    (_, body) = provider.sent[0]
    assert [(i["uniqueName"], i.get("isDeleted", False)) for i in body] == [
        ("b", False),
        ("a", True),
    ]
    (stored,) = backend.read().objects
    assert [f.unique_name for f in stored.fields] == ["b"]


def test_protect_only_change_writes_state_without_a_request(backend):
    assert run(Desired((obj("ACCOUNT", "a"),)), backend, FakeProvider()).ok
    protected = Desired((ObjectSchema(key("ACCOUNT"), (fld("a", protect=True),)),))
    provider = FakeProvider()
    result = run(protected, backend, provider)
    assert provider.sent == []
    assert [r.outcome for r in result.results] == [Outcome.STATE_ONLY]
    assert backend.read().objects[0].fields[0].protect is True


def test_preflight_failure_stops_before_sending(backend):
    from crmform.engine.errors import PlanError

    def refuse(upload):
        raise PlanError(f"drift in {upload.key}")

    state = backend.read()
    provider = FakeProvider()
    the_plan = planner.plan(Desired((obj("ACCOUNT", "a"),)), state)
    result = apply(the_plan, provider, backend, now=NOW, preflight=refuse)
    assert provider.sent == []
    assert str(result.results[0].error) == "drift in gong/6286478263646/ACCOUNT"
    assert backend.read() == State()

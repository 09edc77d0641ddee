"""The applier: one complete upload per changed object type, state saved after each."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path

import pytest
from factories import fld

from crmform.engine import planner
from crmform.engine.applier import Outcome, apply
from crmform.engine.errors import ProviderError, StateError, UncertainOutcomeError
from crmform.engine.model import (
    Desired,
    Field,
    FieldType,
    ObjectKey,
    ObjectSchema,
    ObjectType,
    State,
)
from crmform.engine.ports import FieldWrite, RemoteSchema, WriteResult
from crmform.state.local import LocalState

NOW = "2026-11-28T12:00:00Z"
ID = 6286478263646


def key(object_type: str) -> ObjectKey:
    return ObjectKey("gong", ID, object_type)


def obj(object_type: str, *names: str, kind: FieldType = FieldType.STRING) -> ObjectSchema:
    return ObjectSchema(key(object_type), tuple(fld(n, kind) for n in names))


class FakeProvider:
    """Records uploads and answers reads with the live fields last uploaded; fails for the
    object types in `fail` with `failure` (a 400 by default). `applies_anyway` makes a
    failing upload land all the same (as a timed-out or 5xx upload may)."""

    name = "gong"

    def __init__(
        self,
        fail: Sequence[str] = (),
        failure: ProviderError | None = None,
        applies_anyway: bool = False,
        readback: Callable[[list[Field]], list[Field]] | None = None,
    ) -> None:
        self.fail = set(fail)
        self.failure = failure or ProviderError(
            "Gong rejected it.", status=400, errors=("bad",), request_id="r1"
        )
        self.applies_anyway = applies_anyway
        self.readback = readback
        self.sent: list[tuple[ObjectType, list[FieldWrite]]] = []
        self.live: dict[ObjectType, list[Field]] = {}
        self.reads = 0

    def read_schema(
        self, integration_id: int, object_type: ObjectType | None = None
    ) -> dict[ObjectType, RemoteSchema]:
        assert object_type is not None
        self.reads += 1
        live = self.live.get(object_type, [])
        if self.readback is not None:
            live = self.readback(live)
        return {object_type: RemoteSchema(object_type, tuple(live))}

    def write_schema(
        self, integration_id: int, object_type: ObjectType, body: Sequence[FieldWrite]
    ) -> WriteResult:
        assert integration_id == ID
        if object_type in self.fail:
            if self.applies_anyway:
                self._land(object_type, body)
            raise self.failure
        self.sent.append((object_type, list(body)))
        self._land(object_type, body)
        return WriteResult(201, f"req-{object_type}")

    def _land(self, object_type: ObjectType, body: Sequence[FieldWrite]) -> None:
        self.live[object_type] = [
            Field(w.field.unique_name, w.field.label, w.field.type) for w in body if not w.deleted
        ]


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
    # The first run: a pending record, then per upload its result (with the next upload's
    # pending record while one follows): 5 writes. The second: pending, then applied.
    assert backend.read().serial == 7


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
    # ACCOUNT recorded as pending; its result written with CONTACT's pending record; then
    # CONTACT's rejection cleared its record.
    assert stored.serial == 3
    assert stored.pending == ()
    # Re-running finishes the job without resending what was applied.
    retry = FakeProvider()
    assert run(desired, backend, retry).ok
    assert [t for t, _ in retry.sent] == ["CONTACT", "DEAL"]


def test_state_write_failure_after_accepted_upload_is_reported_and_state_is_unchanged(
    backend, monkeypatch
):
    write = backend.write

    def refuse_after_the_upload(state: State) -> State:
        if not state.pending:
            raise StateError("disk full.")
        return write(state)

    monkeypatch.setattr(backend, "write", refuse_after_the_upload)
    provider = FakeProvider()
    result = run(Desired((obj("ACCOUNT", "a"),)), backend, provider)
    (only,) = result.results
    assert only.outcome is Outcome.FAILED
    assert str(only.error).startswith(
        "Gong accepted the upload for gong/6286478263646/ACCOUNT (requestId req-ACCOUNT), "
        "but saving the state failed: disk full. The state records the upload as pending;"
    )
    # The state still has no objects, but it knows the upload may have landed.
    stored = backend.read()
    assert stored.objects == ()
    assert [p.key for p in stored.pending] == [key("ACCOUNT")]
    assert [f.unique_name for f in stored.pending[0].after.fields] == ["a"]


def test_deleted_fields_leave_state_once_their_tombstone_is_accepted(backend):
    assert run(Desired((obj("ACCOUNT", "a", "b"),)), backend, FakeProvider()).ok
    provider = FakeProvider()
    assert run(Desired((obj("ACCOUNT", "b"),)), backend, provider).ok
    (_, body) = provider.sent[0]
    assert [(w.field.unique_name, w.deleted) for w in body] == [
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


def test_the_upload_is_recorded_as_pending_before_it_is_sent(backend):
    seen: list[State] = []

    class Watching(FakeProvider):
        def write_schema(self, integration_id, object_type, body):
            seen.append(backend.read())
            return super().write_schema(integration_id, object_type, body)

    assert run(Desired((obj("ACCOUNT", "a"),)), backend, Watching()).ok
    (during,) = seen
    assert [p.key for p in during.pending] == [key("ACCOUNT")]
    assert during.objects == ()
    assert backend.read().pending == ()  # cleared by the definite success


@pytest.mark.parametrize(
    "failure",
    [
        UncertainOutcomeError("Gong answered with HTML.", status=200),
        ProviderError("Gong failed.", status=500),
        ProviderError("The request timed out."),
    ],
    ids=["not-gongs-answer", "5xx", "timeout"],
)
def test_an_upload_of_unknown_outcome_keeps_its_record_and_stops_the_run(backend, failure):
    desired = Desired((obj("ACCOUNT", "a"), obj("CONTACT", "b")))
    provider = FakeProvider(fail=["ACCOUNT"], failure=failure, applies_anyway=True)
    result = run(desired, backend, provider)

    assert [r.outcome for r in result.results] == [Outcome.UNCERTAIN, Outcome.NOT_ATTEMPTED]
    assert "Gong may have applied the upload" in str(result.results[0].error)
    stored = backend.read()
    assert stored.objects == ()  # never claims what Gong may not have
    assert [p.key for p in stored.pending] == [key("ACCOUNT")]


def test_a_rejected_upload_clears_its_record(backend):
    result = run(Desired((obj("ACCOUNT", "a"),)), backend, FakeProvider(fail=["ACCOUNT"]))
    assert result.results[0].outcome is Outcome.FAILED
    assert backend.read().pending == ()
    assert backend.read().objects == ()


def test_each_accepted_upload_is_read_back_once(backend):
    provider = FakeProvider()
    assert run(Desired((obj("ACCOUNT", "a"), obj("CONTACT", "b"))), backend, provider).ok
    assert provider.reads == 2


def test_a_read_back_that_differs_fails_and_the_state_records_what_gong_has(backend):
    def relabelled(live: list[Field]) -> list[Field]:
        return [Field(f.unique_name, "Changed by Gong", f.type) for f in live]

    provider = FakeProvider(readback=relabelled)
    result = run(Desired((obj("ACCOUNT", "a", "b"),)), backend, provider)

    (only,) = result.results
    assert only.outcome is Outcome.FAILED
    assert "reading it back shows other fields than were sent: a, b" in str(only.error)
    (stored,) = backend.read().objects
    assert [f.label for f in stored.fields] == ["Changed by Gong", "Changed by Gong"]
    assert backend.read().pending == ()


def test_without_verify_nothing_is_read_back(backend):
    provider = FakeProvider()
    state = backend.read()
    the_plan = planner.plan(Desired((obj("ACCOUNT", "a"),)), state)
    assert apply(the_plan, provider, backend, now=NOW, verify=False).ok
    assert provider.reads == 0


@pytest.mark.parametrize("during", ["write", "read-back"])
def test_ctrl_c_during_an_upload_reports_it_as_unknown_and_keeps_the_record(backend, during):
    class Interrupting(FakeProvider):
        def write_schema(self, integration_id, object_type, body):
            if during == "write":
                raise KeyboardInterrupt
            return super().write_schema(integration_id, object_type, body)

        def read_schema(self, integration_id, object_type=None):
            raise KeyboardInterrupt

    desired = Desired((obj("ACCOUNT", "a"), obj("CONTACT", "b")))
    result = run(desired, backend, Interrupting())

    assert result.interrupted
    assert not result.ok
    assert [r.outcome for r in result.results] == [Outcome.UNCERTAIN, Outcome.NOT_ATTEMPTED]
    assert [p.key for p in backend.read().pending] == [key("ACCOUNT")]


class RecordingBackend(LocalState):
    """The local backend, noting each state it stores (which addresses it records as
    applied, which as pending) and what had been sent when it was written."""

    def __init__(self, path: Path, provider: FakeProvider) -> None:
        super().__init__(path)
        self.provider = provider
        self.stored: list[tuple[list[str], list[str], int]] = []

    def write(self, state: State) -> State:
        written = super().write(state)
        applied = [o.key.object_type.value for o in written.objects]
        pending = [p.key.object_type.value for p in written.pending]
        self.stored.append((applied, pending, len(self.provider.sent)))
        return written


def test_each_result_is_written_with_the_next_uploads_pending_record(tmp_path):
    provider = FakeProvider()
    backend = RecordingBackend(tmp_path / "crmform.state.json", provider)
    desired = Desired((obj("ACCOUNT", "a"), obj("CONTACT", "b"), obj("DEAL", "c")))
    assert run(desired, backend, provider).ok
    # (applied, pending, uploads sent when written): every pending record is durable before
    # its POST, and each accepted upload is recorded before the next is sent.
    assert backend.stored == [
        ([], ["ACCOUNT"], 0),
        (["ACCOUNT"], ["CONTACT"], 1),
        (["ACCOUNT", "CONTACT"], ["DEAL"], 2),
        (["ACCOUNT", "CONTACT", "DEAL"], [], 3),
    ]


def test_a_next_upload_whose_preflight_fails_is_not_recorded_and_not_sent(tmp_path):
    provider = FakeProvider()
    backend = RecordingBackend(tmp_path / "crmform.state.json", provider)
    desired = Desired((obj("ACCOUNT", "a"), obj("CONTACT", "b"), obj("DEAL", "c")))
    checked: list[str] = []

    def preflight(upload) -> None:
        checked.append(upload.key.object_type.value)
        if upload.key.object_type == "CONTACT":
            raise ProviderError("Gong changed CONTACT. Nothing was sent for it.")

    state = backend.read()
    result = apply(planner.plan(desired, state), provider, backend, now=NOW, preflight=preflight)
    assert [(r.key.object_type, r.outcome) for r in result.results] == [
        ("ACCOUNT", Outcome.APPLIED),
        ("CONTACT", Outcome.FAILED),
        ("DEAL", Outcome.NOT_ATTEMPTED),
    ]
    assert str(result.results[1].error) == "Gong changed CONTACT. Nothing was sent for it."
    assert checked == ["ACCOUNT", "CONTACT"]  # each checked once
    assert [t for t, _ in provider.sent] == ["ACCOUNT"]
    assert backend.stored == [([], ["ACCOUNT"], 0), (["ACCOUNT"], [], 1)]

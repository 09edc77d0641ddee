"""apply's check of the remote (engine/preflight.py): conflicts, and the guard's reads."""

from __future__ import annotations

import pytest
from factories import ACCOUNT, CONTACT, fld
from factories import INTEGRATION as ID

from crmform.engine import drift
from crmform.engine.errors import PlanError, ProviderError, StalePlanError
from crmform.engine.model import (
    Desired,
    FieldType,
    ObjectSchema,
    ObjectType,
    State,
)
from crmform.engine.payload import build
from crmform.engine.planner import plan
from crmform.engine.ports import RemoteSchema
from crmform.engine.preflight import ConflictKind, RemoteGuard, conflicts, read_remote

T = FieldType


def obj(key, *fields):
    return ObjectSchema(key, tuple(fields))


class FakeGong:
    """A provider that answers reads from a dict and records them; writes are a bug here."""

    name = "gong"

    def __init__(self, schemas):
        self.schemas = schemas
        self.reads = []

    def read_schema(self, integration_id, object_type=None):
        self.reads.append((integration_id, object_type))
        fields = self.schemas.get(object_type, ())
        return {object_type: RemoteSchema(object_type, tuple(fields))}

    def write_schema(self, integration_id, object_type, body):
        raise AssertionError("the guard must never write")


@pytest.mark.parametrize(
    ("state", "desired", "remote", "expected"),
    [
        pytest.param(
            (fld("a"),), (fld("a"),), (fld("a"), fld("x")), [("x", "unknown")], id="unknown"
        ),
        pytest.param(
            (fld("a"), fld("b")), (fld("a"),), (fld("a"),), [("b", "missing")], id="missing"
        ),
        # Gong has a field the plan creates: a wrong state, or one added outside crmform (an
        # upload of crmform's own whose answer was lost is settled before planning).
        pytest.param((), (fld("a"),), (fld("a"),), [("a", "exists")], id="created, already there"),
        pytest.param(
            (fld("a"),), (fld("a"),), (fld("a", T.NUMBER),), [("a", "type")], id="type moved"
        ),
        pytest.param(
            (),
            (fld("a"),),
            (fld("a", T.NUMBER),),
            [("a", "exists")],
            id="created, already there with another type",
        ),
        pytest.param(
            (fld("a"),),
            (fld("a", T.NUMBER),),
            (fld("a"),),
            [],
            id="a replace the plan showed",
        ),
        pytest.param(
            (fld("a", T.ID),),
            (),
            (fld("a", T.NUMBER),),
            [],
            id="a planned delete of a field whose type moved",
        ),
    ],
)
def test_conflicts(state, desired, remote, expected):
    found = conflicts(
        ACCOUNT,
        obj(ACCOUNT, *state),
        obj(ACCOUNT, *desired),
        RemoteSchema(ObjectType.ACCOUNT, remote),
    )
    assert [(c.unique_name, c.kind.value) for c in found] == expected


def test_conflict_messages_name_the_address_the_field_and_what_happened():
    missing, unknown, moved = conflicts(
        ACCOUNT,
        obj(ACCOUNT, fld("gone"), fld("score")),
        obj(ACCOUNT, fld("gone"), fld("score")),
        RemoteSchema(ObjectType.ACCOUNT, (fld("region"), fld("score", T.NUMBER))),
    )
    assert (missing.kind, unknown.kind, moved.kind) == (
        ConflictKind.MISSING,
        ConflictKind.UNKNOWN,
        ConflictKind.TYPE,
    )
    assert str(missing) == (
        f"gong/{ID}/ACCOUNT gone: the state records this field, but Gong no longer has it (it "
        "was deleted outside crmform, with its data)."
    )
    assert str(unknown) == (
        f"gong/{ID}/ACCOUNT region: Gong has this STRING field, but neither the state nor the "
        "schema files know it (it was added outside crmform); Gong rejects an upload that "
        "leaves it out."
    )
    assert str(moved) == (
        f"gong/{ID}/ACCOUNT score: Gong has it as NUMBER, but the upload would send STRING, "
        "which replaces the field and deletes its data; the plan did not show that."
    )


STATE = State("l", 2, (obj(ACCOUNT, fld("a")), obj(CONTACT, fld("c"))))
DESIRED = Desired((obj(ACCOUNT, fld("a"), fld("b")), obj(CONTACT, fld("c"), fld("d"))))


def test_the_guard_reads_every_address_to_write_once_and_names_all_conflicts():
    gong = FakeGong({ObjectType.ACCOUNT: (fld("a"),), ObjectType.CONTACT: (fld("c"), fld("x"))})
    guard = RemoteGuard(gong, plan(DESIRED, STATE), directory="schema")
    with pytest.raises(PlanError) as err:
        guard.check_all()
    assert gong.reads == [(ID, ObjectType.ACCOUNT), (ID, ObjectType.CONTACT)]
    message = str(err.value)
    assert message.startswith("Gong's schema changed outside crmform. Nothing was sent.\n")
    assert f"  gong/{ID}/CONTACT x: Gong has this STRING field" in message
    assert (
        "To resolve: add the fields to the schema files; or run `crmform refresh schema` to "
        "record Gong's schema in the state, then review `crmform plan schema`"
    ) in message
    assert f"`crmform import --integration-id {ID} --object-type CONTACT --force`" in message


def test_the_preflight_hook_does_not_read_again_after_check_all():
    gong = FakeGong({ObjectType.ACCOUNT: (fld("a"),), ObjectType.CONTACT: (fld("c"),)})
    the_plan = plan(DESIRED, STATE)
    guard = RemoteGuard(gong, the_plan, directory="schema")
    assert guard.check_all() == 2
    guard(build(ACCOUNT, DESIRED.get(ACCOUNT), STATE.get(ACCOUNT), "2026-01-01T00:00:00Z"))
    assert len(gong.reads) == 2


def test_the_hook_alone_checks_its_own_address():
    gong = FakeGong({ObjectType.ACCOUNT: (fld("a"), fld("zz"))})
    guard = RemoteGuard(gong, plan(DESIRED, STATE), directory="schema")
    with pytest.raises(PlanError, match=f"Nothing was sent for gong/{ID}/ACCOUNT."):
        guard(build(ACCOUNT, DESIRED.get(ACCOUNT), STATE.get(ACCOUNT), "2026-01-01T00:00:00Z"))
    assert gong.reads == [(ID, ObjectType.ACCOUNT)]


def test_addresses_with_only_protect_changes_are_not_read():
    protected = Desired((obj(ACCOUNT, fld("a", protect=True)),))
    state = State("l", 1, (obj(ACCOUNT, fld("a")),))
    gong = FakeGong({})
    assert RemoteGuard(gong, plan(protected, state), directory=".").check_all() == 0
    assert gong.reads == []


def test_a_refreshed_plan_passes_while_gong_is_unchanged_and_is_refused_once_it_moves():
    remote = {ObjectType.ACCOUNT: (fld("a"), fld("r")), ObjectType.CONTACT: (fld("c"),)}
    remotes = {k: RemoteSchema(k.object_type, remote[k.object_type]) for k in (ACCOUNT, CONTACT)}
    made = drift.plan_refreshed(DESIRED, STATE, remotes)
    gong = FakeGong(remote)
    assert RemoteGuard(gong, made, directory="s", source="p.plan").check_all() == 2

    moved = FakeGong({ObjectType.ACCOUNT: (fld("a"),), ObjectType.CONTACT: (fld("c"), fld("n"))})
    with pytest.raises(StalePlanError) as err:
        RemoteGuard(moved, made, directory="s", source="p.plan").check_all()
    assert str(err.value) == "\n".join(
        [
            "The saved plan p.plan was made against Gong's schema as it was then, but it "
            "changed since. Nothing was sent.",
            f'  gong/{ID}/ACCOUNT r: no longer as the plan saw it (r (STRING) "R": added in Gong)',
            f'  gong/{ID}/CONTACT n (STRING) "N": added in Gong',
            "Run `crmform plan s --refresh --out p.plan` again and review the new plan.",
        ]
    )


def test_a_remote_that_only_restates_details_is_still_named():
    stamped = fld("a", stamp="2026-01-01T00:00:00Z")
    remotes = {ACCOUNT: RemoteSchema(ObjectType.ACCOUNT, (fld("a"),))}
    state = State("l", 1, (obj(ACCOUNT, fld("a")),))
    made = drift.plan_refreshed(Desired((obj(ACCOUNT, fld("a"), fld("b")),)), state, remotes)
    gong = FakeGong({ObjectType.ACCOUNT: (stamped,)})
    with pytest.raises(StalePlanError, match="Gong now reports other details"):
        RemoteGuard(gong, made, directory="s", source="p.plan").check_all()


def test_a_provider_that_omits_the_asked_type_is_an_error_not_an_empty_schema():
    class Silent(FakeGong):
        def read_schema(self, integration_id, object_type=None):
            return {}

    with pytest.raises(ProviderError, match=f"did not return the schema of gong/{ID}/ACCOUNT"):
        read_remote(Silent({}), [ACCOUNT])

"""engine/values.py: the model's value types keep what @dataclass(frozen=True, slots=True)
gave them: equality, hashing, ordering, repr, immutability, copying and replace()."""

from __future__ import annotations

import copy
import pickle

import pytest

from crmform.engine.errors import Diagnostic
from crmform.engine.formats.codec import field_to_json
from crmform.engine.model import (
    FIELD,
    DeletedField,
    Field,
    FieldRef,
    FieldType,
    FrozenInstanceError,
    ObjectKey,
    ObjectSchema,
    ObjectType,
    State,
    Summary,
    replace,
)
from crmform.engine.values import Value, _set
from crmform.runtime import ProviderOptions

KEY = ObjectKey("gong", 7, ObjectType.DEAL)


def test_equal_values_are_equal_and_hash_alike():
    a = Field("tier", "Tier", FieldType.PICKLIST, ordered_value_list=("a", "b"))
    b = Field("tier", "Tier", FieldType.PICKLIST, None, ("a", "b"), False, None)
    assert a == b
    assert hash(a) == hash(b)
    assert a != replace(a, protect=True)
    assert len({a, b, replace(a, label="T")}) == 2
    assert ObjectSchema(KEY, (a,)) == ObjectSchema(ObjectKey("gong", 7, "DEAL"), (b,))


def test_values_of_different_types_are_never_equal():
    assert FieldRef(KEY, "x") != (KEY, "x")
    assert FieldRef(KEY, "x").__eq__((KEY, "x")) is NotImplemented
    assert KEY != "gong/7/DEAL"


def test_repr_names_each_attribute_as_a_dataclass_does():
    assert repr(FieldRef(KEY, "x")) == (
        "FieldRef(key=ObjectKey(provider='gong', integration_id=7, "
        "object_type=<ObjectType.DEAL: 'DEAL'>), unique_name='x')"
    )
    assert repr(Summary(create=2)) == (
        "Summary(create=2, update=0, replace=0, delete=0, protect=0)"
    )


def test_provider_options_repr_leaves_the_credentials_out():
    shown = repr(ProviderOptions(base_url="https://x", access_key="k1", bearer_token="t1"))
    assert "https://x" in shown
    assert "k1" not in shown
    assert "t1" not in shown
    assert "access_key" not in shown


def test_values_cannot_be_changed():
    f = Field("a", "A", FieldType.DATE)
    with pytest.raises(FrozenInstanceError, match="cannot assign to field 'label'"):
        f.label = "B"  # type: ignore[misc]
    with pytest.raises(AttributeError):  # FrozenInstanceError is one, as dataclasses' is
        del f.label
    with pytest.raises(AttributeError):
        f.other = 1
    assert f.label == "A"


def test_ordering_follows_the_attributes_in_their_order():
    older = DeletedField(KEY, "a", FieldType.ID, "2024-01-02T00:00:00Z")
    newer = DeletedField(KEY, "a", FieldType.ID, "2025-01-01T00:00:00Z")
    other = DeletedField(ObjectKey("gong", 7, "ACCOUNT"), "z", FieldType.ID, "2020")
    assert sorted([newer, older, other]) == [other, older, newer]
    assert older < newer <= newer
    assert newer > older >= older
    assert sorted([ObjectKey("gong", 10, "LEAD"), ObjectKey("gong", 1, "LEAD")])[0].address == (
        "gong/1/LEAD"
    )
    with pytest.raises(TypeError):
        _ = FieldRef(KEY, "a") < older
    with pytest.raises(TypeError):
        _ = KEY < "gong/7/DEAL"
    first = Diagnostic("a.yaml", 3, "fields[0]", "bad")
    assert sorted([Diagnostic("a.yaml", 9, "", "x"), first])[0] is first


def test_replace_builds_a_new_value_through_init():
    f = Field("a", "A", FieldType.DATE)
    g = replace(f, label="B", last_modified="t")
    assert (g.label, g.last_modified, g.unique_name) == ("B", "t", "a")
    assert f.label == "A"
    moved = replace(KEY, object_type="LEAD")  # address is worked out again
    assert moved.address == "gong/7/LEAD"
    assert moved.object_type is ObjectType.LEAD
    with pytest.raises(TypeError):
        replace(f, colour="red")
    state = replace(State(), serial=3)
    assert state == State(serial=3)


def test_values_copy_and_pickle():
    state = State(
        "lin",
        2,
        (ObjectSchema(KEY, (Field("a", "A", FieldType.URL),)),),
        deleted=(DeletedField(KEY, "b", FieldType.ID, "t"),),
    )
    assert pickle.loads(pickle.dumps(state)) == state
    assert copy.copy(state) == state
    assert copy.deepcopy(state) == state
    assert copy.deepcopy(KEY).address == KEY.address


def test_a_subclass_must_slot_what_it_annotates():
    with pytest.raises(TypeError, match="__slots__"):

        class Broken(Value):
            __slots__ = ("a",)
            a: int
            b: int

    class Pair(Value):
        __slots__ = ("first", "second")  # any order: the annotations give theirs
        first: int
        second: str

        def __init__(self, first: int, second: str) -> None:
            _set(self, "first", first)
            _set(self, "second", second)

    assert repr(Pair(1, "x")).endswith(".Pair(first=1, second='x')")  # its qualname
    assert not hasattr(Pair(1, "x"), "__dict__")


def test_a_field_is_a_tuple_built_in_c_that_keeps_what_a_value_gives():
    """Field is a NamedTuple (issue 14), so the readers build it with FIELD, in C."""
    f = Field("tier", "Tier", FieldType.PICKLIST, ordered_value_list=("a",), protect=True)
    built = FIELD(("tier", "Tier", FieldType.PICKLIST, None, ("a",), True, None))
    assert type(built) is Field
    assert built == f
    assert hash(built) == hash(f)
    assert repr(f) == (
        "Field(unique_name='tier', label='Tier', type=<FieldType.PICKLIST: 'PICKLIST'>, "
        "reference_to=None, ordered_value_list=('a',), protect=True, last_modified=None)"
    )
    assert pickle.loads(pickle.dumps(f)) == f
    assert copy.deepcopy(f) == f
    with pytest.raises(FrozenInstanceError, match="cannot assign to field 'protect'"):
        f.protect = False  # type: ignore[misc]
    with pytest.raises(FrozenInstanceError):
        del f.label
    # Written by name, never as the tuple it is.
    assert field_to_json(f) == {
        "uniqueName": "tier",
        "label": "Tier",
        "type": "PICKLIST",
        "orderedValueList": ["a"],
        "protect": True,
    }

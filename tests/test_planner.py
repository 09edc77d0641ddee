"""The planner: every action, their combinations, protection, ordering, and properties."""

from __future__ import annotations

import pytest
from factories import ACCOUNT, CONTACT, fld
from hypothesis import given, settings
from hypothesis import strategies as st

from crmform.engine import words
from crmform.engine.errors import PlanError, ProtectedFieldError
from crmform.engine.model import (
    Action,
    Desired,
    FieldType,
    NoteKind,
    ObjectKey,
    ObjectSchema,
    ObjectType,
    Plan,
    Reason,
    State,
    replace,
    values_diff,
    values_removed,
)
from crmform.engine.planner import plan

S, N, P, R = FieldType.STRING, FieldType.NUMBER, FieldType.PICKLIST, FieldType.REFERENCE


def desired(*fields, key=ACCOUNT, source="accounts.yaml"):
    return Desired((ObjectSchema(key, tuple(fields), source),))


def state(*fields, key=ACCOUNT, serial=3):
    return State("lin-1", serial, (ObjectSchema(key, tuple(fields)),) if fields else ())


def summary_of(p: Plan):
    return [(c.action.value, c.unique_name, words.reason(c)) for c in p.changes]


# --- every action and combination, one table -----------------------------------------------

CASES = [
    ("no-op", [fld("name")], [fld("name")], []),
    (
        "no-op ignores lastModified",
        [fld("name", stamp="2024-01-01T00:00:00Z")],
        [fld("name")],
        [],
    ),
    ("create", [], [fld("name")], [("create", "name", "new field")]),
    (
        "delete entry",
        [fld("name"), fld("old")],
        [fld("name")],
        [("delete", "old", "not in the schema files")],
    ),
    (
        "replace",
        [fld("amount", S)],
        [fld("amount", N)],
        [("replace", "amount", "type STRING -> NUMBER")],
    ),
    (
        "replace wins over label",
        [fld("amount", S, "A")],
        [fld("amount", N, "B")],
        [("replace", "amount", "type STRING -> NUMBER")],
    ),
    (
        "label",
        [fld("name", label="Name")],
        [fld("name", label="Account name")],
        [("update", "name", 'label "Name" -> "Account name"')],
    ),
    (
        "values added and removed",
        [fld("tier", P, values=["Bronze", "Silver"])],
        [fld("tier", P, values=["Silver", "Gold"])],
        [("update", "tier", 'values +"Gold" -"Bronze"')],
    ),
    (
        "values reordered",
        [fld("tier", P, values=["A", "B"])],
        [fld("tier", P, values=["B", "A"])],
        [("update", "tier", 'values reordered to "B", "A"')],
    ),
    (
        "values added and reordered",
        [fld("tier", P, values=["A", "B"])],
        [fld("tier", P, values=["B", "A", "C"])],
        [("update", "tier", 'values +"C", reordered to "B", "A", "C"')],
    ),
    (
        "values are quoted",
        [fld("tier", P, values=["A"])],
        [fld("tier", P, values=["A", "Gold Plus"])],
        [("update", "tier", 'values +"Gold Plus"')],
    ),
    (
        "referenceTo",
        [fld("acct", R, ref="ACCOUNT")],
        [fld("acct", R, ref="CONTACT")],
        [("update", "acct", "referenceTo ACCOUNT -> CONTACT")],
    ),
    (
        "referenceTo unknown in state",
        [fld("acct", R)],
        [fld("acct", R, ref="USER")],
        [("update", "acct", "referenceTo (unset) -> USER")],
    ),
    (
        "several attributes",
        [fld("t", P, "T", values=["A"])],
        [fld("t", P, "Tier", values=["A", "B"])],
        [("update", "t", 'label "T" -> "Tier"; values +"B"')],
    ),
    (
        "protect only",
        [fld("name")],
        [fld("name", protect=True)],
        [("protect", "name", "protect false -> true")],
    ),
    (
        "unprotect only",
        [fld("name", protect=True)],
        [fld("name")],
        [("protect", "name", "protect true -> false")],
    ),
    (
        "protect and label is an update",
        [fld("name", label="A")],
        [fld("name", label="B", protect=True)],
        [("update", "name", 'label "A" -> "B"; protect false -> true')],
    ),
    (
        "mixed, sorted by name",
        [fld("b"), fld("d"), fld("c", S)],
        [fld("c", N), fld("a"), fld("b", label="X")],
        [
            ("create", "a", "new field"),
            ("update", "b", 'label "B" -> "X"'),
            ("replace", "c", "type STRING -> NUMBER"),
            ("delete", "d", "not in the schema files"),
        ],
    ),
]


@pytest.mark.parametrize(
    ("before", "after", "expected"), [c[1:] for c in CASES], ids=[c[0] for c in CASES]
)
def test_plan_classifies_each_field(before, after, expected):
    p = plan(desired(*after), state(*before))
    assert summary_of(p) == expected


def test_changes_carry_before_and_after_as_documented():
    old = fld("old", stamp="2024-01-01T00:00:00Z")
    kept_before = fld("kept", label="A", stamp="2024-01-01T00:00:00Z")
    kept_after = fld("kept", label="B")
    new = fld("new")
    p = plan(desired(kept_after, new), state(old, kept_before))
    by_name = {c.unique_name: c for c in p.changes}
    assert (by_name["new"].before, by_name["new"].after) == (None, new)
    assert (by_name["old"].before, by_name["old"].after) == (old, None)
    assert (by_name["kept"].before, by_name["kept"].after) == (kept_before, kept_after)
    assert [c.destroys_data for c in p.changes] == [False, False, True]


def test_new_object_creates_all_its_fields():
    d = Desired(
        (
            ObjectSchema(ACCOUNT, (fld("name"),), "accounts.yaml"),
            ObjectSchema(CONTACT, (fld("email"), fld("phone")), "contacts.yaml"),
        )
    )
    p = plan(d, state(fld("name")))
    assert [(c.key, c.action, c.unique_name) for c in p.changes] == [
        (CONTACT, Action.CREATE, "email"),
        (CONTACT, Action.CREATE, "phone"),
    ]


def test_removed_object_file_deletes_every_field_of_it():
    s = State(
        "lin-1",
        3,
        (ObjectSchema(ACCOUNT, (fld("name"),)), ObjectSchema(CONTACT, (fld("email"), fld("x")))),
    )
    p = plan(desired(fld("name")), s)
    assert summary_of(p) == [
        ("delete", "email", "object file removed"),
        ("delete", "x", "object file removed"),
    ]


def test_object_file_with_no_fields_left_deletes_them_as_not_in_the_files():
    p = plan(desired(), state(fld("name")))
    assert summary_of(p) == [("delete", "name", "not in the schema files")]


def test_plan_records_the_state_it_was_made_against():
    d = desired(fld("name"))
    p = plan(d, state(fld("name"), serial=7))
    assert (p.state_lineage, p.state_serial, p.desired, p.is_empty) == ("lin-1", 7, d, True)


def test_empty_files_against_empty_state_plan_nothing():
    assert plan(Desired(), State()).changes == ()


def test_gong_documented_sequence_of_uploads():
    # Gong's docs: add fieldA; add fieldB keeping fieldA; then send B, C and A as deleted.
    a, b, c = fld("fieldA"), fld("fieldB"), fld("fieldC")
    step1 = plan(desired(a), State())
    assert summary_of(step1) == [("create", "fieldA", "new field")]
    step2 = plan(desired(a, b), state(a, serial=1))
    assert summary_of(step2) == [("create", "fieldB", "new field")]
    step3 = plan(desired(b, c), state(a, b, serial=2))
    assert summary_of(step3) == [
        ("delete", "fieldA", "not in the schema files"),
        ("create", "fieldC", "new field"),
    ]
    assert step3.changes[0].destroys_data


def test_changes_are_ordered_by_address_then_name():
    k9 = ObjectKey("gong", 9, ObjectType.LEAD)
    k10 = ObjectKey("gong", 10, ObjectType.DEAL)
    d = Desired(
        (
            ObjectSchema(k9, (fld("z"), fld("a")), "b.yaml"),
            ObjectSchema(CONTACT, (fld("m"),), "c.yaml"),
            ObjectSchema(k10, (fld("b"), fld("A")), "a.yaml"),
        )
    )
    p = plan(d, State())
    assert [(c.key.address, c.unique_name) for c in p.changes] == [
        ("gong/10/DEAL", "A"),
        ("gong/10/DEAL", "b"),
        ("gong/6286478263646/CONTACT", "m"),
        ("gong/9/LEAD", "a"),
        ("gong/9/LEAD", "z"),
    ]


def test_values_diff_reports_added_removed_and_reordering():
    diff = values_diff(("A", "B", "C"), ("C", "A", "D"))
    assert (diff.added, diff.removed, diff.reordered) == (("D",), ("B",), True)
    assert values_diff(None, ("A",)).added == ("A",)
    assert not values_diff(("A", "B"), ("A", "X", "B")).reordered


_VALUE_LISTS = st.none() | st.lists(st.sampled_from("ABCDE"), unique=True, max_size=5).map(tuple)


@given(before=_VALUE_LISTS, after=_VALUE_LISTS)
def test_values_removed_says_whether_values_diff_removes_any(before, after):
    assert values_removed(before, after) == bool(values_diff(before, after).removed)


# --- protection ----------------------------------------------------------------------------

FIX_REPLACE = (
    "Set `protect: false` on the field in accounts.yaml (keeping its current type) and apply "
    "that first, then make the change."
)


def test_replacing_a_protected_field_is_refused():
    with pytest.raises(ProtectedFieldError) as err:
        plan(desired(fld("category", S, protect=True)), state(fld("category", P, protect=True)))
    assert str(err.value) == (
        "The plan would delete the data of 1 protected field:\n"
        "  gong/6286478263646/ACCOUNT category: the plan would replace it (type PICKLIST -> "
        f"STRING) but it is protected. {FIX_REPLACE}"
    )


def test_protecting_in_the_same_edit_as_a_type_change_is_refused():
    with pytest.raises(ProtectedFieldError, match="would replace it"):
        plan(desired(fld("category", S, protect=True)), state(fld("category", P)))


def test_unprotecting_in_the_same_edit_as_a_type_change_is_refused():
    with pytest.raises(ProtectedFieldError, match="would replace it"):
        plan(desired(fld("category", S)), state(fld("category", P, protect=True)))


def test_removing_a_protected_entry_is_refused_and_names_the_file():
    with pytest.raises(ProtectedFieldError) as err:
        plan(desired(fld("name")), state(fld("name"), fld("legacyId", FieldType.ID, protect=True)))
    assert str(err.value) == (
        "The plan would delete the data of 1 protected field:\n"
        "  gong/6286478263646/ACCOUNT legacyId: the plan would delete it (not in the schema "
        "files) but it is protected. Put the entry back in accounts.yaml with `protect: false`, "
        "apply that first, then remove it."
    )


def test_removing_the_file_of_a_protected_field_is_refused():
    with pytest.raises(ProtectedFieldError) as err:
        plan(Desired(), state(fld("legacyId", protect=True)))
    assert str(err.value) == (
        "The plan would delete the data of 1 protected field:\n"
        "  gong/6286478263646/ACCOUNT legacyId: the plan would delete it (object file removed) "
        "but it is protected. Put the object's file back with `protect: false` on this field, "
        "apply that first, then remove it."
    )


def test_all_protected_violations_are_reported_together():
    s = State(
        "lin-1",
        3,
        (
            ObjectSchema(ACCOUNT, (fld("a", protect=True), fld("b", protect=True), fld("ok"))),
            ObjectSchema(CONTACT, (fld("c", protect=True),)),
        ),
    )
    d = desired(fld("a", N, protect=True), source=None)
    with pytest.raises(ProtectedFieldError) as err:
        plan(d, s)
    lines = str(err.value).splitlines()
    assert lines[0] == "The plan would delete the data of 3 protected fields:"
    assert [line.split(":")[0] for line in lines[1:]] == [
        "  gong/6286478263646/ACCOUNT a",
        "  gong/6286478263646/ACCOUNT b",
        "  gong/6286478263646/CONTACT c",
    ]
    # Without a source file the fix cannot name one.
    assert "Set `protect: false` on the field (keeping" in lines[1]
    assert "Put the entry back with `protect: false`" in lines[2]


def test_unprotect_first_then_delete_works():
    protected = fld("legacyId", protect=True)
    step1 = plan(desired(fld("legacyId")), state(protected))
    assert summary_of(step1) == [("protect", "legacyId", "protect true -> false")]
    step2 = plan(desired(), state(fld("legacyId"), serial=4))
    assert summary_of(step2) == [("delete", "legacyId", "not in the schema files")]


def test_protected_field_may_still_be_updated_in_place():
    p = plan(desired(fld("n", label="B", protect=True)), state(fld("n", label="A", protect=True)))
    assert summary_of(p) == [("update", "n", 'label "A" -> "B"')]


# --- malformed input the loader should have caught -------------------------------------------


def test_an_object_declared_twice_is_refused():
    d = Desired(
        (ObjectSchema(ACCOUNT, (fld("a"),), "one.yaml"), ObjectSchema(ACCOUNT, (), "two.yaml"))
    )
    with pytest.raises(PlanError) as err:
        plan(d, State())
    assert str(err.value) == (
        "gong/6286478263646/ACCOUNT is declared twice (in one.yaml and two.yaml). "
        "Keep exactly one schema file per integration and object type."
    )


def test_a_field_declared_twice_is_refused():
    with pytest.raises(PlanError) as err:
        plan(desired(fld("a"), fld("b"), fld("a", N)), State())
    assert str(err.value) == (
        "accounts.yaml: gong/6286478263646/ACCOUNT declares the field a more than once. "
        "Each uniqueName must appear once per object type."
    )


def test_a_state_field_recorded_twice_is_refused():
    with pytest.raises(PlanError) as err:
        plan(desired(), state(fld("a"), fld("a")))
    assert str(err.value) == (
        "The state records the field a of gong/6286478263646/ACCOUNT twice, so it is damaged. "
        "Restore the state file from its backup."
    )


# --- properties ----------------------------------------------------------------------------

KEYS = [ObjectKey("gong", i, t) for i in (7, 2271307570613351879) for t in ("ACCOUNT", "DEAL")]


@st.composite
def fields_st(draw):
    names = draw(st.lists(st.sampled_from("abcdef"), unique=True, max_size=5))
    out = []
    for name in names:
        type_ = draw(st.sampled_from([S, N, P, R]))
        values = ref = None
        if type_ is P:
            values = draw(st.permutations(["x", "y", "z"]))[: draw(st.integers(0, 3))]
        if type_ is R:
            ref = draw(st.sampled_from(["ACCOUNT", "USER"]))
        label = draw(st.sampled_from(["L", "M"]))
        # Protection is rare, so most examples get past it to the other properties.
        protect = draw(st.integers(0, 9)) == 0
        out.append(fld(name, type_, label, values=values, ref=ref, protect=protect))
    return tuple(out)


@st.composite
def objects_st(draw):
    keys = draw(st.lists(st.sampled_from(KEYS), unique=True, max_size=4))
    return tuple(ObjectSchema(k, draw(fields_st()), f"{k.object_type}.yaml") for k in keys)


def outcome(d: Desired, s: State):
    try:
        return plan(d, s)
    except ProtectedFieldError as exc:
        return str(exc)


def shuffled(objects, rnd):
    objs = [
        ObjectSchema(o.key, tuple(rnd.sample(o.fields, len(o.fields))), o.source) for o in objects
    ]
    rnd.shuffle(objs)
    return tuple(objs)


@settings(max_examples=150, deadline=None)
@given(objects_st(), objects_st(), st.randoms(use_true_random=False))
def test_shuffling_objects_and_fields_changes_nothing(want, have, rnd):
    first = outcome(Desired(want), State("l", 1, have))
    second = outcome(Desired(shuffled(want, rnd)), State("l", 1, shuffled(have, rnd)))
    if isinstance(first, Plan) and isinstance(second, Plan):
        assert first.changes == second.changes
    else:
        assert first == second


@settings(max_examples=150, deadline=None)
@given(objects_st(), objects_st())
def test_every_field_is_unchanged_or_has_exactly_one_change(want, have):
    p = outcome(Desired(want), State("l", 1, have))
    if not isinstance(p, Plan):
        return
    counts: dict[tuple[ObjectKey, str], int] = {}
    for c in p.changes:
        counts[(c.key, c.unique_name)] = counts.get((c.key, c.unique_name), 0) + 1
    assert set(counts.values()) <= {1}
    wanted = {(o.key, f.unique_name): f for o in want for f in o.fields}
    for obj in have:
        for f in obj.fields:
            w = wanted.get((obj.key, f.unique_name))
            unchanged = w is not None and w.same_remote(f) and w.protect == f.protect
            assert counts.get((obj.key, f.unique_name), 0) == (0 if unchanged else 1)
    for key, name in wanted:
        in_state = any(o.key == key and name in o.by_name() for o in have)
        if not in_state:
            assert counts.get((key, name)) == 1


@settings(max_examples=150, deadline=None)
@given(objects_st(), objects_st())
def test_summary_equals_the_counts_of_actions(want, have):
    p = outcome(Desired(want), State("l", 1, have))
    if not isinstance(p, Plan):
        return
    actions = [c.action for c in p.changes]
    s = p.summary
    assert (s.create, s.update, s.replace, s.delete, s.protect) == tuple(
        actions.count(a)
        for a in (Action.CREATE, Action.UPDATE, Action.REPLACE, Action.DELETE, Action.PROTECT)
    )
    assert s.total == len(p.changes)


@settings(max_examples=200, deadline=None)
@given(objects_st(), objects_st())
def test_no_protected_field_is_ever_replaced_or_deleted(want, have):
    wanted = {(o.key, f.unique_name): f for o in want for f in o.fields}
    threatened = [
        (o.key, f.unique_name)
        for o in have
        for f in o.fields
        if (w := wanted.get((o.key, f.unique_name))) is None or w.type != f.type
        if f.protect or (w is not None and w.protect)
    ]
    p = outcome(Desired(want), State("l", 1, have))
    if threatened:
        assert isinstance(p, str)
        assert f"{len(threatened)} protected field" in p
    else:
        assert isinstance(p, Plan)
        assert not any(
            (c.before and c.before.protect) or (c.after and c.after.protect) for c in p.destructive
        )


@settings(max_examples=100, deadline=None)
@given(objects_st())
def test_planning_against_a_state_equal_to_the_files_is_empty(want):
    assert plan(Desired(want), State("l", 1, want)).is_empty


@settings(max_examples=150, deadline=None)
@given(objects_st(), objects_st())
def test_replanning_after_the_applied_outcome_is_empty(want, have):
    # engine/payload.py (the lead's) computes the state after a successful apply.
    from factories import applied

    before = State("l", 1, have)
    p = outcome(Desired(want), before)
    if not isinstance(p, Plan):
        return
    after = applied(p, "2025-01-02T03:04:05Z")
    assert plan(Desired(want), after).changes == ()


# --- the fast paths against the plain algorithm they replace ------------------------------


def reference_changes(d: Desired, s: State):
    """Every name of every object classified, one by one (the planner before issue 14's
    fast path ruled out the unchanged fields at once)."""
    from crmform.engine.planner import _classify

    wanted, applied = {o.key: o for o in d.objects}, {o.key: o for o in s.objects}
    out = []
    for key in sorted(wanted.keys() | applied.keys()):
        after = wanted[key].by_name() if key in wanted else {}
        before = applied[key].by_name() if key in applied else {}
        gone = Reason.NOT_IN_FILES if key in wanted else Reason.OBJECT_REMOVED
        for name in sorted(after.keys() | before.keys()):
            change = _classify(key, name, before.get(name), after.get(name), gone)
            if change is not None:
                out.append(change)
    return tuple(out)


def reference_renames(changes):
    """The (delete, create) pairs that look like a rename, each pair matched afresh."""
    from difflib import SequenceMatcher

    from crmform.engine.planner import _MAX_SIMILARITY_PAIRS, RENAME_SIMILARITY

    pairs = []
    keys = dict.fromkeys(c.key for c in changes)
    for key in keys:
        group = [c for c in changes if c.key == key]
        creates = [c for c in group if c.action is Action.CREATE]
        deletes = [c for c in group if c.action is Action.DELETE]
        for kind in dict.fromkeys(d.before.type for d in deletes):
            olds = [d for d in deletes if d.before.type is kind]
            news = [c for c in creates if c.after.type is kind]
            fuzzy = len(olds) * len(news) <= _MAX_SIMILARITY_PAIRS
            for d in olds:
                label = d.before.label.casefold()
                for c in news:
                    new = c.after.label.casefold()
                    similar = fuzzy and SequenceMatcher(None, label, new).ratio() >= (
                        RENAME_SIMILARITY
                    )
                    if new == label or similar:
                        pairs.append((key, d.unique_name, c.unique_name))
    return pairs


# Labels alike enough to look like renames ("Region" and "Regions": 0.92), and not.
LABELS = st.one_of(
    st.sampled_from(["Region", "Regions", "region", "Area", "Areas", "Sales Area"]),
    st.text("abAB ", min_size=1, max_size=6),
)


@st.composite
def varied_fields_st(draw, names_from="abcdefghij"):
    """Fields with varied labels, some alike enough to look like renames."""
    names = draw(st.lists(st.sampled_from(names_from), unique=True, max_size=6))
    out = []
    for name in names:
        type_ = draw(st.sampled_from([S, S, S, N, P, R]))
        values = tuple(draw(st.lists(st.sampled_from("xyz"), unique=True))) if type_ is P else None
        ref = draw(st.sampled_from(["ACCOUNT", "USER"])) if type_ is R else None
        protect = draw(st.integers(0, 5)) == 0
        out.append(fld(name, type_, draw(LABELS), values=values, ref=ref, protect=protect))
    return tuple(out)


def changed(f):
    """`f`, and `f` changed in each way the planner tells apart."""
    return [
        f,
        replace(f, protect=not f.protect),
        replace(f, label=f.label + "x"),
        replace(f, type=N if f.type is S else S, reference_to=None, ordered_value_list=None),
        replace(f, ordered_value_list=(*(f.ordered_value_list or ()), "w")),
        replace(f, reference_to="DEAL" if f.reference_to else None),
        replace(f, last_modified="2020-12-17T13:45:01Z"),
    ]


@settings(max_examples=300, deadline=None)
@given(
    st.lists(st.sampled_from(KEYS), unique=True, max_size=3),
    st.data(),
)
def test_the_fast_paths_plan_what_classifying_every_field_plans(keys, data):
    want, have = [], []
    for key in keys:
        mine = data.draw(varied_fields_st("abcdefghij"))
        # Part of the state as the files have it (the unchanged fields of a real plan).
        kept = data.draw(st.lists(st.sampled_from(mine), unique=True)) if mine else []
        # Some of them changed in one way (or only in which objects they are).
        kept = [data.draw(st.sampled_from(changed(f))) for f in kept]
        taken = {f.unique_name for f in kept}
        # Fields of the same names, and others (deletes, beside the creates of `mine`).
        theirs = [f for f in data.draw(varied_fields_st("ghijklmn")) if f.unique_name not in taken]
        if data.draw(st.booleans()):
            want.append(ObjectSchema(key, mine, "f.json"))
        if data.draw(st.booleans()):
            have.append(ObjectSchema(key, tuple(kept + theirs)))
    d, s = Desired(tuple(want)), State("l", 1, tuple(have))
    try:
        p = plan(d, s)
    except ProtectedFieldError:
        # The refusal lists every change that destroys protected data, from the same changes.
        assert any(
            c.destroys_data and (c.before.protect or (c.after and c.after.protect))
            for c in reference_changes(d, s)
        )
        return
    assert p.changes == reference_changes(d, s)
    renames = [n for n in p.notes if n.kind is NoteKind.NOT_A_RENAME]
    assert [(n.key, *n.names) for n in renames] == reference_renames(p.changes)

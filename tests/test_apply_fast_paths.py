"""The shortcuts apply's hot paths take (issue 14) against the plain definitions they stand
for: drift.compare without building a `known` field per remote field, decode_listing's
one-pass check and slot-set Fields, and payload.build reusing the state's unchanged fields."""

from __future__ import annotations

import dataclasses
import json

from hypothesis import given, settings
from hypothesis import strategies as st
from strategies import KEYS, STAMPS, fields, objects

from crmform.engine import drift, payload
from crmform.engine.drift import known
from crmform.engine.model import (
    FIELD,
    DriftKind,
    Field,
    FieldDrift,
    FieldType,
    ObjectSchema,
    ObjectType,
    replace,
)
from crmform.engine.ports import FieldWrite, RemoteSchema
from crmform.providers.gong import wire


def _reference_compare(key, state, remote):
    """drift.compare as first written: `known` of every remote field, then the attributes."""
    prior = state.by_name() if state is not None else {}
    live: dict[str, Field] = {}
    for f in remote.fields:
        live.setdefault(f.unique_name, known(f))
    found = []
    for name in sorted(prior.keys() | live.keys()):
        before, after = prior.get(name), live.get(name)
        if before is None and after is not None:
            found.append(FieldDrift(key, name, DriftKind.ADDED, None, after))
        elif after is None and before is not None:
            found.append(FieldDrift(key, name, DriftKind.REMOVED, before, None))
        elif before is not None and after is not None:
            attributes = drift._differing(before, after)
            if attributes:
                found.append(FieldDrift(key, name, DriftKind.CHANGED, before, after, attributes))
    return tuple(found)


@st.composite
def remote_fields(draw: st.DrawFn) -> Field:
    """What a GET may report: nulls for values and targets, empty picklists, a target or
    values on a type that has none, other stamps."""
    f = draw(fields(stamped=True))
    change = draw(st.sampled_from(["as-is", "null", "empty", "stray", "stamp"]))
    if change == "null":
        return replace(f, reference_to=None, ordered_value_list=None)
    if change == "empty":
        return replace(f, ordered_value_list=())
    if change == "stray":
        return replace(f, reference_to="DEAL", ordered_value_list=("x",))
    if change == "stamp":
        return replace(f, last_modified=draw(STAMPS))
    return f


@settings(max_examples=200, deadline=None)
@given(data=st.data(), key=KEYS)
def test_compare_finds_exactly_what_the_plain_definition_finds(data, key):
    state = data.draw(st.none() | objects(key, stamped=True))
    remote = RemoteSchema(key.object_type, tuple(data.draw(st.lists(remote_fields(), max_size=10))))
    assert drift.compare(key, state, remote) == _reference_compare(key, state, remote)
    if state is not None:
        # A remote that is the state itself (what a read-back usually shows): no drift.
        same = RemoteSchema(key.object_type, state.fields)
        assert drift.compare(key, state, same) == ()


def _item(f: Field, name_key: str, nulls: bool, extra: bool) -> dict[str, object]:
    item: dict[str, object] = {name_key: f.unique_name, "label": f.label, "type": f.type.value}
    values = list(f.ordered_value_list) if f.ordered_value_list is not None else None
    item["referenceTo"] = None if nulls else f.reference_to
    item["orderedValueList"] = None if nulls else values
    item["lastModified"] = f.last_modified
    item["isDeleted"] = False
    if extra:
        item["formula"] = {"b": 1, "a": [None, "x"]}
    return item


@settings(max_examples=100, deadline=None)
@given(
    data=st.data(),
    name_key=st.sampled_from(["uniqueName", "name"]),
    nulls=st.booleans(),
    extra=st.booleans(),
)
def test_decode_listing_builds_the_fields_the_checked_constructor_builds(
    data, name_key, nulls, extra
):
    drawn = data.draw(st.lists(fields(stamped=True), max_size=8))
    items = [_item(f, name_key, nulls, extra) for f in drawn]
    items.append({"uniqueName": "gone", "label": "Gone", "type": "ID", "isDeleted": True})
    payload_ = {"objectTypeToSelectedFields": {"ACCOUNT": json.loads(json.dumps(items))}}
    got, extras = wire.decode_listing(payload_, ObjectType.ACCOUNT)
    expected = tuple(wire._field(item, "here") for item in items[:-1])
    assert got == expected
    assert [hash(f) for f in got] == [hash(f) for f in expected]
    assert [repr(f) for f in got] == [repr(f) for f in expected]
    assert all(type(f) is Field and f.protect is False for f in got)
    assert [name for name, _ in extras] == ([f.unique_name for f in drawn] if extra else [])


def test_a_field_built_in_c_is_a_field_in_every_respect():
    args = ("tier", "Tier", FieldType.PICKLIST, None, ("a", "b"), False, "2026-01-02T03:04:05Z")
    fast, slow = FIELD(args), Field(*args)  # FIELD: how decode_listing builds them
    assert fast == slow
    assert hash(fast) == hash(slow)
    assert replace(fast, label="T") == replace(slow, label="T")


def _reference_build(key, desired, state, now):
    """payload.build as first written: a new Field per desired field."""
    prior = state.by_name() if state is not None else {}
    wanted = desired.fields if desired is not None else ()
    body, kept, sends = [], [], False
    for f in wanted:
        old = prior.get(f.unique_name)
        unchanged = old is not None and old.same_remote(f)
        stamp = old.last_modified if unchanged and old is not None else now
        sends = sends or not unchanged
        sent = Field(
            f.unique_name, f.label, f.type, f.reference_to, f.ordered_value_list, f.protect, stamp
        )
        body.append(FieldWrite(sent))
        kept.append(sent)
    names = {f.unique_name for f in wanted}
    for name, old in prior.items():
        if name not in names:
            body.append(FieldWrite(replace(old, last_modified=now), deleted=True))
            sends = True
    after = ObjectSchema(key, tuple(kept), desired.source if desired is not None else None)
    return payload.Upload(key, tuple(body) if sends else (), after, sends)


@settings(max_examples=200, deadline=None)
@given(data=st.data(), key=KEYS)
def test_build_makes_the_upload_the_plain_definition_makes(data, key):
    desired = data.draw(st.none() | objects(key))
    if desired is not None:
        protects = data.draw(st.lists(st.booleans(), min_size=len(desired.fields)))
        marked = zip(desired.fields, protects, strict=False)
        desired = ObjectSchema(key, tuple(replace(f, protect=p) for f, p in marked))
    state = data.draw(st.none() | objects(key, stamped=True))
    now = "2026-12-03T00:00:00Z"
    built = payload.build(key, desired, state, now)
    assert built == _reference_build(key, desired, state, now)
    assert wire.encode_body(built.body) == json.dumps(
        [wire.encode_item(w) for w in built.body], ensure_ascii=False
    ).encode("utf-8")


def test_the_body_digest_is_the_one_earlier_versions_recorded():
    # A pending record written before must still match the same upload resent: the digest
    # is sha256 of [name, label, type, false, referenceTo, values] / [name, label, type,
    # true] per item, compact ASCII JSON; stamps never count.
    from crmform.engine.settle import body_digest

    body = (
        FieldWrite(Field("tier", "Tiér", FieldType.PICKLIST, None, ("a", "b"), True, "x")),
        FieldWrite(Field("owner", "Owner", FieldType.REFERENCE, "USER")),
        FieldWrite(Field("old", "Old", FieldType.ID, last_modified="y"), deleted=True),
    )
    canonical = (
        '[["tier","Ti\\u00e9r","PICKLIST",false,null,["a","b"]],'
        '["owner","Owner","REFERENCE",false,"USER",null],["old","Old","ID",true]]'
    )
    import hashlib

    assert body_digest(body) == hashlib.sha256(canonical.encode("ascii")).hexdigest()
    restamped = tuple(
        dataclasses.replace(w, field=replace(w.field, last_modified="z")) for w in body
    )
    assert body_digest(restamped) == body_digest(body)


@st.composite
def read_back_items(draw: st.DrawFn, sent: list[FieldWrite]) -> list[dict[str, object]]:
    """A GET answer after an upload: mostly the items sent, some as Gong may change them
    (nulls, another label or stamp, an extra attribute, a name key), tombstones gone."""
    items: list[dict[str, object]] = []
    for write in sent:
        if write.deleted:
            continue
        item = json.loads(wire.encode_body([write]))[0]
        changes = ["as-sent"] * 4 + ["null", "label", "stamp", "extra", "name"]
        change = draw(st.sampled_from(changes))
        if change == "null":
            item["orderedValueList"] = None
        elif change == "label":
            item["label"] = item["label"] + "!"
        elif change == "stamp":
            item["lastModified"] = "2031-01-01T00:00:00Z"
        elif change == "extra":
            item["formula"] = "x"
        elif change == "name":
            item["name"] = item.pop("uniqueName")
        items.append(item)
    extra = draw(st.lists(fields(stamped=True), max_size=3))
    items += [json.loads(wire.encode_body([FieldWrite(f)]))[0] for f in extra]
    return draw(st.permutations(items))


@settings(max_examples=200, deadline=None)
@given(data=st.data())
def test_decoding_a_read_back_with_what_was_sent_gives_what_decoding_alone_gives(data):
    drawn = data.draw(st.lists(fields(stamped=True), max_size=8))
    protect = data.draw(st.lists(st.booleans(), min_size=len(drawn), max_size=len(drawn)))
    deleted = data.draw(st.lists(st.booleans(), min_size=len(drawn), max_size=len(drawn)))
    writes = [
        FieldWrite(replace(f, protect=p), deleted=d)
        for f, p, d in zip(drawn, protect, deleted, strict=True)
    ]
    body, sent = wire.encode_upload(writes)
    assert body == wire.encode_body(writes)
    items = data.draw(read_back_items(writes))
    payload_ = {"objectTypeToSelectedFields": {"ACCOUNT": json.loads(json.dumps(items))}}
    plain = wire.decode_listing(payload_, ObjectType.ACCOUNT)
    assert wire.decode_listing(payload_, ObjectType.ACCOUNT, sent) == plain
    fast, _ = wire.decode_listing(payload_, ObjectType.ACCOUNT, sent)
    assert [repr(f) for f in fast] == [repr(f) for f in plain[0]]
    assert all(f.protect is False for f in fast)


def _documented(item: dict[str, object], name_key: str, nulls: bool) -> dict[str, object]:
    """An upload item as Gong's documented GET lists it (and the emulator does): the name
    under `name` or `uniqueName` (or both), isDeleted false, every attribute present,
    null where unknown (or, with `nulls`, always)."""
    shown: dict[str, object] = {}
    if name_key in ("name", "both"):
        shown["name"] = item["uniqueName"]
    if name_key in ("uniqueName", "both"):
        shown["uniqueName"] = item["uniqueName"]
    shown.update(label=item["label"], type=item["type"], isDeleted=False)
    for attribute in ("lastModified", "referenceTo", "orderedValueList"):
        shown[attribute] = None if nulls else item.get(attribute)
    return shown


@settings(max_examples=200, deadline=None)
@given(
    data=st.data(),
    name_key=st.sampled_from(["name", "uniqueName", "both"]),
    nulls=st.booleans(),
)
def test_a_read_back_in_gongs_documented_shape_gives_the_fields_sent(data, name_key, nulls):
    drawn = data.draw(st.lists(fields(stamped=True), max_size=8))
    protect = data.draw(st.lists(st.booleans(), min_size=len(drawn), max_size=len(drawn)))
    writes = [FieldWrite(replace(f, protect=p)) for f, p in zip(drawn, protect, strict=True)]
    _, sent = wire.encode_upload(writes)
    items = [json.loads(wire.encode_body([w]))[0] for w in writes]
    items = data.draw(st.permutations([_documented(i, name_key, nulls) for i in items]))
    payload_ = {"objectTypeToSelectedFields": {"ACCOUNT": json.loads(json.dumps(items))}}
    plain = wire.decode_listing(payload_, ObjectType.ACCOUNT)
    fast, extras = wire.decode_listing(payload_, ObjectType.ACCOUNT, sent)
    assert (fast, extras) == plain
    assert [repr(f) for f in fast] == [repr(f) for f in plain[0]]
    assert all(f.protect is False for f in fast)
    # What Gong shows as sent is the very Field sent (no copy), when it is not protected
    # and Gong reported all of it: so the read-back's compare finds each field unchanged
    # at a glance.
    by_name = {w.field.unique_name: w.field for w in writes}
    last = {f.unique_name: f for f in fast}  # one per name: a drawn name may repeat
    for name, f in last.items():
        original = by_name[name]
        complete = not nulls or (
            original.reference_to is None
            and original.ordered_value_list is None
            and original.last_modified is None
        )
        if complete and not original.protect and f == original:
            assert f is sent[name] is original


def _reference_conflicts(key, state, desired, remote):
    """preflight.conflicts as first written: every name classified in turn."""
    from crmform.engine.preflight import Conflict, ConflictKind

    prior = state.by_name() if state is not None else {}
    wanted = desired.by_name() if desired is not None else {}
    live: dict[str, Field] = {}
    for f in remote.fields:
        live.setdefault(f.unique_name, f)
    found = []
    for name in sorted(live.keys() | prior.keys()):
        r, s, d = live.get(name), prior.get(name), wanted.get(name)
        if r is not None and s is None and d is None:
            found.append(Conflict(key, name, ConflictKind.UNKNOWN, r))
        elif r is None:
            found.append(Conflict(key, name, ConflictKind.MISSING, None))
        elif s is None:
            found.append(Conflict(key, name, ConflictKind.EXISTS, r))
        elif d is not None and r.type != d.type and s.type == d.type:
            found.append(Conflict(key, name, ConflictKind.TYPE, r, d.type))
    return tuple(found)


@settings(max_examples=300, deadline=None)
@given(data=st.data(), key=KEYS)
def test_conflicts_finds_exactly_what_the_plain_definition_finds(data, key):
    from crmform.engine.preflight import conflicts

    state = data.draw(st.none() | objects(key, stamped=True))
    desired = data.draw(st.none() | objects(key))
    remote = RemoteSchema(key.object_type, tuple(data.draw(st.lists(remote_fields(), max_size=10))))
    assert conflicts(key, state, desired, remote) == _reference_conflicts(
        key, state, desired, remote
    )

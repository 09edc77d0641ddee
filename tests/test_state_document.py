"""The state document every backend stores: today's local layout, read back strictly
(issue 11 item 7), and the pending uploads (issue 11 item 1), read as strictly."""

from __future__ import annotations

import json
import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from crmform.engine.formats.codec import state_to_json
from crmform.engine.model import (
    Field,
    FieldType,
    ObjectKey,
    ObjectSchema,
    ObjectType,
    PendingUpload,
    State,
)
from crmform.state.document import (
    Document,
    NewerVersion,
    UnstorableState,
    UnusableDocument,
    _checked_fields,
    _field,
    decode,
    encode,
    next_state,
)
from crmform.state.jsonfile import laid_out_bytes
from crmform.state.local import LocalState

LINEAGE = "0b9f6c54-3f7e-4c1a-9d0e-5a2b7c8d9e10"
FIELD = {"uniqueName": "a", "label": "A", "type": "STRING", "protect": False}


def state() -> State:
    account = ObjectSchema(
        ObjectKey("gong", 2**53 + 7, ObjectType.ACCOUNT),
        (
            Field("tier", "Tier", FieldType.PICKLIST, ordered_value_list=("Gold", "Silver")),
            Field("owner", "Owner", FieldType.REFERENCE, reference_to="USER", protect=True),
            Field("arr", "ARR", FieldType.CURRENCY, last_modified="2026-11-28T20:31:06Z"),
        ),
    )
    return State(LINEAGE, 4, (account,))


def raw(objects: object = None, **top: object) -> bytes:
    doc: dict[str, object] = {"version": 1, "lineage": LINEAGE, "serial": 3}
    doc["objects"] = {"gong/1/ACCOUNT": {"fields": [FIELD]}} if objects is None else objects
    doc.update(top)
    return json.dumps(doc).encode()


def test_the_document_is_byte_for_byte_the_local_state_file(tmp_path):
    path = tmp_path / "crmform.state.json"
    stored = LocalState(path).write(State(LINEAGE, 0, state().objects))

    assert encode(stored) == path.read_bytes()
    assert encode(stored) == laid_out_bytes(state_to_json(stored), 3)
    assert decode(path.read_bytes()) == Document(stored)


DIGEST = "ab" * 32


def pending() -> PendingUpload:
    after = state().objects[0]
    return PendingUpload(after.key, DIGEST, "2026-11-28T12:00:00Z", after)


def test_pending_uploads_round_trip_one_per_line_after_the_objects():
    with_pending = State(LINEAGE, 4, state().objects, (pending(),))
    data = encode(with_pending)
    text = data.decode()

    assert decode(data) == Document(with_pending)
    record = json.loads(text)["pending"][0]
    assert record["address"] == f"gong/{2**53 + 7}/ACCOUNT"
    assert record["digest"] == DIGEST
    assert [f["uniqueName"] for f in record["fields"]] == ["tier", "owner", "arr"]
    assert text.endswith("]}\n  ]\n}\n")
    assert text.count("\n") == encode(state()).decode().count("\n") + 3
    assert "pending" not in encode(state()).decode()  # no key when there are none


def test_a_local_write_stores_the_pending_uploads_it_is_given(tmp_path):
    path = tmp_path / "crmform.state.json"
    first = LocalState(path).write(State(LINEAGE, 0, state().objects, (pending(),)))

    assert decode(path.read_bytes()).state.pending == (pending(),)
    LocalState(path).write(first.without_pending(pending().key))
    assert decode(path.read_bytes()).state.pending == ()


def test_next_state_bumps_the_serial_sorts_and_drops_sources():
    obj = ObjectSchema(ObjectKey("gong", 1, ObjectType.DEAL), (), source="deal.yaml")
    first = next_state(State(objects=(state().objects[0], obj)))

    assert first.serial == 1
    assert first.lineage
    addresses = ["gong/1/DEAL", "gong/9007199254740999/ACCOUNT"]
    assert [o.key.address for o in first.objects] == addresses
    assert first.objects[0].source is None


UNUSABLE = [
    (b'{"version": 1, "version": 1}', 'has the key "version" twice in one object'),
    (
        raw({"gong/1/ACCOUNT": {"fields": []}, "gong/1/DEAL": {"fields": []}}).replace(
            b"gong/1/DEAL", b"gong/1/ACCOUNT"
        ),
        'has the key "gong/1/ACCOUNT" twice in one object',
    ),
    (
        raw().replace(b'"label": "A"', b'"label": "A", "label": "B"'),
        'has the key "label" twice in one object',
    ),
    (raw(extra=1), 'has an unknown key "extra"'),
    (
        raw({"gong/01/ACCOUNT": {"fields": []}}),
        'has a malformed object "gong/01/ACCOUNT" (its integration id "01" has a leading zero)',
    ),
    (
        raw({"gong/\u0661/ACCOUNT": {"fields": []}}),
        "has a malformed object \"gong/\u0661/ACCOUNT\" (its integration id '\u0661' has "
        "digits other than ASCII 0-9)",
    ),
    (
        raw({"salesforce/1/ACCOUNT": {"fields": []}}),
        'has a malformed object "salesforce/1/ACCOUNT" (its provider is "salesforce"; '
        'crmform knows only "gong")',
    ),
    (
        raw({"gong/9223372036854775808/ACCOUNT": {"fields": []}}),
        'has a malformed object "gong/9223372036854775808/ACCOUNT" (its integration id '
        "9223372036854775808 is larger than 9223372036854775807)",
    ),
    (
        raw({"gong/1/account": {"fields": []}}),
        'has a malformed object "gong/1/account" (not an address of the form '
        "provider/integrationId/OBJECT: 'gong/1/account')",
    ),
    (
        raw({"gong/1/ACCOUNT": {"fields": [{**FIELD, "lastModified": "yesterday"}]}}),
        'has a malformed object "gong/1/ACCOUNT" (fields[0] (a): "lastModified" is '
        "'yesterday', not a UTC time such as 2020-12-17T13:45:01Z)",
    ),
    (
        raw({"gong/1/ACCOUNT": {"fields": [{**FIELD, "lastModified": "2020-12-17T13:45:01.1Z"}]}}),
        'has a malformed object "gong/1/ACCOUNT" (fields[0] (a): "lastModified" is '
        "'2020-12-17T13:45:01.1Z', not a UTC time such as 2020-12-17T13:45:01Z)",
    ),
    (
        raw({"gong/1/ACCOUNT": {"fields": [{**FIELD, "lable": "x"}]}}),
        'has a malformed object "gong/1/ACCOUNT" (fields[0] (a): unknown key "lable")',
    ),
    (
        raw({"gong/1/ACCOUNT": {"fields": [{**FIELD, "protect": "false"}]}}),
        'has a malformed object "gong/1/ACCOUNT" (fields[0] (a): "protect" is a string, '
        "not a boolean)",
    ),
    (
        raw({"gong/1/ACCOUNT": {"fields": [FIELD, FIELD]}}),
        'has a malformed object "gong/1/ACCOUNT" (fields[1] (a): this uniqueName is listed twice)',
    ),
    (
        raw({"gong/1/ACCOUNT": {"fields": [{**FIELD, "label": "\ud800"}]}}),
        'has a malformed object "gong/1/ACCOUNT" (fields[0] (a): it holds text that is not '
        "valid Unicode (a lone surrogate))",
    ),
    (
        raw({"gong/1/ACCOUNT": {"fields": [], "extra": []}}),
        'has a malformed object "gong/1/ACCOUNT" (unknown key "extra")',
    ),
    (raw(pending={}), 'has "pending" set to an object, where it needs an array of objects'),
    (raw(pending=[1]), 'has "pending" set to an array, where it needs an array of objects'),
    (
        raw(pending=[{"address": "gong/1/ACCOUNT", "digest": "x", "started": "", "fields": []}]),
        'has a malformed "pending" record [0] (its "digest" must be a sha256 in hex)',
    ),
    (
        raw(
            pending=[
                {
                    "address": "gong/01/ACCOUNT",
                    "digest": "a" * 64,
                    "started": "2026-11-28T12:00:00Z",
                }
            ]
        ),
        'has a malformed "pending" record [0] (its integration id "01" has a leading zero)',
    ),
    (
        raw(pending=[{"address": "gong/1/ACCOUNT", "digest": "a" * 64, "when": 1}]),
        'has a malformed "pending" record [0] (unknown key "when")',
    ),
]


@pytest.mark.parametrize(("content", "problem"), UNUSABLE)
def test_anything_unusable_is_refused_naming_the_key(content, problem):
    with pytest.raises(UnusableDocument) as caught:
        decode(content)

    assert caught.value.args[0] == problem


def test_an_unusable_local_file_is_never_rewritten(tmp_path):
    path = tmp_path / "crmform.state.json"
    content = raw({"gong/01/ACCOUNT": {"fields": []}})
    path.write_bytes(content)

    with pytest.raises(Exception, match="leading zero"):
        LocalState(path).write(State(LINEAGE, 3))
    assert path.read_bytes() == content


def test_a_newer_version_is_its_own_error():
    with pytest.raises(NewerVersion) as caught:
        decode(raw(version=2, objects={"anything": 1}))

    assert caught.value.version == 2


@pytest.mark.parametrize(
    ("bad", "what"),
    [
        (
            Field("a", "A", FieldType.STRING, last_modified="yesterday"),
            "the field 'a' of gong/1/ACCOUNT: its lastModified 'yesterday' is not a UTC time "
            "such as 2020-12-17T13:45:01Z",
        ),
        (
            Field("", "A", FieldType.STRING),
            "the field '' of gong/1/ACCOUNT: its uniqueName is empty",
        ),
        (
            Field("a", "\udc00", FieldType.STRING),
            "the field 'a' of gong/1/ACCOUNT: it holds text that is not valid Unicode (a lone "
            "surrogate)",
        ),
    ],
)
def test_encode_refuses_what_decode_would_refuse(bad, what):
    obj = ObjectSchema(ObjectKey("gong", 1, ObjectType.ACCOUNT), (bad,))

    with pytest.raises(UnstorableState) as caught:
        encode(State(LINEAGE, 1, (obj,)))

    assert caught.value.what == what


def test_a_provider_other_than_gong_is_not_stored():
    obj = ObjectSchema(ObjectKey("salesforce", 1, ObjectType.ACCOUNT), ())

    with pytest.raises(UnstorableState) as caught:
        next_state(State(objects=(obj,)))

    assert caught.value.message("db") == (
        "The state db cannot record the object type salesforce/1/ACCOUNT: its provider must be "
        "gong and its integration id at most 9223372036854775807. Nothing was written; fix the "
        "integration id or provider, then run the command again."
    )


# decode checks an object's fields in one pass (document._checked_fields) and words a
# problem field by field (document._field) only when that pass refuses: the pass must
# accept exactly what _field accepts, with no uniqueName twice, and build the same Fields.
def near(good: list[object], bad: list[object]) -> st.SearchStrategy[object]:
    return st.one_of(st.sampled_from(good), st.sampled_from(bad))


def edited_field(base: dict[str, object], changes: list[tuple[str, bool, object]]) -> dict:
    out = dict(base)
    for key, remove, value in changes:
        if remove:
            out.pop(key, None)
        else:
            out[key] = value
    return out


STAMP = "2026-11-28T20:31:06Z"
STATE_NEAR: dict[str, st.SearchStrategy[object]] = {
    "uniqueName": near(["a", "b", "Ärger 😀"], ["", None, 1, ["a"], "a\ud800"]),
    "label": near(["A", "", "a: b"], [None, 2, True, "\udc00"]),
    "type": near(["STRING", "PICKLIST", "REFERENCE"], ["string", "", None, 3, ["DATE"]]),
    "referenceTo": near([None, "USER", "anything"], [1, {}, ["USER"], "\ud83d"]),
    "orderedValueList": near([None, [], ["x", "y"], ["x", "x"]], ["x", [1], [None], ["\ud800"]]),
    "protect": near([True, False], [None, 0, 1, "true"]),
    "lastModified": near([None, STAMP], ["2026-11-28", STAMP + "\n", 5, [STAMP]]),
    "lable": st.just("x"),
}
STATE_FIELD = st.builds(
    edited_field,
    st.sampled_from([dict(FIELD), {**FIELD, "uniqueName": "b", "lastModified": STAMP}]),
    st.lists(
        st.sampled_from(sorted(STATE_NEAR)).flatmap(
            lambda k: st.tuples(st.just(k), st.booleans(), STATE_NEAR[k])
        ),
        max_size=2,
    ),
)


@settings(max_examples=600, deadline=None)
@given(st.one_of(STATE_FIELD.map(lambda item: [item]), st.lists(STATE_FIELD, max_size=4)))
def test_the_one_pass_field_check_agrees_with_the_field_by_field_one(items):
    strict = [_field(item) for item in items]
    names = [f.unique_name for f in strict if isinstance(f, Field)]
    usable = all(isinstance(f, Field) for f in strict) and len(set(names)) == len(names)

    tally = [0]
    built = _checked_fields(items, escapes=True, tally=tally)

    assert built == (tuple(strict) if usable else None)
    # _plain_document counts the fields' keys with this, instead of walking them again.
    assert tally == [sum(map(len, items)) if usable else 0]
    if built is not None:  # without a backslash in the bytes, no text needs the check
        assert _checked_fields(items, escapes=False) == built


# decode parses a document with no backslash without json's pairs hook and finds repeated
# keys by counting colons (document._plain_document); anything it doubts is read again the
# strict way. Both must agree on every document, usable or not: the same state or the same
# message. A document with an escape always takes the strict way, so `strict` spells one
# character of the lineage as \u004c ("L") to read the same document through it.
TEXT = st.text(alphabet="ab:L ", min_size=1, max_size=4)
STAMPS = st.sampled_from(["2026-11-28T20:31:06Z", "2020-01-01T00:00:00Z"])


@st.composite
def state_documents(draw):
    def field(name):
        item = {"uniqueName": name, "label": draw(TEXT), "type": draw(st.sampled_from(TYPES))}
        if item["type"] == "PICKLIST":
            item["orderedValueList"] = draw(st.lists(TEXT, max_size=3))
        if item["type"] == "REFERENCE":
            item["referenceTo"] = draw(st.sampled_from(["USER", "a:b"]))
        if draw(st.booleans()):
            item["protect"] = draw(st.booleans())
        if draw(st.booleans()):
            item["lastModified"] = draw(st.one_of(STAMPS, st.none()))
        return item

    def fields():
        names = draw(st.lists(TEXT, unique=True, max_size=4))
        return [field(name) for name in names]

    addresses = draw(st.lists(st.sampled_from(["gong/1/ACCOUNT", "gong/2/DEAL"]), unique=True))
    doc = {
        "version": 1,
        "lineage": "L" + draw(st.text(alphabet="ab:-", max_size=5)),
        "serial": draw(st.integers(0, 9)),
        "objects": {a: {"fields": fields()} for a in addresses},
    }
    if draw(st.booleans()):
        doc["pending"] = [
            {"address": a, "digest": "ab" * 32, "started": draw(STAMPS), "fields": fields()}
            for a in draw(st.lists(st.sampled_from(["gong/1/ACCOUNT", "gong/3/LEAD"]), unique=True))
        ]
    if draw(st.booleans()):
        doc["deleted"] = [
            {
                "address": "gong/1/ACCOUNT",
                "uniqueName": draw(TEXT),
                "type": "STRING",
                "deleted": draw(STAMPS),
            }
            for _ in range(draw(st.integers(0, 2)))
        ]
    return doc


TYPES = ["STRING", "PICKLIST", "REFERENCE"]


def written(value, spacing, repeat=None):
    """`value` as JSON text spaced by `spacing`; `repeat` = (a mapping, a key, a value):
    that mapping lists the key twice, the second time with that value."""
    comma, colon = spacing
    if isinstance(value, dict):
        items = [(k, written(v, spacing, repeat)) for k, v in value.items()]
        if repeat is not None and repeat[0] is value:
            items.insert(len(items) // 2, (repeat[1], json.dumps(repeat[2])))
        inner = comma.join(f"{json.dumps(k, ensure_ascii=False)}{colon}{v}" for k, v in items)
        return "{" + inner + "}"
    if isinstance(value, list):
        return "[" + comma.join(written(v, spacing, repeat) for v in value) + "]"
    return json.dumps(value, ensure_ascii=False)


def mappings(value):
    if isinstance(value, dict):
        yield value
        for v in value.values():
            yield from mappings(v)
    elif isinstance(value, list):
        for v in value:
            yield from mappings(v)


def outcome_of(text: str):
    try:
        return decode(text.encode()).state
    except UnusableDocument as exc:
        return str(exc)


def strict(text: str) -> str:
    slow = re.sub(r'("lineage"\s*:\s*")L', r"\1\\u004c", text, count=1)
    assert "\\" in slow
    return slow


SPACINGS = st.sampled_from([(", ", ": "), (",", ":"), (", ", " : "), (",\n ", ":\n")])


@settings(max_examples=400, deadline=None)
@given(state_documents(), SPACINGS, st.data())
def test_reading_without_the_pairs_hook_agrees_with_the_strict_reading(doc, spacing, data):
    text = written(doc, spacing)
    assert outcome_of(text) == outcome_of(strict(text))
    # The same document with one key of one of its mappings written twice.
    target = data.draw(st.sampled_from(list(mappings(doc))))
    if not target:
        return
    key = data.draw(st.sampled_from(sorted(target)))
    again = data.draw(st.sampled_from([target[key], "a:b", None, 1, "2026-11-28T20:31:06Z"]))
    repeated = written(doc, spacing, (target, key, again))
    found = outcome_of(repeated)
    assert found == outcome_of(strict(repeated))
    assert found == f'has the key "{key}" twice in one object'

"""Gong's JSON <-> Field (providers/gong/wire.py), the dry run's preview, and GET answers that
leave the object type out (issue 11 §3, issue 10 §3) or carry attributes crmform does not model."""

from __future__ import annotations

import json

import httpx
import pytest
from gong_mock import FIELD_A, INTEGRATION, STAGE, listing, make, ok

from crmform.engine.errors import ProviderError
from crmform.engine.model import Field, FieldType, ObjectType
from crmform.engine.ports import FieldWrite, RemoteSchema, RequestPreview
from crmform.providers.gong.preview import GongPreview
from crmform.providers.gong.wire import decode_listing, encode_body, encode_item

NOW = "2026-11-28T12:00:00Z"
OWNER = Field("owner", "Owner", FieldType.REFERENCE, reference_to="USER", last_modified=NOW)


def test_an_alive_item_sends_its_attributes_in_gongs_order_and_never_protect():
    protected = Field("stage", "Stage", FieldType.PICKLIST, None, ("a", "b"), True, NOW)
    assert list(encode_item(FieldWrite(protected)).items()) == [
        ("uniqueName", "stage"),
        ("label", "Stage"),
        ("type", "PICKLIST"),
        ("orderedValueList", ["a", "b"]),
        ("lastModified", NOW),
    ]
    assert encode_item(FieldWrite(OWNER)) == {
        "uniqueName": "owner",
        "label": "Owner",
        "type": "REFERENCE",
        "referenceTo": "USER",
        "lastModified": NOW,
    }
    assert encode_item(FIELD_A) == {"uniqueName": "fieldA", "label": "Field A", "type": "STRING"}


def test_a_tombstone_sends_what_gongs_delete_example_sends_and_nothing_else():
    assert list(encode_item(FieldWrite(STAGE.field, deleted=True)).items()) == [
        ("uniqueName", "stage"),
        ("label", "Stage"),
        ("type", "PICKLIST"),
        ("isDeleted", True),
    ]
    assert encode_item(FieldWrite(OWNER, deleted=True)) == {
        "uniqueName": "owner",
        "label": "Owner",
        "type": "REFERENCE",
        "isDeleted": True,
        "lastModified": NOW,
    }


def test_the_body_is_exact_utf8_bytes_without_escapes():
    body = encode_body([FieldWrite(Field("région", "Région ✓", FieldType.STRING)), FIELD_A])
    assert (
        body
        == (
            '[{"uniqueName": "région", "label": "Région ✓", "type": "STRING"}, '
            '{"uniqueName": "fieldA", "label": "Field A", "type": "STRING"}]'
        ).encode()
    )


def test_the_preview_shows_the_url_and_the_same_json_without_credentials():
    preview = GongPreview.from_env({"GONG_BASE_URL": "https://us-55616.api.gong.io/"})
    shown = preview.preview_write(2271307570613351879, ObjectType.DEAL, [STAGE, FIELD_A])
    assert shown == RequestPreview(
        "POST",
        "https://us-55616.api.gong.io/v2/crm/entity-schema?integrationId=2271307570613351879"
        "&objectType=DEAL",
        shown.body,
    )
    assert json.loads(shown.body) == json.loads(encode_body([STAGE, FIELD_A]))
    assert shown.body.startswith('[\n  {\n    "uniqueName": "stage"')
    flag = GongPreview.from_env({"GONG_BASE_URL": "https://x.api.gong.io"}, base_url="http://h")
    assert flag.preview_write(1, ObjectType.LEAD, []).url.startswith("http://h/v2/")
    assert (
        GongPreview.from_env({})
        .preview_write(1, ObjectType.LEAD, [])
        .url.startswith("https://api.gong.io/")
    )


def test_the_clients_preview_matches_what_it_sends():
    client, recorder, *_ = make(ok())
    shown = client.preview_write(INTEGRATION, ObjectType.ACCOUNT, [STAGE, FIELD_A])
    client.write_schema(INTEGRATION, ObjectType.ACCOUNT, [STAGE, FIELD_A])
    (request,) = recorder.requests
    assert (shown.method, shown.url) == (request.method, str(request.url))
    assert json.loads(shown.body) == json.loads(request.content)


def test_a_preview_refuses_a_malformed_base_url_and_id():
    with pytest.raises(ProviderError, match=r"^--base-url must be an http\(s\) URL"):
        GongPreview.from_env({}, base_url="api.gong.io")
    with pytest.raises(ProviderError, match="integrationId must be a positive"):
        GongPreview().preview_write(0, ObjectType.ACCOUNT, [])


# -- GET answers --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("answer", "says"),
    [
        (
            {"requestId": "x", "objectTypeToSelectedFields": {}},
            "objectTypeToSelectedFields has no ACCOUNT entry (it is empty)",
        ),
        (
            {"requestId": "x", "objectTypeToSelectedFields": {"DEAL": []}},
            "objectTypeToSelectedFields has no ACCOUNT entry (it lists only DEAL)",
        ),
        (
            {"requestId": "x", "objectTypeToSelectedFields": {"ACCOUNT": None}},
            "objectTypeToSelectedFields.ACCOUNT is null, not a list of fields",
        ),
        (
            {"requestId": "x", "objectTypeToSelectedFields": {"ACCOUNT": {"a": 1}}},
            "objectTypeToSelectedFields.ACCOUNT is a JSON object, not a list of fields",
        ),
        ([], "the body is a JSON array, not a JSON object"),
        ("ok", "the body is a string, not a JSON object"),
        (None, "the body is null, not a JSON object"),
        ({"requestId": "x"}, "it has no objectTypeToSelectedFields object"),
    ],
    ids=["empty-map", "other-type", "null", "object", "array", "string", "null-body", "no-map"],
)
def test_an_answer_without_the_asked_type_is_malformed_never_no_fields(answer, says):
    client, *_ = make(httpx.Response(200, content=json.dumps(answer).encode()))
    with pytest.raises(ProviderError) as caught:
        client.read_schema(INTEGRATION, ObjectType.ACCOUNT)
    assert str(caught.value).startswith(
        "Gong's answer to the schema read for ACCOUNT (integration 6286478263646) is not what "
        f"crmform expects: {says}. Nothing was read from it."
    )
    assert caught.value.status == 200


def test_names_from_a_malformed_answer_are_escaped_and_cut_short():
    odd = "\x1b[2J" + "x" * 200
    with pytest.raises(ValueError, match=r"it lists only \\x1b\[2Jx+\.\.\.\)$") as caught:
        decode_listing({"objectTypeToSelectedFields": {odd: []}}, ObjectType.ACCOUNT)
    assert "\x1b" not in str(caught.value)
    assert len(str(caught.value)) < 150


def test_deleted_items_are_left_out_whatever_else_they_hold():
    items = [
        {"uniqueName": "kept", "label": "Kept", "type": "STRING", "isDeleted": False},
        {"uniqueName": "gone", "label": "Gone", "type": "STRING", "isDeleted": True},
        {"name": "old", "type": "NOT_A_TYPE", "isDeleted": True, "custom": 1},
    ]
    client, *_ = make(listing("ACCOUNT", items))
    schema = client.read_schema(INTEGRATION, ObjectType.ACCOUNT)[ObjectType.ACCOUNT]
    assert schema.fields == (Field("kept", "Kept", FieldType.STRING),)
    assert schema.extra == ()


def test_attributes_crmform_does_not_model_are_kept_per_field_as_json():
    items = [
        {
            "uniqueName": "owner",
            "label": "Owner",
            "type": "REFERENCE",
            "referenceTo": "USER",
            "isDeleted": False,
            "somethingNew": {"x": [1, "é"], "a": None},
            "formula": "=A1",
            "hidden": None,
        },
        {"name": "plain", "label": "Plain", "type": "STRING", "lastModified": None},
    ]
    client, *_ = make(listing("ACCOUNT", items))
    schema = client.read_schema(INTEGRATION, ObjectType.ACCOUNT)[ObjectType.ACCOUNT]
    assert [f.unique_name for f in schema.fields] == ["owner", "plain"]
    assert schema.extra == (
        (
            "owner",
            (
                ("formula", '"=A1"'),
                ("hidden", "null"),
                ("somethingNew", '{"a": null, "x": [1, "é"]}'),
            ),
        ),
    )
    assert schema.extra_of("owner")[0] == ("formula", '"=A1"')
    assert schema.extra_of("plain") == ()
    assert schema == RemoteSchema(
        schema.object_type, schema.fields, schema.request_id, schema.extra
    )
    assert isinstance(hash(schema), int)  # frozen all the way down

"""The Gong emulator: Gong's documented rules, driven through GongClient and raw requests."""

from __future__ import annotations

import contextlib
import json
import re
import threading
import time
from pathlib import Path

import httpx
import pytest
from factories import FakeTime

from crmform.engine.errors import ProviderError
from crmform.engine.model import REFERENCE_TARGETS, Field, FieldType, ObjectType
from crmform.engine.ports import FieldPayload
from crmform.providers.gong import emulator as emulator_module
from crmform.providers.gong.client import GongClient
from crmform.providers.gong.emulator import DestroyEvent, GongEmulator, RecordedRequest, serve
from crmform.providers.gong.settings import GongSettings

ID = 6286478263646
BIG_ID = 2271307570613351879
URL = "http://gong.test/v2/crm/entity-schema"
A: FieldPayload = {"uniqueName": "fieldA", "label": "Field A", "type": "STRING"}
B: FieldPayload = {"uniqueName": "fieldB", "label": "Field B", "type": "NUMBER"}
C: FieldPayload = {"uniqueName": "fieldC", "label": "Field C", "type": "BOOLEAN"}
STAGE: FieldPayload = {
    "uniqueName": "stage",
    "label": "Stage",
    "type": "PICKLIST",
    "orderedValueList": ["new", "won"],
    "lastModified": "2020-12-17T13:45:01Z",
}
OWNER: FieldPayload = {
    "uniqueName": "owner",
    "label": "Owner",
    "type": "REFERENCE",
    "referenceTo": "USER",
}


def client_for(emulator: GongEmulator, fake: FakeTime | None = None, **settings) -> GongClient:
    fake = fake or FakeTime(50.0)
    credentials = settings.pop("credentials", {"access_key": "k", "access_key_secret": "s"})
    return GongClient(
        GongSettings(base_url="http://gong.test", **credentials, **settings),
        transport=httpx.WSGITransport(app=emulator),
        sleep=fake.sleep,
        clock=fake.clock,
        random=lambda: 0.5,
    )


def raw(emulator: GongEmulator) -> httpx.Client:
    return httpx.Client(transport=httpx.WSGITransport(app=emulator))


def post(emulator: GongEmulator, body: object, **params: str) -> httpx.Response:
    query = {"integrationId": str(ID), "objectType": "ACCOUNT", **params}
    with raw(emulator) as http:
        return http.post(URL, params=query, content=json.dumps(body).encode())


def assert_gong_error(response: httpx.Response, status: int, *errors: str) -> None:
    assert response.status_code == status
    assert response.headers["content-type"] == "application/json;charset=UTF-8"
    body = response.json()
    assert set(body) == {"requestId", "errors"}
    assert re.fullmatch("[a-z0-9]{19}", body["requestId"])
    assert tuple(body["errors"]) == errors


# -- Gong's documented update sequence -------------------------------------------------------


def test_gongs_documented_four_step_sequence():
    emulator = GongEmulator(rng=7)
    client = client_for(emulator)
    client.write_schema(ID, ObjectType.ACCOUNT, [A])
    assert [f["uniqueName"] for f in emulator.schema(ID, "ACCOUNT")] == ["fieldA"]
    client.write_schema(ID, ObjectType.ACCOUNT, [A, B])
    assert [f["uniqueName"] for f in emulator.schema(ID, "ACCOUNT")] == ["fieldA", "fieldB"]

    with pytest.raises(ProviderError) as caught:
        client.write_schema(ID, ObjectType.ACCOUNT, [C])
    assert caught.value.status == 400
    assert caught.value.errors == (
        "You must include all fields in the schema; missing: fieldA, fieldB",
    )
    assert emulator.schema(ID, "ACCOUNT") == [A, B]

    client.write_schema(ID, ObjectType.ACCOUNT, [B, C, {**A, "isDeleted": True}])
    assert emulator.schema(ID, "ACCOUNT") == [B, C]
    assert emulator.events == [DestroyEvent(ID, "ACCOUNT", "fieldA", "deleted")]
    # A deleted field no longer has to be listed.
    client.write_schema(ID, ObjectType.ACCOUNT, [B, C])


def test_a_rejected_upload_changes_nothing_even_when_other_items_would_apply():
    emulator = GongEmulator()
    emulator.seed(ID, "ACCOUNT", [A, B])
    response = post(emulator, [{**A, "type": "NUMBER"}, {**B, "isDeleted": True}, C, {"x": 1}])
    assert_gong_error(response, 400, "fields[3]: uniqueName is required (a non-empty string)")
    assert emulator.schema(ID, "ACCOUNT") == [A, B]
    assert emulator.events == []


def test_type_change_recreates_the_field_and_records_data_loss():
    emulator = GongEmulator()
    emulator.seed(ID, "DEAL", [A])
    client_for(emulator).write_schema(ID, ObjectType.DEAL, [{**A, "type": "NUMBER"}])
    assert emulator.schema(ID, "DEAL") == [{**A, "type": "NUMBER"}]
    assert emulator.events == [DestroyEvent(ID, "DEAL", "fieldA", "type STRING -> NUMBER")]


def test_label_values_and_target_changes_update_in_place_without_data_loss():
    emulator = GongEmulator()
    emulator.seed(ID, "LEAD", [STAGE, OWNER])
    changed = [
        {**STAGE, "label": "Sales stage", "orderedValueList": ["won"]},
        {**OWNER, "referenceTo": "CONTACT"},
    ]
    client_for(emulator).write_schema(ID, ObjectType.LEAD, changed)
    assert emulator.schema(ID, "LEAD") == changed
    assert emulator.events == []


def test_tombstone_for_an_unknown_field_is_accepted_and_ignored():
    emulator = GongEmulator()
    client_for(emulator).write_schema(ID, ObjectType.ACCOUNT, [{**A, "isDeleted": True}])
    assert emulator.schema(ID, "ACCOUNT") == []
    assert emulator.events == []


def test_picklist_tombstone_may_omit_its_values_as_in_gongs_example():
    emulator = GongEmulator()
    emulator.seed(ID, "ACCOUNT", [STAGE])
    tombstone = {k: v for k, v in STAGE.items() if k != "orderedValueList"}
    response = post(emulator, [{**tombstone, "isDeleted": True}])
    assert response.status_code == 201
    assert set(response.json()) == {"requestId"}
    assert emulator.schema(ID, "ACCOUNT") == []


def test_unknown_keys_are_ignored_and_attributes_kept_only_where_they_apply():
    emulator = GongEmulator()
    response = post(emulator, [{**A, "referenceTo": "USER", "colour": "red"}])
    assert response.status_code == 201
    assert emulator.schema(ID, "ACCOUNT") == [A]


def test_schemas_are_kept_per_integration_and_object_type():
    emulator = GongEmulator()
    client = client_for(emulator)
    client.write_schema(BIG_ID, ObjectType.CONTACT, [A])
    assert emulator.schema(BIG_ID, "CONTACT") == [A]
    assert emulator.schema(BIG_ID + 1, "CONTACT") == []
    assert emulator.schema(BIG_ID, "ACCOUNT") == []
    assert emulator.requests[0].query == {"integrationId": str(BIG_ID), "objectType": "CONTACT"}


# -- validation ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("params", "error"),
    [
        ({"integrationId": "abc"}, "integrationId must be a positive 64-bit integer, not 'abc'"),
        ({"integrationId": "0"}, "integrationId must be a positive 64-bit integer, not '0'"),
        ({"integrationId": "-5"}, "integrationId must be a positive 64-bit integer, not '-5'"),
        (
            {"integrationId": str(2**63)},
            "integrationId must be a positive 64-bit integer, not '9223372036854775808'",
        ),
        (
            {"objectType": "account"},
            "objectType must be one of ACCOUNT, CONTACT, DEAL, LEAD (case-sensitive), "
            "not 'account'",
        ),
    ],
)
def test_query_parameters_are_validated(params, error):
    assert_gong_error(post(GongEmulator(), [A], **params), 400, error)


def test_post_requires_object_type_and_integration_id():
    emulator = GongEmulator()
    with raw(emulator) as http:
        no_type = http.post(URL, params={"integrationId": str(ID)}, json=[A])
        no_id = http.post(URL, params={"objectType": "ACCOUNT"}, json=[A])
    assert_gong_error(no_type, 400, "Required parameter objectType must be given exactly once")
    assert_gong_error(no_id, 400, "Required parameter integrationId must be given exactly once")


TYPES = (
    "DATE, DATETIME, NUMBER, PERCENT, CURRENCY, ID, URL, STRING, BOOLEAN, PHONENUMBER, "
    "EMAILADDRESS, PICKLIST, REFERENCE, STRINGARRAY"
)


@pytest.mark.parametrize(
    ("body", "errors"),
    [
        ({"fields": [A]}, ["Malformed request: the body must be a JSON array of fields"]),
        (["fieldA"], ["fields[0]: each field must be a JSON object"]),
        (
            [{"uniqueName": "f", "type": "string"}],
            [
                "fields[0] (f): label is required (a non-empty string)",
                f"fields[0] (f): type must be one of {TYPES} (case-sensitive), not 'string'",
            ],
        ),
        (
            [{**STAGE, "orderedValueList": []}],
            [
                "fields[0] (stage): orderedValueList is required for a PICKLIST "
                "(a non-empty array of strings)"
            ],
        ),
        (
            [{**OWNER, "referenceTo": "OPPORTUNITY"}],
            [
                "fields[0] (owner): referenceTo is required for a REFERENCE, one of ACCOUNT, "
                "CONTACT, DEAL, LEAD, USER, not 'OPPORTUNITY'"
            ],
        ),
        (
            [{**A, "lastModified": "2020-12-17T13:45:01.123Z"}],
            [
                "fields[0] (fieldA): lastModified must be ISO-8601 without milliseconds, such "
                "as 2020-12-17T13:45:01Z, not '2020-12-17T13:45:01.123Z'"
            ],
        ),
        (
            [A, B, {**A, "label": "again"}],
            ["fields[2] (fieldA): uniqueName 'fieldA' appears more than once in the body"],
        ),
        (
            [{**A, "isDeleted": "yes"}],
            ["fields[0] (fieldA): isDeleted must be true or false, not 'yes'"],
        ),
    ],
)
def test_upload_bodies_are_validated_with_every_problem_listed(body, errors):
    emulator = GongEmulator()
    assert_gong_error(post(emulator, body), 400, *errors)
    assert emulator.schema(ID, "ACCOUNT") == []


def test_odd_unique_names_are_rejected_as_400_not_a_crash():
    emulator = GongEmulator()
    emulator.seed(ID, "ACCOUNT", [A])
    response = post(emulator, [A, {**B, "uniqueName": ["fieldB"]}, {**C, "uniqueName": ""}])
    assert_gong_error(
        response,
        400,
        "fields[1]: uniqueName is required (a non-empty string)",
        "fields[2]: uniqueName is required (a non-empty string)",
    )


@pytest.mark.parametrize("stamp", ["2020-12-17T13:45:01Z", "2018-02-18T02:30:00-07:00"])
def test_last_modified_accepts_utc_and_offsets(stamp):
    assert post(GongEmulator(), [{**A, "lastModified": stamp}]).status_code == 201


def test_body_that_is_not_json_is_rejected():
    with raw(GongEmulator()) as http:
        response = http.post(
            URL, params={"integrationId": str(ID), "objectType": "DEAL"}, content=b"{oops"
        )
    assert_gong_error(response, 400, "Malformed request: the body must be a JSON array of fields")


def test_unknown_path_is_404_and_wrong_method_405():
    emulator = GongEmulator()
    with raw(emulator) as http:
        missing = http.get("http://gong.test/v2/crm/entities", params={"integrationId": "1"})
        wrong = http.delete(URL, params={"integrationId": "1"})
    assert_gong_error(missing, 404, "No endpoint GET /v2/crm/entities")
    assert_gong_error(wrong, 405, "Method DELETE is not supported")
    assert wrong.headers["allow"] == "GET, POST"


# -- GET shapes ------------------------------------------------------------------------------


def test_get_uses_gongs_documented_shape_with_name_by_default():
    emulator = GongEmulator()
    emulator.seed(ID, "ACCOUNT", [STAGE, OWNER])
    with raw(emulator) as http:
        body = http.get(URL, params={"integrationId": str(ID), "objectType": "ACCOUNT"}).json()
    assert set(body) == {"requestId", "objectTypeToSelectedFields"}
    assert body["objectTypeToSelectedFields"] == {
        "ACCOUNT": [
            {
                "name": "stage",
                "label": "Stage",
                "type": "PICKLIST",
                "isDeleted": False,
                "lastModified": "2020-12-17T13:45:01Z",
                "referenceTo": None,
                "orderedValueList": ["new", "won"],
            },
            {
                "name": "owner",
                "label": "Owner",
                "type": "REFERENCE",
                "isDeleted": False,
                "lastModified": None,
                "referenceTo": "USER",
                "orderedValueList": None,
            },
        ]
    }


@pytest.mark.parametrize(
    ("name_key", "keys"), [("uniqueName", {"uniqueName"}), ("both", {"name", "uniqueName"})]
)
def test_get_name_key_is_configurable(name_key, keys):
    emulator = GongEmulator(name_key=name_key)
    emulator.seed(ID, "ACCOUNT", [A])
    with raw(emulator) as http:
        body = http.get(URL, params={"integrationId": str(ID), "objectType": "ACCOUNT"}).json()
    (item,) = body["objectTypeToSelectedFields"]["ACCOUNT"]
    assert {"name", "uniqueName"} & set(item) == keys
    assert all(item[k] == "fieldA" for k in keys)


def test_client_reads_every_get_shape_the_same_way():
    expected = (
        Field(
            "stage",
            "Stage",
            FieldType.PICKLIST,
            None,
            ("new", "won"),
            False,
            "2020-12-17T13:45:01Z",
        ),
        Field("owner", "Owner", FieldType.REFERENCE, reference_to="USER"),
    )
    for name_key in ("name", "uniqueName", "both"):
        emulator = GongEmulator(name_key=name_key)
        emulator.seed(ID, "ACCOUNT", [STAGE, OWNER])
        read = client_for(emulator).read_schema(ID, ObjectType.ACCOUNT)
        assert read[ObjectType.ACCOUNT].fields == expected


def test_null_attributes_mode_hides_values_targets_and_times_as_gongs_example_does():
    emulator = GongEmulator(null_attributes=True)
    emulator.seed(ID, "ACCOUNT", [STAGE, OWNER])
    read = client_for(emulator).read_schema(ID, ObjectType.ACCOUNT)[ObjectType.ACCOUNT]
    assert read.fields == (
        Field("stage", "Stage", FieldType.PICKLIST),
        Field("owner", "Owner", FieldType.REFERENCE),
    )
    assert emulator.schema(ID, "ACCOUNT") == [STAGE, OWNER]


def test_get_without_object_type_lists_every_type():
    emulator = GongEmulator()
    emulator.seed(ID, "DEAL", [A])
    with raw(emulator) as http:
        body = http.get(URL, params={"integrationId": str(ID)}).json()
    selected = body["objectTypeToSelectedFields"]
    assert list(selected) == ["ACCOUNT", "CONTACT", "DEAL", "LEAD"]
    assert [len(v) for v in selected.values()] == [0, 0, 1, 0]


# -- responses, auth, limits and faults ------------------------------------------------------


@pytest.mark.parametrize("status", [200, 201])
def test_client_accepts_both_upload_statuses(status):
    emulator = GongEmulator(upload_status=status, rng=3)
    result = client_for(emulator).write_schema(ID, ObjectType.ACCOUNT, [A])
    assert result.status == status
    assert re.fullmatch("[a-z0-9]{19}", result.request_id or "")


def test_request_ids_are_deterministic_when_seeded_and_match_the_trace_header():
    ids = []
    for _ in range(2):
        with raw(GongEmulator(rng=42)) as http:
            response = http.get(URL, params={"integrationId": "1", "objectType": "LEAD"})
        assert response.headers["x-traceid"] == response.json()["requestId"]
        ids.append(response.json()["requestId"])
    assert ids[0] == ids[1]
    with raw(GongEmulator(rng=43)) as http:
        other = http.get(URL, params={"integrationId": "1", "objectType": "LEAD"}).json()
    assert other["requestId"] != ids[0]


def test_basic_auth_is_enforced_when_configured():
    emulator = GongEmulator(access_key="key-id", secret="the-secret")
    with raw(emulator) as http:
        params = {"integrationId": "1", "objectType": "LEAD"}
        missing = http.get(URL, params=params)
        wrong = http.get(URL, params=params, auth=("key-id", "nope"))
        bearer = http.get(URL, params=params, headers={"Authorization": "Bearer the-secret"})
        right = http.get(URL, params=params, auth=("key-id", "the-secret"))
    assert_gong_error(missing, 401, "Access denied: the request has no Authorization header")
    assert_gong_error(wrong, 401, "Access denied: invalid access key or access key secret")
    assert_gong_error(bearer, 401, "Access denied: Bearer authorization is not accepted")
    assert right.status_code == 200


def test_client_with_wrong_token_gets_401_naming_its_credentials():
    emulator = GongEmulator(bearer="good-token")
    settings = {"bearer_token": "bad-token", "credential_source": "GONG_BEARER_TOKEN"}
    client = client_for(emulator, credentials=settings)
    with pytest.raises(ProviderError) as caught:
        client.read_schema(ID, ObjectType.ACCOUNT)
    assert caught.value.status == 401
    assert caught.value.errors == ("Access denied: the access token is invalid or expired",)
    assert "Check GONG_BEARER_TOKEN: the token needs scope api:crm:schema" in str(caught.value)
    assert len(emulator.requests) == 1
    good = client_for(emulator, credentials={**settings, "bearer_token": "good-token"})
    assert good.read_schema(ID, ObjectType.ACCOUNT)[ObjectType.ACCOUNT].fields == ()


def test_rate_limit_answers_429_with_retry_after_and_recovers():
    fake = FakeTime(50.0)
    emulator = GongEmulator(rate_limit=2, clock=fake.clock)
    with raw(emulator) as http:
        params = {"integrationId": "1", "objectType": "LEAD"}
        first, second, third = (http.get(URL, params=params) for _ in range(3))
        fake.now += 0.5
        still = http.get(URL, params=params)
        fake.now += 0.6
        again = http.get(URL, params=params)
    assert (first.status_code, second.status_code) == (200, 200)
    assert_gong_error(third, 429, "API request limit exceeded")
    assert third.headers["retry-after"] == "1"
    assert still.status_code == 429
    assert again.status_code == 200


def test_client_paced_faster_than_the_limit_recovers_through_retry_after():
    fake = FakeTime(50.0)
    emulator = GongEmulator(rate_limit=3, clock=fake.clock)
    client = client_for(emulator, fake, rate=100.0)
    read = client.read_schema(ID)
    assert list(read) == list(ObjectType)
    statuses = [r.query["objectType"] for r in emulator.requests]
    assert statuses == ["ACCOUNT", "CONTACT", "DEAL", "LEAD", "LEAD"]
    assert 1.0 in fake.sleeps


def test_client_at_gongs_rate_never_meets_the_limit():
    fake = FakeTime(50.0)
    emulator = GongEmulator(rate_limit=3, clock=fake.clock)
    client = client_for(emulator, fake)
    for _ in range(3):
        client.read_schema(ID)
    assert len(emulator.requests) == 12


def test_fail_next_500_then_ok_is_retried_by_the_client():
    emulator = GongEmulator()
    emulator.fail_next(500, times=2, method="POST")
    client_for(emulator).write_schema(ID, ObjectType.ACCOUNT, [A])
    assert [r.method for r in emulator.requests] == ["POST", "POST", "POST"]
    assert emulator.schema(ID, "ACCOUNT") == [A]


def test_fail_next_can_target_one_object_type_with_custom_errors():
    emulator = GongEmulator()
    emulator.fail_next(400, object_type="DEAL", errors=["Field limit reached"])
    client = client_for(emulator)
    client.write_schema(ID, ObjectType.ACCOUNT, [A])
    with pytest.raises(ProviderError) as caught:
        client.write_schema(ID, ObjectType.DEAL, [A])
    assert caught.value.errors == ("Field limit reached",)
    client.write_schema(ID, ObjectType.DEAL, [A])
    assert emulator.schema(ID, "DEAL") == [A]


def test_ambiguous_failure_after_apply_is_safe_to_retry_with_the_same_body():
    emulator = GongEmulator()
    emulator.seed(ID, "ACCOUNT", [A, B])
    emulator.fail_next(503, after_apply=True)
    body = [{**A, "isDeleted": True}, B, C]
    client_for(emulator).write_schema(ID, ObjectType.ACCOUNT, body)
    assert len(emulator.requests) == 2
    assert emulator.requests[0].body == emulator.requests[1].body == body
    assert emulator.schema(ID, "ACCOUNT") == [B, C]
    assert emulator.events == [DestroyEvent(ID, "ACCOUNT", "fieldA", "deleted")]


def test_fault_with_retry_after_is_honoured_by_the_client():
    fake = FakeTime(50.0)
    emulator = GongEmulator()
    emulator.fail_next(429, retry_after=3)
    client_for(emulator, fake).read_schema(ID, ObjectType.ACCOUNT)
    assert 3.0 in fake.sleeps


def test_requests_are_recorded_with_parsed_bodies():
    emulator = GongEmulator()
    post(emulator, [A])
    with raw(emulator) as http:
        http.post(URL, params={"integrationId": "1", "objectType": "LEAD"}, content=b"not json")
    assert emulator.requests == [
        RecordedRequest(
            "POST",
            "/v2/crm/entity-schema",
            {"integrationId": str(ID), "objectType": "ACCOUNT"},
            [A],
        ),
        RecordedRequest(
            "POST",
            "/v2/crm/entity-schema",
            {"integrationId": "1", "objectType": "LEAD"},
            "not json",
        ),
    ]


def test_seeded_fields_must_be_included_in_later_uploads():
    emulator = GongEmulator()
    emulator.seed(ID, "CONTACT", [OWNER])
    response = post(emulator, [A], objectType="CONTACT")
    assert_gong_error(response, 400, "You must include all fields in the schema; missing: owner")
    with pytest.raises(ValueError, match="type must be one of"):
        emulator.seed(ID, "CONTACT", [{**A, "type": "TEXT"}])


def test_emulator_vocabulary_matches_the_engine():
    assert tuple(t.value for t in FieldType) == emulator_module.FIELD_TYPES
    assert tuple(t.value for t in ObjectType) == emulator_module.OBJECT_TYPES
    assert emulator_module.REFERENCE_TARGETS == REFERENCE_TARGETS


# -- persistence -----------------------------------------------------------------------------


def test_schema_persists_in_the_data_file_across_instances(tmp_path: Path):
    data = tmp_path / "gong.json"
    first = GongEmulator(data_path=data)
    client_for(first).write_schema(BIG_ID, ObjectType.ACCOUNT, [A, STAGE])
    assert json.loads(data.read_text())["schemas"] == {str(BIG_ID): {"ACCOUNT": [A, STAGE]}}
    assert [p.name for p in tmp_path.iterdir()] == ["gong.json"]

    second = GongEmulator(data_path=data)
    assert second.schema(BIG_ID, "ACCOUNT") == [A, STAGE]
    response = post(second, [B], integrationId=str(BIG_ID))
    assert_gong_error(
        response, 400, "You must include all fields in the schema; missing: fieldA, stage"
    )
    client_for(second).write_schema(
        BIG_ID, ObjectType.ACCOUNT, [{**A, "isDeleted": True}, {**STAGE, "isDeleted": True}]
    )
    assert GongEmulator(data_path=data).schema(BIG_ID, "ACCOUNT") == []


def test_a_failed_upload_does_not_touch_the_data_file(tmp_path: Path):
    data = tmp_path / "gong.json"
    emulator = GongEmulator(data_path=data)
    emulator.seed(ID, "ACCOUNT", [A])
    before = data.read_bytes()
    assert post(emulator, [B]).status_code == 400
    assert data.read_bytes() == before


def test_a_corrupt_data_file_is_reported(tmp_path: Path):
    data = tmp_path / "gong.json"
    data.write_text("{not json")
    with pytest.raises(ValueError, match=r"Cannot read the emulator data file .*gong\.json: "):
        GongEmulator(data_path=data)


# -- serving over HTTP -----------------------------------------------------------------------


def test_serve_answers_a_real_http_client_on_a_free_loopback_port():
    emulator = GongEmulator()
    ports: list[int] = []
    listening = threading.Event()

    def ready(port: int) -> None:
        ports.append(port)
        listening.set()

    handled: list[int] = []
    thread = threading.Thread(
        target=lambda: handled.append(
            serve(emulator, "127.0.0.1", 0, max_requests=3, max_seconds=20, ready=ready)
        ),
        daemon=True,
    )
    thread.start()
    assert listening.wait(10)
    base = f"http://127.0.0.1:{ports[0]}"
    settings = GongSettings(base_url=base, access_key="k", access_key_secret="s", rate=1000.0)
    with GongClient(settings) as client:
        client.write_schema(ID, ObjectType.ACCOUNT, [A])
        read = client.read_schema(ID, ObjectType.ACCOUNT)
        with pytest.raises(ProviderError) as caught:
            client.write_schema(ID, ObjectType.ACCOUNT, [B])
    thread.join(10)
    assert not thread.is_alive()
    assert handled == [3]
    assert read[ObjectType.ACCOUNT].fields == (Field("fieldA", "Field A", FieldType.STRING),)
    assert caught.value.status == 400


def test_serve_returns_when_its_time_is_up():
    assert serve(GongEmulator(), "127.0.0.1", 0, max_seconds=0.05) == 0


@pytest.mark.parametrize("host", ["0.0.0.0", "192.168.1.10", "example.com"])
def test_serve_refuses_non_loopback_hosts(host):
    with pytest.raises(ValueError, match="Refusing") as caught:
        serve(GongEmulator(), host, 0, max_requests=1, max_seconds=1)
    assert str(caught.value) == (
        f"Refusing to serve the Gong emulator on {host}: it is not a loopback address. "
        "Use 127.0.0.1 (or ::1), or allow remote hosts explicitly."
    )


def test_a_stop_signal_during_a_request_stops_the_server_and_is_not_answered_500():
    """wsgiref catches everything a request raises; Ctrl-C and SIGTERM must still stop."""
    import socket
    import threading

    import httpx

    from crmform.providers.gong.emulator_server import serve

    def stopping_app(environ, start_response):
        raise KeyboardInterrupt

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    ready = threading.Event()

    def client() -> None:
        ready.wait(5)
        with contextlib.suppress(httpx.HTTPError):
            httpx.get(f"http://127.0.0.1:{port}/", timeout=5)

    thread = threading.Thread(target=client)
    thread.start()
    started = time.monotonic()
    handled = serve(stopping_app, "127.0.0.1", port, max_seconds=10, ready=lambda _: ready.set())
    thread.join(10)
    assert handled == 1
    assert time.monotonic() - started < 5  # stopped at once, not after max_seconds

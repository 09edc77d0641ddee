"""GongClient against httpx.MockTransport: requests on the wire, retries, pacing, errors."""

from __future__ import annotations

import base64
import json

import httpx
import pytest
from gong_mock import (
    BIG_ID,
    FIELD_A,
    FIELD_A_JSON,
    INTEGRATION,
    SECRET,
    STAGE,
    STAGE_JSON,
    TOKEN,
    gong_error,
    listing,
    make,
    ok,
)

from crmform import __version__
from crmform.engine.errors import ProviderError, UncertainOutcomeError
from crmform.engine.model import Field, FieldType, ObjectType
from crmform.providers.gong.client import GongClient
from crmform.providers.gong.settings import GongSettings

# -- settings ---------------------------------------------------------------------------------


def test_settings_from_env_use_basic_auth_and_name_the_variables():
    settings = GongSettings.from_env(
        {
            "GONG_ACCESS_KEY": "key-id",
            "GONG_ACCESS_KEY_SECRET": SECRET,
            "GONG_BASE_URL": "https://us-55616.api.gong.io/",
        }
    )
    assert settings.base_url == "https://us-55616.api.gong.io"
    assert settings.auth_kind == "basic"
    assert settings.credential_source == "GONG_ACCESS_KEY/GONG_ACCESS_KEY_SECRET"
    assert (settings.rate, settings.max_attempts, settings.max_retry_seconds) == (3.0, 5, 120.0)
    assert (settings.timeout, settings.allow_insecure_http) == (30.0, False)


def test_settings_flags_override_the_environment_and_are_named_as_flags():
    settings = GongSettings.from_env(
        {"GONG_BEARER_TOKEN": TOKEN, "GONG_RATE_LIMIT": "1.5"},
        base_url="http://127.0.0.1:8765",
        bearer_token="other-token-123",
        rate_limit=9.0,
        max_attempts=2,
    )
    assert settings.base_url == "http://127.0.0.1:8765"
    assert settings.credential_source == "--bearer-token"
    assert settings.authorization() == "Bearer other-token-123"
    assert (settings.rate, settings.max_attempts) == (9.0, 2)


def test_settings_default_host_and_rate_from_the_environment():
    settings = GongSettings.from_env({"GONG_BEARER_TOKEN": TOKEN, "GONG_RATE_LIMIT": "1.5"})
    assert settings.base_url == "https://api.gong.io"
    assert settings.credential_source == "GONG_BEARER_TOKEN"
    assert settings.rate == 1.5


def test_missing_credentials_are_reported_before_any_request():
    with pytest.raises(ProviderError) as caught:
        GongSettings.from_env({"GONG_ACCESS_KEY": "  "})
    assert str(caught.value) == (
        "No Gong credentials: set GONG_ACCESS_KEY and GONG_ACCESS_KEY_SECRET (Basic auth), or "
        "GONG_BEARER_TOKEN (OAuth, scope api:crm:schema); or pass --access-key and "
        "--access-key-secret, or --bearer-token."
    )
    assert caught.value.status is None


def test_half_a_key_pair_names_what_is_missing():
    with pytest.raises(ProviderError) as caught:
        GongSettings.from_env({"GONG_ACCESS_KEY_SECRET": SECRET}, access_key=None)
    assert str(caught.value) == (
        "Incomplete Gong credentials: GONG_ACCESS_KEY_SECRET is set but GONG_ACCESS_KEY is "
        "not. Set both (Basic auth), or use GONG_BEARER_TOKEN (OAuth) instead."
    )


def test_both_kinds_of_credentials_are_refused():
    with pytest.raises(ProviderError) as caught:
        GongSettings.from_env(
            {"GONG_ACCESS_KEY": "k", "GONG_BEARER_TOKEN": TOKEN}, access_key_secret=SECRET
        )
    assert str(caught.value) == (
        "Conflicting Gong credentials: both GONG_ACCESS_KEY/--access-key-secret (Basic auth) "
        "and GONG_BEARER_TOKEN (OAuth) are set. Keep only one kind."
    )
    assert SECRET not in str(caught.value)
    assert TOKEN not in str(caught.value)


def test_settings_built_directly_name_the_variables_of_their_credential_kind():
    assert GongSettings(bearer_token=TOKEN).credential_source == "GONG_BEARER_TOKEN"
    basic = GongSettings(access_key="k", access_key_secret=SECRET)
    assert basic.credential_source == "GONG_ACCESS_KEY/GONG_ACCESS_KEY_SECRET"
    with pytest.raises(ProviderError) as caught:
        GongSettings(access_key="k", access_key_secret=SECRET, bearer_token=TOKEN)
    assert str(caught.value) == (
        "Conflicting Gong credentials: both an access key pair (Basic auth) and a bearer "
        "token (OAuth) are given. Keep only one kind."
    )
    with pytest.raises(ProviderError, match=r"^No Gong credentials: "):
        GongSettings(access_key="k")


@pytest.mark.parametrize(
    ("env", "message"),
    [
        (
            {"GONG_BASE_URL": "api.gong.io"},
            "GONG_BASE_URL must be an http(s) URL such as https://us-12345.api.gong.io; "
            "got 'api.gong.io'.",
        ),
        (
            {"GONG_BASE_URL": "https://user:pw@api.gong.io"},
            "GONG_BASE_URL must not contain credentials; set GONG_ACCESS_KEY and "
            "GONG_ACCESS_KEY_SECRET, or GONG_BEARER_TOKEN, instead.",
        ),
        (
            {"GONG_RATE_LIMIT": "fast"},
            "GONG_RATE_LIMIT must be a number of requests per second greater than 0, such as 3; "
            "got 'fast'.",
        ),
        (
            {"GONG_RATE_LIMIT": "0"},
            "GONG_RATE_LIMIT must be a number of requests per second greater than 0, such as 3; "
            "got '0'.",
        ),
    ],
)
def test_malformed_settings_are_explained(env, message):
    with pytest.raises(ProviderError) as caught:
        GongSettings.from_env({"GONG_BEARER_TOKEN": TOKEN, **env})
    assert str(caught.value) == message


def test_secret_never_shown_by_settings_client_or_errors():
    basic = GongSettings.from_env({"GONG_ACCESS_KEY": "key-id", "GONG_ACCESS_KEY_SECRET": SECRET})
    bearer = GongSettings.from_env({"GONG_BEARER_TOKEN": TOKEN})
    encoded = base64.b64encode(f"key-id:{SECRET}".encode()).decode()
    shown = [
        repr(basic),
        str(basic),
        repr(bearer),
        str(bearer),
        repr(GongClient(basic)),
        str(GongClient(bearer)),
    ]
    # A server that echoes the credentials back must not make us print them either.
    echoes = {False: f"bad key {SECRET} in Basic {encoded}", True: f"bad token {TOKEN}"}
    for bearer_auth, echo in echoes.items():
        client, *_ = make(gong_error(401, echo), bearer=bearer_auth)
        with pytest.raises(ProviderError) as caught:
            client.read_schema(INTEGRATION, ObjectType.ACCOUNT)
        shown += [str(caught.value), repr(caught.value), *caught.value.errors]
    text = "\n".join(shown)
    assert "GONG_ACCESS_KEY/GONG_ACCESS_KEY_SECRET" in text
    for secret in (SECRET, TOKEN, encoded):
        assert secret not in text


# -- requests on the wire ---------------------------------------------------------------------


def test_read_sends_get_with_exact_int64_id_object_type_basic_auth_and_user_agent():
    client, recorder, *_ = make(listing("DEAL", []))
    client.read_schema(BIG_ID, ObjectType.DEAL)
    (request,) = recorder.requests
    assert request.method == "GET"
    assert request.url.path == "/v2/crm/entity-schema"
    assert dict(request.url.params) == {
        "integrationId": "2271307570613351879",
        "objectType": "DEAL",
    }
    expected = base64.b64encode(f"key-id:{SECRET}".encode()).decode()
    assert request.headers["authorization"] == f"Basic {expected}"
    assert request.headers["user-agent"] == f"crmform/{__version__}"


def test_bearer_token_is_sent_as_bearer_header():
    client, recorder, *_ = make(listing("LEAD", []), bearer=True)
    client.read_schema(INTEGRATION, ObjectType.LEAD)
    assert recorder.requests[0].headers["authorization"] == f"Bearer {TOKEN}"


def test_reading_all_types_sends_one_get_per_type_always_with_object_type():
    client, recorder, *_ = make(lambda r: listing(r.url.params["objectType"], []))
    result = client.read_schema(INTEGRATION)
    assert [r.url.params["objectType"] for r in recorder.requests] == [
        "ACCOUNT",
        "CONTACT",
        "DEAL",
        "LEAD",
    ]
    assert list(result) == list(ObjectType)
    assert all(s.fields == () for s in result.values())


def test_write_posts_exactly_the_given_items_as_a_json_array():
    client, recorder, *_ = make(ok({"requestId": "762pqtu6qaw5ww7z8j6"}, status=201))
    result = client.write_schema(BIG_ID, ObjectType.ACCOUNT, [STAGE, FIELD_A])
    (request,) = recorder.requests
    assert request.method == "POST"
    assert dict(request.url.params) == {"integrationId": str(BIG_ID), "objectType": "ACCOUNT"}
    assert request.headers["content-type"] == "application/json"
    assert json.loads(request.content) == [STAGE_JSON, FIELD_A_JSON]
    assert (result.status, result.request_id) == (201, "762pqtu6qaw5ww7z8j6")


@pytest.mark.parametrize("status", [200, 201, 202])
def test_any_2xx_upload_with_gongs_json_is_success(status):
    client, *_ = make(ok({"requestId": "abc"}, status=status))
    result = client.write_schema(INTEGRATION, ObjectType.ACCOUNT, [FIELD_A])
    assert (result.status, result.request_id) == (status, "abc")


# -- parsing a GET ----------------------------------------------------------------------------


def test_get_reads_unique_name_then_name_and_keeps_nulls_unknown():
    items = [
        {"name": "old", "uniqueName": "new", "label": "Both", "type": "STRING"},
        {
            "name": "stage",
            "label": "Stage",
            "type": "PICKLIST",
            "isDeleted": False,
            "lastModified": None,
            "referenceTo": None,
            "orderedValueList": None,
        },
        {
            "uniqueName": "owner",
            "label": "Owner",
            "type": "REFERENCE",
            "referenceTo": "USER",
            "lastModified": "2020-12-17T13:45:01Z",
            "somethingNew": {"x": 1},
        },
        {"uniqueName": "tier", "label": "Tier", "type": "PICKLIST", "orderedValueList": ["a", "b"]},
        {"name": "gone", "label": "Gone", "type": "NOT_A_TYPE", "isDeleted": True},
    ]
    client, *_ = make(listing("ACCOUNT", items))
    schema = client.read_schema(INTEGRATION, ObjectType.ACCOUNT)[ObjectType.ACCOUNT]
    assert schema.request_id == "4al018gzaztcr8nbukw"
    assert schema.fields == (
        Field("new", "Both", FieldType.STRING),
        Field("stage", "Stage", FieldType.PICKLIST),
        Field(
            "owner",
            "Owner",
            FieldType.REFERENCE,
            reference_to="USER",
            last_modified="2020-12-17T13:45:01Z",
        ),
        Field("tier", "Tier", FieldType.PICKLIST, ordered_value_list=("a", "b")),
    )


def test_get_with_an_empty_list_for_the_type_means_no_fields():
    client, *_ = make(listing("ACCOUNT", []))
    assert client.read_schema(INTEGRATION, ObjectType.ACCOUNT)[ObjectType.ACCOUNT].fields == ()


def test_unknown_field_type_is_named():
    client, *_ = make(listing("ACCOUNT", [{"name": "f", "label": "F", "type": "MONEY"}]))
    with pytest.raises(ProviderError) as caught:
        client.read_schema(INTEGRATION, ObjectType.ACCOUNT)
    assert str(caught.value) == (
        "Gong's answer to the schema read for ACCOUNT (integration 6286478263646) is not what "
        "crmform expects: objectTypeToSelectedFields.ACCOUNT[0] (f) has type 'MONEY', which "
        "crmform does not know; upgrade crmform or report the new type. Nothing was read from "
        "it. (requestId 4al018gzaztcr8nbukw)"
    )


def test_get_without_the_field_map_is_an_error_not_an_empty_schema():
    client, *_ = make(ok({"requestId": "x"}))
    with pytest.raises(ProviderError, match="has no objectTypeToSelectedFields object"):
        client.read_schema(INTEGRATION, ObjectType.ACCOUNT)


def test_get_answering_html_is_reported_with_a_snippet():
    page = "<html><body>" + "Sign in " * 60 + "</body></html>"
    client, *_ = make(httpx.Response(200, text=page))
    with pytest.raises(ProviderError) as caught:
        client.read_schema(INTEGRATION, ObjectType.ACCOUNT)
    snippet = " ".join(page.split())[:197] + "..."
    assert str(caught.value) == (
        "Gong answered the schema read for ACCOUNT (integration 6286478263646) with HTTP 200 "
        f"but not with JSON: {snippet!r}. Check that https://us-1.api.gong.io (GONG_BASE_URL) "
        "is your tenant's Gong API host."
    )


# -- retries ----------------------------------------------------------------------------------


def test_429_waits_retry_after_seconds_then_retries():
    client, recorder, fake, notices = make(
        gong_error(429, "API request limit exceeded", **{"Retry-After": "2"}), ok()
    )
    client.write_schema(INTEGRATION, ObjectType.ACCOUNT, [FIELD_A])
    assert len(recorder.requests) == 2
    assert 2.0 in fake.sleeps
    assert recorder.starts[1] - recorder.starts[0] == 2.0
    assert [str(n) for n in notices] == [
        "retrying POST /v2/crm/entity-schema for ACCOUNT after HTTP 429 in 2.0s (the wait Gong "
        "asked for; attempt 2 of 5)"
    ]
    assert (notices[0].delay, notices[0].retry_after) == (2.0, True)


def test_429_retry_after_as_http_date_is_measured_against_the_server_date():
    limited = gong_error(
        429,
        "slow down",
        **{"Retry-After": "Wed, 21 Oct 2026 07:28:07 GMT", "Date": "Wed, 21 Oct 2026 07:28:00 GMT"},
    )
    client, _recorder, fake, _ = make(limited, listing("ACCOUNT", []))
    client.read_schema(INTEGRATION, ObjectType.ACCOUNT)
    assert fake.sleeps == [7.0]


def test_a_long_retry_after_is_waited_out_in_full_within_the_retry_time_limit():
    # It used to be cut to 60 s: the retry then came before Gong allowed it.
    limited = gong_error(429, "later", **{"Retry-After": "90"})
    client, recorder, fake, notices = make(limited, listing("ACCOUNT", []))
    client.read_schema(INTEGRATION, ObjectType.ACCOUNT)
    assert fake.sleeps == [90.0]
    assert recorder.starts[1] - recorder.starts[0] == 90.0
    assert [(n.delay, n.retry_after) for n in notices] == [(90.0, True)]


def test_a_retry_after_longer_than_the_time_left_stops_before_waiting_and_says_so():
    far = gong_error(429, "later", **{"Retry-After": "Wed, 21 Oct 2099 07:28:07 GMT"})
    client, recorder, fake, notices = make(far, listing("ACCOUNT", []), max_retry_seconds=30.0)
    with pytest.raises(ProviderError) as caught:
        client.read_schema(INTEGRATION, ObjectType.ACCOUNT)
    assert len(recorder.requests) == 1
    assert fake.sleeps == []
    assert notices == []
    assert not isinstance(caught.value, UncertainOutcomeError)
    message = str(caught.value)
    assert "Gong asked to wait " in message
    assert (
        "before trying again (Retry-After), more than the 30.0s left of the 30s retry time "
        in message
    )
    assert "limit; to wait that long, raise --max-retry-seconds)" in message


def test_429_without_retry_after_backs_off_with_jitter():
    client, _recorder, fake, _ = make(gong_error(429, "later"), listing("ACCOUNT", []), rng=0.5)
    client.read_schema(INTEGRATION, ObjectType.ACCOUNT)
    assert fake.sleeps[0] == 0.25  # full jitter: random() * 0.5 s on the first retry


@pytest.mark.parametrize("status", [500, 502, 503, 504])
def test_5xx_is_retried_with_the_identical_body(status):
    client, recorder, *_ = make(httpx.Response(status, text="upstream trouble"), ok())
    client.write_schema(INTEGRATION, ObjectType.DEAL, [STAGE, FIELD_A])
    first, second = recorder.requests
    assert first.content == second.content
    assert json.loads(second.content) == [STAGE_JSON, FIELD_A_JSON]


def test_backoff_doubles_up_to_the_cap():
    client, _recorder, fake, _ = make(
        httpx.Response(503), rng=1.0, max_attempts=9, max_retry_seconds=1000.0, rate=1000.0
    )
    with pytest.raises(ProviderError):
        client.read_schema(INTEGRATION, ObjectType.ACCOUNT)
    backoffs = [s for s in fake.sleeps if s > 0.01]
    assert backoffs == [0.5, 1.0, 2.0, 4.0, 8.0, 16.0, 30.0, 30.0]


@pytest.mark.parametrize(
    "failure", [httpx.ReadTimeout("read timed out"), httpx.ConnectError("refused")]
)
def test_timeouts_and_connection_errors_are_retried(failure):
    client, recorder, *_ = make(failure, ok())
    client.write_schema(INTEGRATION, ObjectType.ACCOUNT, [FIELD_A])
    assert len(recorder.requests) == 2


def test_connection_failures_exhaust_attempts_and_name_the_base_url():
    client, recorder, _fake, _ = make(httpx.ConnectError("[Errno 111] Connection refused"), rng=0.0)
    with pytest.raises(ProviderError) as caught:
        client.read_schema(INTEGRATION, ObjectType.CONTACT)
    assert len(recorder.requests) == 5
    assert caught.value.status is None
    assert str(caught.value) == (
        "Gong did not complete the schema read for CONTACT (integration 6286478263646): gave "
        "up after 5 attempts over 1.3s; last error: could not reach https://us-1.api.gong.io "
        "(ConnectError: [Errno 111] Connection refused); check GONG_BASE_URL (your tenant's "
        "Gong API host) and the network."
    )


def test_retries_stop_after_max_attempts_with_the_last_error():
    client, recorder, _fake, _ = make(gong_error(503, "Service unavailable"), max_attempts=3)
    with pytest.raises(ProviderError) as caught:
        client.write_schema(INTEGRATION, ObjectType.ACCOUNT, [FIELD_A])
    assert len(recorder.requests) == 3
    assert caught.value.status == 503
    assert caught.value.errors == ("Service unavailable",)
    assert str(caught.value) == (
        "Gong did not complete the schema upload for ACCOUNT (integration 6286478263646): gave "
        "up after 3 attempts over 0.8s; last error: POST /v2/crm/entity-schema answered HTTP "
        "503. The server said: Service unavailable (requestId 4al018gzaztcr8nbukw)"
    )


def test_retries_never_sleep_past_the_time_limit():
    limited = gong_error(429, "API request limit exceeded", **{"Retry-After": "50"})
    client, recorder, fake, _ = make(limited, max_retry_seconds=120.0)
    with pytest.raises(ProviderError) as caught:
        client.write_schema(INTEGRATION, ObjectType.ACCOUNT, [FIELD_A])
    assert len(recorder.requests) == 3
    assert sum(fake.sleeps) <= 120.0
    assert str(caught.value) == (
        "Gong did not complete the schema upload for ACCOUNT (integration 6286478263646): gave "
        "up after 3 attempts over 100.0s (Gong asked to wait 50.0s before trying again "
        "(Retry-After), more than the 20.0s left of the 120s retry time limit; to wait that "
        "long, raise --max-retry-seconds); last error: POST /v2/crm/entity-schema answered "
        "HTTP 429. The server said: API request limit exceeded (requestId 4al018gzaztcr8nbukw)"
    )


# -- errors that are not retried --------------------------------------------------------------


def test_400_is_not_retried_and_quotes_gong():
    client, recorder, fake, _ = make(
        gong_error(
            400, "You must include all fields in the schema", request_id="2qqmvq5x5nlz1mqpqz0"
        )
    )
    with pytest.raises(ProviderError) as caught:
        client.write_schema(INTEGRATION, ObjectType.ACCOUNT, [FIELD_A])
    assert len(recorder.requests) == 1
    assert fake.sleeps == []
    assert (caught.value.status, caught.value.request_id) == (400, "2qqmvq5x5nlz1mqpqz0")
    assert str(caught.value) == (
        "Gong rejected the schema upload for ACCOUNT (integration 6286478263646): POST "
        "/v2/crm/entity-schema answered HTTP 400. The server said: You must include all fields "
        "in the schema (requestId 2qqmvq5x5nlz1mqpqz0)"
    )


@pytest.mark.parametrize("status", [401, 403])
def test_auth_failures_name_the_credentials_used(status):
    client, recorder, *_ = make(gong_error(status, "Access denied"))
    with pytest.raises(ProviderError) as caught:
        client.read_schema(INTEGRATION, ObjectType.ACCOUNT)
    assert len(recorder.requests) == 1
    assert str(caught.value) == (
        "Gong rejected the schema read for ACCOUNT (integration 6286478263646): GET "
        f"/v2/crm/entity-schema answered HTTP {status}. Check "
        "GONG_ACCESS_KEY/GONG_ACCESS_KEY_SECRET: the access key and its secret must be valid "
        "for https://us-1.api.gong.io. The server said: Access denied "
        "(requestId 4al018gzaztcr8nbukw)"
    )


def test_missing_scope_names_the_token_variable_and_scope():
    scope = "You don't have permission to use 'api:crm:schema' in your app."
    client, *_ = make(gong_error(401, scope, request_id="2qqmvq5x5nlz1mqpqz0"), bearer=True)
    with pytest.raises(ProviderError) as caught:
        client.read_schema(INTEGRATION, ObjectType.ACCOUNT)
    assert str(caught.value) == (
        "Gong rejected the schema read for ACCOUNT (integration 6286478263646): GET "
        "/v2/crm/entity-schema answered HTTP 401. Check GONG_BEARER_TOKEN: the token needs "
        "scope api:crm:schema and your tenant's base URL (api_base_url_for_customer) in "
        f"GONG_BASE_URL. The server said: {scope} (requestId 2qqmvq5x5nlz1mqpqz0)"
    )


def test_404_points_at_the_base_url_and_plan_with_a_snippet_of_a_non_json_body():
    client, recorder, *_ = make(httpx.Response(404, text="<h1>Not Found</h1>\n" + "x" * 400))
    with pytest.raises(ProviderError) as caught:
        client.write_schema(INTEGRATION, ObjectType.LEAD, [FIELD_A])
    assert len(recorder.requests) == 1
    snippet = ("<h1>Not Found</h1> " + "x" * 400)[:197] + "..."
    assert str(caught.value) == (
        "Gong rejected the schema upload for LEAD (integration 6286478263646): POST "
        "/v2/crm/entity-schema answered HTTP 404. Check that https://us-1.api.gong.io is your "
        "tenant's Gong API host (GONG_BASE_URL), and that the CRM API is enabled for your Gong "
        f"plan. The response was not JSON: {snippet!r}."
    )


def test_a_redirect_says_where_to_point_the_base_url():
    moved = httpx.Response(301, headers={"Location": "https://us-9.api.gong.io/v2/crm/x"})
    client, recorder, *_ = make(moved)
    with pytest.raises(
        ProviderError,
        match=r"It redirects to https://us-9\.api\.gong\.io/v2/crm/x; "
        r"set GONG_BASE_URL to the address Gong expects\.",
    ):
        client.read_schema(INTEGRATION, ObjectType.ACCOUNT)
    assert len(recorder.requests) == 1


@pytest.mark.parametrize("bad", [0, -1, 2**63, True])
def test_integration_id_must_be_a_positive_int64(bad):
    client, recorder, *_ = make(ok())
    with pytest.raises(ProviderError, match="integrationId must be"):
        client.read_schema(bad, ObjectType.ACCOUNT)
    assert recorder.requests == []


# -- pacing -----------------------------------------------------------------------------------


def test_request_starts_are_spaced_by_the_rate_including_retries():
    client, recorder, _fake, _ = make(lambda r: listing(r.url.params["objectType"], []), rate=2.0)
    client.read_schema(INTEGRATION)
    recorder.replies = [httpx.Response(500), ok()]
    recorder.requests.clear()
    client.write_schema(INTEGRATION, ObjectType.ACCOUNT, [FIELD_A])
    gaps = [b - a for a, b in zip(recorder.starts, recorder.starts[1:], strict=False)]
    assert len(recorder.starts) == 6
    assert all(gap >= 0.5 - 1e-9 for gap in gaps)


def test_work_between_requests_is_hidden_by_pacing_not_added_to_it():
    # At Gong's 3 requests per second the client waits only what is left of the 1/3 s
    # since the previous request started: 0.2 s of work after it leaves a 0.1333 s wait.
    client, recorder, fake, _ = make(lambda r: listing(r.url.params["objectType"], []), rate=3.0)
    client.read_schema(INTEGRATION, ObjectType.ACCOUNT)
    fake.now += 0.2  # decoding, comparing, writing the state
    client.read_schema(INTEGRATION, ObjectType.CONTACT)
    fake.now += 0.5  # more work than one interval: no wait at all
    client.read_schema(INTEGRATION, ObjectType.DEAL)
    assert fake.sleeps == [pytest.approx(1 / 3 - 0.2)]
    assert [b - a for a, b in zip(recorder.starts, recorder.starts[1:], strict=False)] == [
        pytest.approx(1 / 3),
        pytest.approx(0.5),
    ]


def test_client_closes_its_http_connection_pool():
    with make(ok())[0] as client:
        client.write_schema(INTEGRATION, ObjectType.ACCOUNT, [FIELD_A])
        pool = client._http
        assert pool is not None
    assert pool.is_closed

"""What the client makes of answers that only look like success (issue 11 §2), of failures
after which Gong may have applied an upload (§1), of plain http (issue 10 §3); and that no
secret leaves through any of its outputs (issue 11 §5), DEBUG log lines included (issue 13)."""

from __future__ import annotations

import base64
import json
import logging
from typing import Any

import httpx
import pytest
from gong_mock import FIELD_A, INTEGRATION, gong_error, listing, make, ok

from crmform.engine.errors import ProviderError, UncertainOutcomeError
from crmform.engine.model import ObjectType
from crmform.providers.gong.settings import GongSettings

# -- a 2xx that is not Gong's answer ----------------------------------------------------------


@pytest.mark.parametrize(
    ("reply", "came_back"),
    [
        (
            httpx.Response(200, html="<html><body>Please log in</body></html>"),
            "HTTP 200 text/html: '<html><body>Please log in</body></html>'",
        ),
        (httpx.Response(200), "HTTP 200 with an empty body (no type)"),
        (
            httpx.Response(204, headers={"x-traceid": "trace0000000000000a"}),
            "HTTP 204 with an empty body (no type)",
        ),
        (httpx.Response(200, text="OK"), "HTTP 200 text/plain: 'OK'"),
        (ok({"status": "ok"}), 'HTTP 200 application/json: \'{"status":"ok"}\''),
        (ok({"requestId": ""}, status=201), 'HTTP 201 application/json: \'{"requestId":""}\''),
        (ok([1, 2]), "HTTP 200 application/json: '[1,2]'"),
    ],
    ids=["captive-portal", "empty", "204", "text", "no-request-id", "blank-id", "array"],
)
def test_a_2xx_without_gongs_json_is_an_uncertain_outcome_not_a_success(reply, came_back):
    client, recorder, *_ = make(reply)
    with pytest.raises(UncertainOutcomeError) as caught:
        client.write_schema(INTEGRATION, ObjectType.ACCOUNT, [FIELD_A])
    error = caught.value
    assert len(recorder.requests) == 1  # the same page would answer again
    assert error.what_came_back == came_back
    assert error.status == reply.status_code
    assert str(error).startswith(
        "The schema upload for ACCOUNT (integration 6286478263646) was answered, but not by "
        f"Gong: {came_back}; Gong answers an upload with JSON carrying a requestId. A proxy or "
        "a captive portal on the way to https://us-1.api.gong.io (GONG_BASE_URL) may have "
        "answered in Gong's place; check the network."
    )


def test_what_came_back_is_cut_short_and_escaped():
    page = "<h1>\x1b[31mWelcome</h1>" + "x" * 500
    client, *_ = make(httpx.Response(200, html=page))
    with pytest.raises(UncertainOutcomeError) as caught:
        client.write_schema(INTEGRATION, ObjectType.ACCOUNT, [FIELD_A])
    came_back = caught.value.what_came_back
    assert "\x1b" not in came_back
    assert "\\x1b[31mWelcome" in came_back
    assert came_back.endswith("...'")
    assert len(came_back) < 120


# -- failures after which Gong may have applied the upload -------------------------------------


@pytest.mark.parametrize(
    ("failure", "came_back"),
    [
        (httpx.Response(500, json={"requestId": "r500", "errors": ["boom"]}), "HTTP 500"),
        (httpx.Response(503, text="upstream trouble"), "HTTP 503"),
        (httpx.ReadTimeout("read timed out"), "no answer within 30s (ReadTimeout)"),
        (httpx.WriteTimeout("write timed out"), "no answer within 30s (WriteTimeout)"),
        (
            httpx.RemoteProtocolError("Server disconnected without sending a response."),
            "the connection failed (RemoteProtocolError: Server disconnected without sending "
            "a response.)",
        ),
        (httpx.ReadError("reset"), "the connection failed (ReadError: reset)"),
    ],
    ids=["500", "503", "read-timeout", "write-timeout", "dropped", "read-error"],
)
def test_a_post_that_may_have_reached_gong_ends_uncertain_after_identical_retries(
    failure, came_back
):
    client, recorder, *_ = make(failure, max_attempts=3)
    with pytest.raises(UncertainOutcomeError) as caught:
        client.write_schema(INTEGRATION, ObjectType.ACCOUNT, [FIELD_A])
    assert len(recorder.requests) == 3
    assert len({r.content for r in recorder.requests}) == 1  # the identical body each time
    assert caught.value.what_came_back == came_back
    assert str(caught.value).startswith(
        "Gong did not complete the schema upload for ACCOUNT (integration 6286478263646): "
        "gave up after 3 attempts"
    )
    if isinstance(failure, httpx.Response):
        assert caught.value.status == failure.status_code
    else:
        assert caught.value.status is None


def test_the_request_id_of_a_5xx_is_carried():
    client, *_ = make(gong_error(502, "Bad gateway", request_id="r502"), max_attempts=1)
    with pytest.raises(UncertainOutcomeError) as caught:
        client.write_schema(INTEGRATION, ObjectType.ACCOUNT, [FIELD_A])
    assert (caught.value.status, caught.value.request_id) == (502, "r502")
    assert caught.value.errors == ("Bad gateway",)


@pytest.mark.parametrize(
    "failure",
    [httpx.ConnectError("refused"), httpx.ConnectTimeout("connect"), gong_error(429, "slow")],
    ids=["connect-error", "connect-timeout", "429"],
)
def test_failures_gong_never_acted_on_stay_plain_provider_errors(failure):
    client, *_ = make(failure, max_attempts=2)
    with pytest.raises(ProviderError) as caught:
        client.write_schema(INTEGRATION, ObjectType.ACCOUNT, [FIELD_A])
    assert not isinstance(caught.value, UncertainOutcomeError)


def test_an_earlier_attempt_that_may_have_landed_keeps_the_outcome_uncertain():
    client, *_ = make(httpx.ReadTimeout("slow"), httpx.ConnectError("refused"), max_attempts=2)
    with pytest.raises(UncertainOutcomeError) as caught:
        client.write_schema(INTEGRATION, ObjectType.ACCOUNT, [FIELD_A])
    assert caught.value.what_came_back == "the connection failed (ConnectError: refused)"


def test_a_definite_rejection_of_the_identical_body_is_not_uncertain():
    rejected = gong_error(400, "You must include all fields in the schema")
    client, recorder, *_ = make(httpx.ReadTimeout("slow"), rejected)
    with pytest.raises(ProviderError) as caught:
        client.write_schema(INTEGRATION, ObjectType.ACCOUNT, [FIELD_A])
    assert len(recorder.requests) == 2
    assert not isinstance(caught.value, UncertainOutcomeError)
    assert caught.value.status == 400


def test_a_read_that_fails_is_never_uncertain():
    client, *_ = make(httpx.ReadTimeout("slow"), max_attempts=2)
    with pytest.raises(ProviderError) as caught:
        client.read_schema(INTEGRATION, ObjectType.ACCOUNT)
    assert not isinstance(caught.value, UncertainOutcomeError)


# -- plain http ---------------------------------------------------------------------------


CREDENTIALS: dict[str, Any] = {"access_key": "k", "access_key_secret": "secret-value-123"}


@pytest.mark.parametrize("url", ["http://api.gong.io", "http://10.0.0.5:8080", "http://[fe80::1]"])
def test_plain_http_to_another_machine_is_refused_saying_what_it_risks(url):
    with pytest.raises(ProviderError) as caught:
        GongSettings(base_url=url, **CREDENTIALS)
    message = str(caught.value)
    assert message.startswith("GONG_BASE_URL is a plain http:// URL to ")
    assert "would carry your Gong credentials unencrypted" in message
    assert message.endswith(
        "Use https://. To accept that risk (for example a proxy you trust on a private "
        "network), set GONG_ALLOW_INSECURE_HTTP=1 or pass --allow-insecure-http."
    )
    assert "secret-value-123" not in message


@pytest.mark.parametrize(
    "url",
    ["http://127.0.0.1:8765", "http://localhost", "http://LOCALHOST:1", "http://[::1]:8765"],
)
def test_plain_http_to_this_machine_is_fine(url):
    assert GongSettings(base_url=url, **CREDENTIALS).base_url == url


def test_plain_http_elsewhere_needs_the_explicit_opt_in():
    env = {"GONG_ACCESS_KEY": "k", "GONG_ACCESS_KEY_SECRET": "secret-value-123"}
    url = "http://gong-proxy.internal"
    with pytest.raises(ProviderError, match=r"^--base-url is a plain http:// URL"):
        GongSettings.from_env(env, base_url=url)
    assert GongSettings.from_env(env, base_url=url, allow_insecure_http=True).base_url == url
    for value in ("1", "true", "YES"):
        allowed = GongSettings.from_env({**env, "GONG_ALLOW_INSECURE_HTTP": value}, base_url=url)
        assert allowed.allow_insecure_http
    with pytest.raises(ProviderError, match=r"^GONG_BASE_URL is a plain"):
        GongSettings.from_env({**env, "GONG_ALLOW_INSECURE_HTTP": "0", "GONG_BASE_URL": url})
    with pytest.raises(ProviderError) as caught:
        GongSettings.from_env({**env, "GONG_ALLOW_INSECURE_HTTP": "maybe"}, base_url=url)
    assert str(caught.value) == (
        "GONG_ALLOW_INSECURE_HTTP must be 1 (or true, yes) or 0 (or false, no); got 'maybe'."
    )


# -- secrets, after decoding, through every output ---------------------------------------------

# Characters that JSON escapes (" and \), that ASCII-only JSON escapes (ä, ✓), and a space.
AWKWARD = 'p\\ä"ss wörd✓-0123456789'
KEY = "key-id-42"


def _b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


def _forms(secret: str) -> list[str]:
    """Every form of the credentials a server might echo, and that must never be shown."""
    pair = _b64(f"{KEY}:{secret}")
    return [secret, _b64(secret), pair, f"Basic {pair}"]


def _echo(secret: str) -> str:
    """A server message that quotes the credentials back, in each form."""
    pair = _b64(f"{KEY}:{secret}")
    return f"bad secret {secret}; b64 {_b64(secret)}; token {pair}; header Basic {pair}"


def _replies(secret: str) -> list[object]:
    echo = _echo(secret)
    return [
        httpx.Response(401, json={"requestId": "r1", "errors": [echo]}),  # escaped by JSON
        httpx.Response(401, content=json.dumps({"errors": [echo]}, ensure_ascii=False).encode()),
        httpx.Response(401, json={"requestId": "r1", "errors": [{"detail": echo}]}),
        httpx.Response(400, text=f"<html>{echo}</html>"),
        httpx.Response(503, json={"errors": [echo]}),
        httpx.Response(200, html=f"<p>{echo}</p>"),
        httpx.Response(200, text=json.dumps({"echo": echo})),
        httpx.ConnectError(f"proxy said {echo}"),
        httpx.ReadTimeout(echo),
        httpx.Response(301, headers={"Location": f"https://x/?{_b64(secret)}"}),
    ]


@pytest.mark.parametrize("index", range(10))
@pytest.mark.parametrize("method", ["read", "write"])
def test_no_form_of_a_secret_leaves_through_errors_notices_or_log_lines(index, method, caplog):
    reply = _replies(AWKWARD)[index]
    client, _recorder, _fake, notices = make(
        reply, ok(), credentials={"access_key": KEY, "access_key_secret": AWKWARD}, max_attempts=2
    )
    caplog.set_level(logging.DEBUG, logger="crmform.gong")
    shown: list[str] = []
    try:
        if method == "read":
            client.read_schema(INTEGRATION, ObjectType.ACCOUNT)
        else:
            client.write_schema(INTEGRATION, ObjectType.ACCOUNT, [FIELD_A])
    except ProviderError as error:
        shown += [str(error), repr(error), *error.errors, str(error.request_id)]
        shown.append(getattr(error, "what_came_back", ""))
    shown += [str(n) for n in notices] + [r.getMessage() for r in caplog.records]
    text = "\n".join(shown)
    for form in _forms(AWKWARD):
        assert form not in text
        assert json.dumps(form)[1:-1] not in text  # nor escaped by JSON or repr()
        assert repr(form)[1:-1] not in text
    assert "wörd" not in text


def test_a_bearer_token_is_masked_with_and_without_its_prefix():
    token = 'tok"en\\/+=-abcdefghijk'  # a header value is ASCII; JSON escapes " and \\
    echo = f"token {token} / Bearer {token} / {_b64(token)}"
    client, *_ = make(
        httpx.Response(401, json={"errors": [echo]}), credentials={"bearer_token": token}
    )
    with pytest.raises(ProviderError) as caught:
        client.read_schema(INTEGRATION, ObjectType.ACCOUNT)
    text = str(caught.value) + repr(caught.value.errors)
    assert token not in text
    assert _b64(token) not in text
    assert "en\\" not in text
    assert caught.value.errors == ("token *** / *** / ***",)


# -- logging --------------------------------------------------------------------------------


def test_each_http_request_is_one_debug_line_without_headers(caplog):
    caplog.set_level(logging.DEBUG, logger="crmform.gong")
    client, *_ = make(
        gong_error(503, "busy", request_id="rid503"),
        listing("ACCOUNT", []),
        httpx.ReadTimeout("slow"),
        ok({"requestId": "rid201"}, status=201),
    )
    client.read_schema(INTEGRATION, ObjectType.ACCOUNT)
    client.write_schema(INTEGRATION, ObjectType.ACCOUNT, [FIELD_A])
    lines = [r.getMessage() for r in caplog.records if r.levelno == logging.DEBUG]
    target = f"/v2/crm/entity-schema?integrationId={INTEGRATION}&objectType=ACCOUNT"
    assert lines == [
        f"GET {target} -> 503 in 0.000s (requestId rid503)",
        f"GET {target} -> 200 in 0.000s (requestId 4al018gzaztcr8nbukw)",
        f"POST {target} -> ReadTimeout in 0.000s (requestId none)",
        f"POST {target} -> 201 in 0.000s (requestId rid201)",
    ]
    assert {r.name for r in caplog.records} == {"crmform.gong"}
    every = "\n".join(r.getMessage() for r in caplog.records)
    assert "Basic" not in every
    assert "authorization" not in every.lower()


def test_the_cli_refuses_plain_http_elsewhere_and_its_flag_opts_in(cli, tmp_path):
    from crmform.runtime import ProviderOptions, _gong_provider

    schema = tmp_path / "schema"
    schema.mkdir()
    (schema / "account.json").write_text(
        '{"integrationId": 1, "objectType": "ACCOUNT", "fields": []}', encoding="utf-8"
    )
    cli.env = {
        "GONG_BASE_URL": "http://gong-proxy.internal",
        "GONG_ACCESS_KEY": "k",
        "GONG_ACCESS_KEY_SECRET": "secret-value-123",
    }
    refused = cli("refresh", schema)
    assert refused.code == 1
    assert refused.stderr.startswith(
        "Error: GONG_BASE_URL is a plain http:// URL to gong-proxy.internal, another machine"
    )
    assert "--allow-insecure-http" in refused.stderr
    client = _gong_provider(cli.env, ProviderOptions(allow_insecure_http=True))
    assert client.settings.allow_insecure_http  # type: ignore[attr-defined]
    assert not _gong_provider(
        {**cli.env, "GONG_BASE_URL": "https://x"}, ProviderOptions()
    ).settings.allow_insecure_http  # type: ignore[attr-defined]

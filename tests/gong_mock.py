"""GongClient over httpx.MockTransport: a scripted Gong that records every request."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import httpx
from factories import FakeTime

from crmform.engine.model import Field, FieldType
from crmform.engine.ports import FieldWrite
from crmform.providers.gong.client import GongClient, RetryNotice
from crmform.providers.gong.settings import GongSettings

SECRET = "s3cr3t-Value-0123456789"
TOKEN = "oauth-Token-abcdefghijk"
BIG_ID = 2271307570613351879  # a real integrationId, > 2**53: a float would corrupt it
INTEGRATION = 6286478263646

Reply = httpx.Response | Exception | Callable[[httpx.Request], httpx.Response]


@dataclass
class Recorder:
    """A MockTransport handler that records each request (and when it started) and answers
    from a script; the last reply repeats."""

    replies: list[Reply]
    time: FakeTime
    requests: list[httpx.Request] = field(default_factory=list)
    starts: list[float] = field(default_factory=list)

    def __call__(self, request: httpx.Request) -> httpx.Response:
        request.read()
        self.requests.append(request)
        self.starts.append(self.time.now)
        reply = self.replies[min(len(self.requests), len(self.replies)) - 1]
        if isinstance(reply, Exception):
            raise reply
        return reply(request) if callable(reply) else reply


def ok(body: object = None, status: int = 200, **headers: str) -> httpx.Response:
    return httpx.Response(
        status, json=body if body is not None else {"requestId": "r" * 19}, headers=headers
    )


def gong_error(
    status: int, *errors: str, request_id: str = "4al018gzaztcr8nbukw", **headers: str
) -> httpx.Response:
    return httpx.Response(
        status, json={"requestId": request_id, "errors": list(errors)}, headers=headers
    )


def listing(object_type: str, items: object) -> httpx.Response:
    return ok(
        {"requestId": "4al018gzaztcr8nbukw", "objectTypeToSelectedFields": {object_type: items}}
    )


def make(
    *replies: Reply,
    bearer: bool = False,
    rng: float = 0.5,
    credentials: dict[str, Any] | None = None,
    **overrides: Any,
) -> tuple[GongClient, Recorder, FakeTime, list[RetryNotice]]:
    fake = FakeTime()
    recorder = Recorder(list(replies), fake)
    if credentials is None:
        credentials = (
            {"bearer_token": TOKEN, "credential_source": "GONG_BEARER_TOKEN"}
            if bearer
            else {"access_key": "key-id", "access_key_secret": SECRET}
        )
    settings = GongSettings(base_url="https://us-1.api.gong.io", **credentials, **overrides)
    notices: list[RetryNotice] = []
    client = GongClient(
        settings,
        transport=httpx.MockTransport(recorder),
        sleep=fake.sleep,
        clock=fake.clock,
        random=lambda: rng,
        on_retry=notices.append,
    )
    return client, recorder, fake, notices


FIELD_A = FieldWrite(Field("fieldA", "Field A", FieldType.STRING))
STAGE = FieldWrite(Field("stage", "Stage", FieldType.PICKLIST, ordered_value_list=("new", "won")))
FIELD_A_JSON = {"uniqueName": "fieldA", "label": "Field A", "type": "STRING"}
STAGE_JSON = {
    "uniqueName": "stage",
    "label": "Stage",
    "type": "PICKLIST",
    "orderedValueList": ["new", "won"],
}

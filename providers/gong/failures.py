"""What the Gong client says when a request fails, is refused, or is answered by something
other than Gong: whole sentences naming what to check, with anything that came from outside
(server messages, pages, network errors) scrubbed of secrets first, then cut short.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass

import httpx

from crmform.engine.errors import ProviderError, UncertainOutcomeError
from crmform.engine.model import ObjectType
from crmform.providers.gong.parse import error_details, request_id_of
from crmform.providers.gong.settings import SCHEMA_PATH, SCHEMA_SCOPE, GongSettings

__all__ = ["CAME_BACK_MAX", "SNIPPET_MAX", "Call", "Explainer", "Failure", "json_or_none"]

SNIPPET_MAX = 200  # characters of a body that is not Gong's JSON, in an error message
CAME_BACK_MAX = 80  # characters of it in `what_came_back`


@dataclass(frozen=True, slots=True)
class Call:
    """One logical request: what it is for, so every message can say so."""

    method: str
    integration_id: int
    object_type: ObjectType
    verb: str

    @property
    def params(self) -> dict[str, str]:
        # int64 ids exceed 2**53: always formatted from the int, never through a float.
        return {"integrationId": str(self.integration_id), "objectType": self.object_type.value}

    @property
    def target(self) -> str:
        """Path and query, for log lines (they carry no secret)."""
        return f"{SCHEMA_PATH}?integrationId={self.integration_id}&objectType={self.object_type}"

    def describe(self) -> str:
        return f"the schema {self.verb} for {self.object_type} (integration {self.integration_id})"


@dataclass(frozen=True, slots=True)
class Failure:
    """Why an attempt failed in a way worth retrying; `reached` when Gong may have got it."""

    reason: str
    detail: str
    came_back: str
    reached: bool
    response: httpx.Response | None = None


class Explainer:
    """The client's messages for one set of settings (which name what to check)."""

    def __init__(self, settings: GongSettings) -> None:
        self._settings = settings

    def scrub_short(self, text: str, limit: int) -> str:
        """Text from outside (a server, a network error) as a message may quote it: secrets
        masked first, then whitespace collapsed and cut to `limit` characters."""
        flat = " ".join(self._settings.scrub(text).split())
        return flat if len(flat) <= limit else flat[: limit - 3] + "..."

    def scrub_id(self, request_id: str | None) -> str | None:
        return self.scrub_short(request_id, CAME_BACK_MAX) if request_id else None

    def _scrubbed(self, value: object) -> str:
        """One entry of Gong's `errors`, secrets masked in every string inside it before it
        is encoded (encoding first would escape a secret's quotes and backslashes)."""
        if isinstance(value, str):
            return self._settings.scrub(value)
        return json.dumps(_scrub_tree(value, self._settings.scrub), ensure_ascii=False)

    def _error(
        self,
        message: str,
        response: httpx.Response | None,
        *,
        uncertain: bool = False,
        came_back: str = "",
    ) -> ProviderError:
        errors: tuple[str, ...] = ()
        status = request_id = None
        if response is not None:
            raw_errors, raw_id, text = error_details(response.text)
            errors = tuple(self._scrubbed(e) for e in raw_errors)
            if text.strip():
                message += f" The response was not JSON: {self.scrub_short(text, SNIPPET_MAX)!r}."
            status = response.status_code
            request_id = self.scrub_id(raw_id or request_id_of(response, None))
        if uncertain:
            return UncertainOutcomeError(
                message,
                status=status,
                errors=errors,
                request_id=request_id,
                what_came_back=came_back,
            )
        return ProviderError(message, status=status, errors=errors, request_id=request_id)

    def rejected(self, call: Call, response: httpx.Response) -> ProviderError:
        settings = self._settings
        status = response.status_code
        message = (
            f"Gong rejected {call.describe()}: {call.method} {SCHEMA_PATH} answered HTTP {status}."
        )
        if status in (401, 403):
            if settings.auth_kind == "bearer":
                message += (
                    f" Check {settings.credential_source}: the token needs scope {SCHEMA_SCOPE} "
                    f"and your tenant's base URL (api_base_url_for_customer) in "
                    f"{settings.base_url_source}."
                )
            else:
                message += (
                    f" Check {settings.credential_source}: the access key and its secret must "
                    f"be valid for {settings.base_url}."
                )
        elif status == 404:
            message += (
                f" Check that {settings.base_url} is your tenant's Gong API host "
                f"({settings.base_url_source}), and that the CRM API is enabled for your Gong plan."
            )
        elif 300 <= status < 400 and response.headers.get("location"):
            location = self.scrub_short(response.headers["location"], SNIPPET_MAX)
            message += (
                f" It redirects to {location}; set {settings.base_url_source} to the address "
                "Gong expects."
            )
        return self._error(message, response)

    def exhausted(
        self,
        call: Call,
        attempts: int,
        elapsed: float,
        failure: Failure,
        limit: str,
        may_have_landed: bool,
    ) -> ProviderError:
        tries = f"{attempts} attempt{'s' if attempts != 1 else ''}"
        message = (
            f"Gong did not complete {call.describe()}: gave up after {tries} over "
            f"{elapsed:.1f}s{limit}; last error: {failure.detail}."
        )
        return self._error(
            message, failure.response, uncertain=may_have_landed, came_back=failure.came_back
        )

    def not_gongs_answer(self, call: Call, response: httpx.Response) -> UncertainOutcomeError:
        """A 2xx without Gong's JSON: something else answered (a proxy, a captive portal),
        and whether Gong got the upload is unknown."""
        settings = self._settings
        kind = response.headers.get("content-type", "").split(";")[0].strip() or "no type"
        text = response.text
        if not text.strip():
            came_back = f"HTTP {response.status_code} with an empty body ({kind})"
        else:
            came_back = (
                f"HTTP {response.status_code} {self.scrub_short(kind, 40)}: "
                f"{self.scrub_short(text, CAME_BACK_MAX)!r}"
            )
        what = call.describe()
        return UncertainOutcomeError(
            f"{what[0].upper()}{what[1:]} was answered, but not by Gong: {came_back}; Gong "
            "answers an upload with JSON carrying a requestId. A proxy or a captive portal on "
            f"the way to {settings.base_url} ({settings.base_url_source}) may have answered "
            "in Gong's place; check the network.",
            status=response.status_code,
            request_id=self.scrub_id(request_id_of(response, None)),
            what_came_back=came_back,
        )

    def json_body(self, call: Call, response: httpx.Response) -> object:
        try:
            return json.loads(response.content)
        except ValueError:
            snippet = self.scrub_short(response.text, SNIPPET_MAX)
            raise ProviderError(
                f"Gong answered {call.describe()} with HTTP {response.status_code} but not "
                f"with JSON: {snippet!r}. Check that {self._settings.base_url} "
                f"({self._settings.base_url_source}) is your tenant's Gong API host.",
                status=response.status_code,
            ) from None


def json_or_none(response: httpx.Response) -> object:
    if not response.content:
        return None
    try:
        return json.loads(response.content)
    except ValueError:
        return None


def _scrub_tree(value: object, scrub: Callable[[str], str]) -> object:
    if isinstance(value, str):
        return scrub(value)
    if isinstance(value, list):
        return [_scrub_tree(v, scrub) for v in value]
    if isinstance(value, dict):
        return {scrub(str(k)): _scrub_tree(v, scrub) for k, v in value.items()}
    return value

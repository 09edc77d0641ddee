"""How crmform reaches Gong: base URL, credentials (never shown) and request pacing.

Settings come from the environment, overridden by CLI flags. Each credential remembers where
it came from by *name* (an environment variable or a flag), so messages can say what to check
without ever printing a secret.
"""

from __future__ import annotations

import base64
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TypeVar
from urllib.parse import urlencode, urlsplit

from crmform.engine.errors import ProviderError
from crmform.engine.model import ObjectType

_T = TypeVar("_T")

DEFAULT_BASE_URL = "https://api.gong.io"
SCHEMA_PATH = "/v2/crm/entity-schema"
SCHEMA_SCOPE = "api:crm:schema"

ENV_BASE_URL = "GONG_BASE_URL"
ENV_ACCESS_KEY = "GONG_ACCESS_KEY"
ENV_ACCESS_KEY_SECRET = "GONG_ACCESS_KEY_SECRET"
ENV_BEARER_TOKEN = "GONG_BEARER_TOKEN"
ENV_RATE_LIMIT = "GONG_RATE_LIMIT"

DEFAULT_RATE = 3.0
DEFAULT_MAX_ATTEMPTS = 5
DEFAULT_MAX_RETRY_SECONDS = 120.0
DEFAULT_TIMEOUT = 30.0
DEFAULT_RETRY_AFTER_CAP = 60.0

BASIC_SOURCE = f"{ENV_ACCESS_KEY}/{ENV_ACCESS_KEY_SECRET}"

# The CLI flags that override the variables above; the CLI must spell them this way so that
# messages point at what the user actually typed.
FLAG_BASE_URL = "--base-url"
FLAG_ACCESS_KEY = "--access-key"
FLAG_ACCESS_KEY_SECRET = "--access-key-secret"
FLAG_BEARER_TOKEN = "--bearer-token"
FLAG_RATE_LIMIT = "--rate-limit"

NO_CREDENTIALS = (
    f"No Gong credentials: set {ENV_ACCESS_KEY} and {ENV_ACCESS_KEY_SECRET} (Basic auth), "
    f"or {ENV_BEARER_TOKEN} (OAuth, scope {SCHEMA_SCOPE}); or pass "
    f"{FLAG_ACCESS_KEY} and {FLAG_ACCESS_KEY_SECRET}, or {FLAG_BEARER_TOKEN}."
)


@dataclass(frozen=True, slots=True)
class GongSettings:
    """Everything the client needs. Exactly one kind of credential is set.

    `credential_source` and `base_url_source` name where values came from, for messages
    (by default the environment variables of the credential kind given).
    Pacing: at most `rate` request starts per second; a failing request is tried at most
    `max_attempts` times within `max_retry_seconds`; a Retry-After is honoured up to
    `retry_after_cap` seconds.
    """

    base_url: str = DEFAULT_BASE_URL
    access_key: str | None = field(default=None, repr=False)
    access_key_secret: str | None = field(default=None, repr=False)
    bearer_token: str | None = field(default=None, repr=False)
    credential_source: str = ""
    base_url_source: str = ENV_BASE_URL
    rate: float = DEFAULT_RATE
    max_attempts: int = DEFAULT_MAX_ATTEMPTS
    max_retry_seconds: float = DEFAULT_MAX_RETRY_SECONDS
    timeout: float = DEFAULT_TIMEOUT
    retry_after_cap: float = DEFAULT_RETRY_AFTER_CAP

    def __post_init__(self) -> None:
        object.__setattr__(self, "base_url", _checked_base_url(self.base_url, self.base_url_source))
        basic = bool(self.access_key) and bool(self.access_key_secret)
        if bool(self.access_key) != bool(self.access_key_secret) or not (
            basic or self.bearer_token
        ):
            raise ProviderError(NO_CREDENTIALS)
        if basic and self.bearer_token:
            raise ProviderError(
                "Conflicting Gong credentials: both an access key pair (Basic auth) and a "
                "bearer token (OAuth) are given. Keep only one kind."
            )
        if not self.credential_source:
            default = ENV_BEARER_TOKEN if self.bearer_token else BASIC_SOURCE
            object.__setattr__(self, "credential_source", default)
        _require_positive("The Gong request rate (requests per second)", self.rate)
        _require_positive("The Gong request timeout (seconds)", self.timeout)
        _require_positive("The Gong retry time limit (seconds)", self.max_retry_seconds)
        _require_positive("The Gong Retry-After cap (seconds)", self.retry_after_cap)
        if isinstance(self.max_attempts, bool) or self.max_attempts < 1:
            raise ProviderError(
                f"The number of Gong request attempts must be at least 1; got {self.max_attempts}."
            )

    def __repr__(self) -> str:
        return (
            f"GongSettings(base_url={self.base_url!r}, auth={self.auth_kind!r}, "
            f"credentials from {self.credential_source}, rate={self.rate:g}/s, "
            f"max_attempts={self.max_attempts}, max_retry_seconds={self.max_retry_seconds:g}, "
            f"timeout={self.timeout:g}, retry_after_cap={self.retry_after_cap:g})"
        )

    __str__ = __repr__

    @property
    def auth_kind(self) -> str:
        """ "basic" (access key and secret) or "bearer" (OAuth token)."""
        return "bearer" if self.bearer_token else "basic"

    def authorization(self) -> str:
        """The Authorization header value. Never log or show it."""
        if self.bearer_token:
            return f"Bearer {self.bearer_token}"
        pair = f"{self.access_key}:{self.access_key_secret}".encode()
        return "Basic " + base64.b64encode(pair).decode("ascii")

    def secrets(self) -> tuple[str, ...]:
        """The values to scrub from any text shown to a user (e.g. an echoed server message)."""
        values = (self.access_key_secret, self.bearer_token, self.authorization())
        return tuple(v for v in values if v)

    @classmethod
    def from_env(
        cls,
        env: Mapping[str, str],
        *,
        base_url: str | None = None,
        access_key: str | None = None,
        access_key_secret: str | None = None,
        bearer_token: str | None = None,
        rate_limit: float | None = None,
        max_attempts: int | None = None,
        max_retry_seconds: float | None = None,
        timeout: float | None = None,
        retry_after_cap: float | None = None,
    ) -> GongSettings:
        """Settings from `env` (usually os.environ); each non-None override (a CLI flag) wins.

        Raises ProviderError, naming variables and flags but never values, when credentials
        are missing, half a key pair, or of both kinds; or when a value is malformed.
        """
        url, url_source = _pick(env, ENV_BASE_URL, base_url, FLAG_BASE_URL)
        key, key_source = _pick(env, ENV_ACCESS_KEY, access_key, FLAG_ACCESS_KEY)
        secret, secret_source = _pick(
            env, ENV_ACCESS_KEY_SECRET, access_key_secret, FLAG_ACCESS_KEY_SECRET
        )
        token, token_source = _pick(env, ENV_BEARER_TOKEN, bearer_token, FLAG_BEARER_TOKEN)
        if bool(key) != bool(secret):
            given, absent = (key_source, secret_source) if key else (secret_source, key_source)
            raise ProviderError(
                f"Incomplete Gong credentials: {given} is set but {absent} is not. Set both "
                f"(Basic auth), or use {ENV_BEARER_TOKEN} (OAuth) instead."
            )
        if key and token:
            raise ProviderError(
                f"Conflicting Gong credentials: both {key_source}/{secret_source} (Basic auth) "
                f"and {token_source} (OAuth) are set. Keep only one kind."
            )
        if not key and not token:
            raise ProviderError(NO_CREDENTIALS)
        source = token_source if token else f"{key_source}/{secret_source}"
        return cls(
            base_url=url or DEFAULT_BASE_URL,
            access_key=key,
            access_key_secret=secret,
            bearer_token=token,
            credential_source=source,
            base_url_source=url_source,
            rate=rate_limit if rate_limit is not None else _env_rate(env),
            max_attempts=_or(max_attempts, DEFAULT_MAX_ATTEMPTS),
            max_retry_seconds=_or(max_retry_seconds, DEFAULT_MAX_RETRY_SECONDS),
            timeout=_or(timeout, DEFAULT_TIMEOUT),
            retry_after_cap=_or(retry_after_cap, DEFAULT_RETRY_AFTER_CAP),
        )


def _pick(
    env: Mapping[str, str], var: str, override: str | None, flag: str
) -> tuple[str | None, str]:
    """The value (blank counts as unset) and the name of where it came from."""
    if override is not None:
        return (override.strip() or None), flag
    return (env.get(var, "").strip() or None), var


def _or(value: _T | None, default: _T) -> _T:
    return default if value is None else value


def _env_rate(env: Mapping[str, str]) -> float:
    raw = env.get(ENV_RATE_LIMIT, "").strip()
    if not raw:
        return DEFAULT_RATE
    try:
        value = float(raw)
    except ValueError:
        value = math.nan
    if not math.isfinite(value) or value <= 0:
        raise ProviderError(
            f"{ENV_RATE_LIMIT} must be a number of requests per second greater than 0, "
            f"such as 3; got {raw!r}."
        )
    return value


def _require_positive(what: str, value: float) -> None:
    if isinstance(value, bool) or not value > 0 or math.isnan(value):
        raise ProviderError(f"{what} must be greater than 0; got {value!r}.")


def _checked_base_url(url: str, source: str) -> str:
    example = "https://us-12345.api.gong.io"
    parts = urlsplit(url.strip())
    if "@" in url or parts.username is not None or parts.password is not None:
        # Credentials in the URL would end up in messages; they belong in the variables.
        raise ProviderError(
            f"{source} must not contain credentials; set {ENV_ACCESS_KEY} and "
            f"{ENV_ACCESS_KEY_SECRET}, or {ENV_BEARER_TOKEN}, instead."
        )
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ProviderError(f"{source} must be an http(s) URL such as {example}; got {url!r}.")
    if parts.query or parts.fragment:
        raise ProviderError(
            f"{source} must be a plain base URL without query or fragment, such as {example}."
        )
    return url.strip().rstrip("/")


def schema_url(base_url: str | None, integration_id: int, object_type: ObjectType) -> str:
    """The full URL of one object type's schema (what `apply --dry-run` shows)."""
    query = urlencode({"integrationId": str(integration_id), "objectType": object_type.value})
    return f"{(base_url or DEFAULT_BASE_URL).rstrip('/')}{SCHEMA_PATH}?{query}"

"""How crmform reaches Gong: base URL, credentials (never shown) and request pacing.

Settings come from the environment, overridden by CLI flags. Each credential remembers where
it came from by *name* (an environment variable or a flag), so messages can say what to check
without ever printing a secret.
"""

from __future__ import annotations

import base64
import html
import ipaddress
import json
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TypeVar
from urllib.parse import quote, urlencode, urlsplit

from crmform.engine.errors import ProviderError
from crmform.engine.model import INTEGRATION_ID_MAX, ObjectType

_T = TypeVar("_T")

DEFAULT_BASE_URL = "https://api.gong.io"
SCHEMA_PATH = "/v2/crm/entity-schema"
SCHEMA_SCOPE = "api:crm:schema"

ENV_BASE_URL = "GONG_BASE_URL"
ENV_ACCESS_KEY = "GONG_ACCESS_KEY"
ENV_ACCESS_KEY_SECRET = "GONG_ACCESS_KEY_SECRET"
ENV_BEARER_TOKEN = "GONG_BEARER_TOKEN"
ENV_RATE_LIMIT = "GONG_RATE_LIMIT"
ENV_ALLOW_INSECURE_HTTP = "GONG_ALLOW_INSECURE_HTTP"

DEFAULT_RATE = 3.0
DEFAULT_MAX_ATTEMPTS = 5
DEFAULT_MAX_RETRY_SECONDS = 120.0
DEFAULT_TIMEOUT = 30.0

BASIC_SOURCE = f"{ENV_ACCESS_KEY}/{ENV_ACCESS_KEY_SECRET}"

# The CLI flags that override the variables above; the CLI must spell them this way so that
# messages point at what the user actually typed.
FLAG_BASE_URL = "--base-url"
FLAG_ACCESS_KEY = "--access-key"
FLAG_ACCESS_KEY_SECRET = "--access-key-secret"
FLAG_BEARER_TOKEN = "--bearer-token"
FLAG_RATE_LIMIT = "--rate-limit"
FLAG_MAX_RETRY_SECONDS = "--max-retry-seconds"
FLAG_ALLOW_INSECURE_HTTP = "--allow-insecure-http"

# Short secrets are not masked in echoed text: masking "abc" would garble any message.
_MIN_SCRUBBED = 8

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
    `max_attempts` times within `max_retry_seconds`, and a Retry-After is always waited out
    in full (when it asks for longer than that limit leaves, the client stops instead).
    `allow_insecure_http` lets a plain http:// base URL name a host other than this machine,
    which sends the credentials unencrypted.
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
    allow_insecure_http: bool = False

    def __post_init__(self) -> None:
        url = check_base_url(self.base_url, self.base_url_source)
        if not self.allow_insecure_http:
            _refuse_insecure_http(url, self.base_url_source)
        object.__setattr__(self, "base_url", url)
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
        if isinstance(self.max_attempts, bool) or self.max_attempts < 1:
            raise ProviderError(
                f"The number of Gong request attempts must be at least 1; got {self.max_attempts}."
            )

    def __repr__(self) -> str:
        return (
            f"GongSettings(base_url={self.base_url!r}, auth={self.auth_kind!r}, "
            f"credentials from {self.credential_source}, rate={self.rate:g}/s, "
            f"max_attempts={self.max_attempts}, max_retry_seconds={self.max_retry_seconds:g}, "
            f"timeout={self.timeout:g}, allow_insecure_http={self.allow_insecure_http})"
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
        """The values to scrub from any text shown to a user (e.g. an echoed server message),
        longest first so that no longer secret is left half-masked by a shorter one inside it:
        the secret and the token, their base64 and percent-encoded forms, and the Basic token
        (base64 of key:secret) with and without its `Basic ` prefix."""
        values: set[str] = set()
        for raw in (self.access_key_secret, self.bearer_token):
            if raw:
                values |= {raw, _b64(raw), quote(raw, safe="")}
                # As it reads in a body that could not be decoded (JSON or HTML escaped).
                values |= {json.dumps(raw)[1:-1], json.dumps(raw, ensure_ascii=False)[1:-1]}
                values.add(html.escape(raw))
        if self.access_key and self.access_key_secret:
            pair = _b64(f"{self.access_key}:{self.access_key_secret}")
            values |= {pair, f"Basic {pair}"}
        if self.bearer_token:
            values.add(f"Bearer {self.bearer_token}")
        kept = (v for v in values if len(v) >= _MIN_SCRUBBED)
        return tuple(sorted(kept, key=lambda v: (-len(v), v)))

    def scrub(self, text: str) -> str:
        """`text` with every credential (see `secrets`) masked as ***. Run it on decoded text
        (after JSON decoding, before any repr or cut), where a secret appears as itself."""
        for secret in self.secrets():
            if secret in text:
                text = text.replace(secret, "***")
        return text

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
        allow_insecure_http: bool | None = None,
    ) -> GongSettings:
        """Settings from `env` (usually os.environ); each non-None override (a CLI flag) wins.

        Raises ProviderError, naming variables and flags but never values, when credentials
        are missing, half a key pair, or of both kinds; or when a value is malformed.
        `allow_insecure_http` (the --allow-insecure-http flag) is on when True or when
        GONG_ALLOW_INSECURE_HTTP is 1 (or true, yes).
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
            allow_insecure_http=bool(allow_insecure_http)
            or _env_flag(env, ENV_ALLOW_INSECURE_HTTP),
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


def _env_flag(env: Mapping[str, str], var: str) -> bool:
    raw = env.get(var, "").strip()
    if raw.lower() in ("", "0", "false", "no"):
        return False
    if raw.lower() in ("1", "true", "yes"):
        return True
    raise ProviderError(f"{var} must be 1 (or true, yes) or 0 (or false, no); got {raw!r}.")


def _b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode("ascii")


def _require_positive(what: str, value: float) -> None:
    if isinstance(value, bool) or not value > 0 or math.isnan(value):
        raise ProviderError(f"{what} must be greater than 0; got {value!r}.")


def check_base_url(url: str, source: str) -> str:
    """The base URL without trailing slash; ProviderError when it is not a plain http(s) URL."""
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


def is_loopback(host: str) -> bool:
    """True for this machine's own addresses: localhost, 127.0.0.0/8 and ::1."""
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def _refuse_insecure_http(url: str, source: str) -> None:
    parts = urlsplit(url)
    if parts.scheme != "http" or is_loopback(parts.hostname or ""):
        return
    raise ProviderError(
        f"{source} is a plain http:// URL to {parts.hostname}, another machine: every request "
        "would carry your Gong credentials unencrypted (a Basic token is only base64 of the "
        "access key and its secret), readable and reusable by anyone on the network path, "
        "and the schema could be altered on the way. Use https://. To accept that risk (for "
        f"example a proxy you trust on a private network), set {ENV_ALLOW_INSECURE_HTTP}=1 or "
        f"pass {FLAG_ALLOW_INSECURE_HTTP}."
    )


def schema_url(base_url: str | None, integration_id: int, object_type: ObjectType) -> str:
    """The full URL of one object type's schema (what `apply --dry-run` shows)."""
    query = urlencode({"integrationId": str(integration_id), "objectType": object_type.value})
    return f"{(base_url or DEFAULT_BASE_URL).rstrip('/')}{SCHEMA_PATH}?{query}"


def checked_id(integration_id: int) -> int:
    """The id itself; ProviderError unless it is a positive int64 (never a float or bool)."""
    if isinstance(integration_id, bool) or not isinstance(integration_id, int):
        raise ProviderError(f"A Gong integrationId must be an integer; got {integration_id!r}.")
    if not 0 < integration_id <= INTEGRATION_ID_MAX:
        raise ProviderError(
            f"A Gong integrationId must be a positive 64-bit integer; got {integration_id}."
        )
    return integration_id

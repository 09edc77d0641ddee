"""What a response of Gong's says about itself: its requestId, the errors of a failure, how
long Retry-After asks to wait. (The fields of a GET answer are wire.py's.)

No requests and no retries here (client.py does those); what cannot be read is None.
"""

from __future__ import annotations

import contextlib
import email.utils
import json
import time

import httpx


def error_details(text: str) -> tuple[tuple[object, ...], str | None, str]:
    """Gong's `errors` entries and `requestId` from a decoded error body; for a body that is
    not a JSON object, its whole text (the caller scrubs secrets, then cuts it short)."""
    try:
        payload = json.loads(text)
    except ValueError:
        return (), None, text
    if not isinstance(payload, dict):
        return (), None, text
    raw = payload.get("errors")
    errors = tuple(raw) if isinstance(raw, list) else ()
    request_id = payload.get("requestId")
    return errors, request_id if isinstance(request_id, str) else None, ""


def request_id_of(response: httpx.Response, payload: object) -> str | None:
    if isinstance(payload, dict):
        value = payload.get("requestId")
        if isinstance(value, str):
            return value
    trace: str | None = response.headers.get("x-traceid")
    return trace or None


def retry_after_seconds(response: httpx.Response) -> float | None:
    """Seconds from a Retry-After header: integer seconds or an HTTP date; None if unusable."""
    raw = response.headers.get("retry-after", "").strip()
    if not raw:
        return None
    if raw.isdigit():
        return float(raw)
    try:
        when = email.utils.parsedate_to_datetime(raw)
    except (TypeError, ValueError):
        return None
    # Measure against the server's own Date header when it sends one: no clock skew.
    now = time.time()
    date = response.headers.get("date")
    if date:
        with contextlib.suppress(TypeError, ValueError):
            now = email.utils.parsedate_to_datetime(date).timestamp()
    return max(0.0, when.timestamp() - now)

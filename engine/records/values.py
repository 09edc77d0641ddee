"""Value checks, one small function per type, built once per schema and called per value.

A check takes a decoded JSON value and returns None when it is fine, else the Code of what
is wrong. It allocates nothing on the way: the common valid case is a `type(v) is str` (or
int, or a set lookup) and a return; everything else goes to a slower function that works out
which code applies. Messages are not built here (see words.py): only the problems that are
shown ever get one.

The formats are Gong's, from its "Upload Object Schema" page (the "Supported field types"
table) and "Upload CRM objects" page: BOOLEAN true/false; DATE "2020-05-31"; DATETIME
ISO-8601 without milliseconds, e.g. "2020-12-17T07:37:21+02:00" or "...Z"; NUMBER,
CURRENCY numbers; PERCENT 0 to 100; PICKLIST one of its values; the others strings. What
the docs do not settle is a warning: STRINGARRAY's value format (only the standard key
`domains`, "string array", shows one: a JSON array of strings) and what a null does.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Collection
from datetime import date, datetime

from crmform.engine.model import FieldType
from crmform.engine.records.problems import Code
from crmform.engine.records.standard import DEAL_STATUSES, OBJECT_ID_MAX, Kind

__all__ = [
    "DATETIME_RE",
    "DATE_RE",
    "EMAIL_RE",
    "OBJECT_ID_RE",
    "URL_RE",
    "Check",
    "field_check",
    "is_email",
    "standard_check",
]

Check = Callable[[object], "Code | None"]

# [0-9], never \d: \d matches any Unicode digit, which no ISO-8601 reader accepts.
DATE_RE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}\Z")
DATETIME_RE = re.compile(
    r"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(?:Z|[+-][0-9]{2}:[0-9]{2})\Z"
)
# Only to tell fractional seconds (a common mistake, named in the message) from the rest.
FRACTION_RE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\.[0-9]+")
# Shapes only, never a full RFC check: a mismatch is a warning.
# A URL's shape is its start: a scheme of http or https and a host (scanning the whole value
# for whitespace would cost more than the rest of its check).
URL_RE = re.compile(r"https?://[^\s/?#]", re.IGNORECASE)
EMAIL_RE = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s.]+\Z")
# Gong: "alpha numeric characters and a '-'", or "a valid email address"; at most 64.
OBJECT_ID_RE = re.compile(rf"[A-Za-z0-9-]{{1,{OBJECT_ID_MAX}}}\Z")
_ID_WITH_UNDERSCORE_RE = re.compile(r"[A-Za-z0-9_-]+\Z")
_parse_date = date.fromisoformat
_parse_datetime = datetime.fromisoformat


def is_email(text: str) -> bool:
    return EMAIL_RE.match(text) is not None


def _other(value: object) -> Code:
    return Code.NULL_VALUE if value is None else Code.WRONG_TYPE


def _string(v: object) -> Code | None:
    return None if type(v) is str else _other(v)


def _boolean(v: object) -> Code | None:
    return None if v is True or v is False else _other(v)


def _number(v: object) -> Code | None:
    kind = type(v)
    if kind is int or (kind is float and math.isfinite(v)):  # type: ignore[arg-type]
        return None
    return _other(v)


def _percent(v: object) -> Code | None:
    kind = type(v)
    if kind is int or (kind is float and math.isfinite(v)):  # type: ignore[arg-type]
        return None if 0 <= v <= 100 else Code.OUT_OF_RANGE  # type: ignore[operator]
    return _other(v)


def _date(v: object) -> Code | None:
    # Fast path: the shape by position, then the C parser for digits and the calendar.
    # Anything else takes the spec (DATE_RE and the parser); tests check that the fast path
    # never accepts what the spec rejects.
    if type(v) is str and len(v) == 10 and v[4] == "-" and v[7] == "-":
        try:
            _parse_date(v)
        except ValueError:
            return Code.INVALID_DATE
        return None
    return _date_spec(v)


def _date_spec(v: object) -> Code | None:
    if type(v) is not str:
        return _other(v)
    if DATE_RE.match(v):
        try:
            _parse_date(v)
        except ValueError:
            return Code.INVALID_DATE
        return None
    return Code.INVALID_DATE


def _datetime(v: object) -> Code | None:
    # Fast path as for _date: "YYYY-MM-DDTHH:MM:SSZ" (20) or "...+HH:MM" (25) by position.
    if (
        type(v) is str
        and ((len(v) == 20 and v[19] == "Z") or (len(v) == 25 and v[22] == ":" and v[19] in "+-"))
        and v[10] == "T"
        and v[13] == ":"
        and v[16] == ":"
        and v[4] == "-"
        and v[7] == "-"
    ):
        try:
            _parse_datetime(v)
        except ValueError:
            return Code.INVALID_DATETIME
        return None
    return _datetime_spec(v)


def _datetime_spec(v: object) -> Code | None:
    if type(v) is not str:
        return _other(v)
    if DATETIME_RE.match(v):
        try:
            _parse_datetime(v)
        except ValueError:
            return Code.INVALID_DATETIME
        return None
    return Code.INVALID_DATETIME


def _url(v: object) -> Code | None:
    if type(v) is str:
        return None if URL_RE.match(v) else Code.URL_SHAPE
    return _other(v)


def _email(v: object) -> Code | None:
    if type(v) is str:
        return None if EMAIL_RE.match(v) else Code.EMAIL_SHAPE
    return _other(v)


def _all_strings(v: list[object]) -> bool:
    # A plain loop: all() over a generator costs 2.5x as much for short lists (measured).
    for item in v:  # noqa: SIM110
        if type(item) is not str:
            return False
    return True


def _string_list(v: object) -> Code | None:
    if type(v) is list and _all_strings(v):
        return None
    return _other(v)


def _stringarray(v: object) -> Code | None:
    # Undocumented either way: an array of strings gets the note (once per key and file),
    # anything else the warning that it does not look like the one documented string array.
    if type(v) is list and _all_strings(v):
        return Code.STRINGARRAY_UNDOCUMENTED
    return Code.NULL_VALUE if v is None else Code.STRINGARRAY_SHAPE


def _date_string(v: object) -> Code | None:
    if type(v) is str:
        return None if DATE_RE.match(v) else Code.DATE_SHAPE
    return _other(v)


def _object_id(v: object) -> Code | None:
    if type(v) is str and OBJECT_ID_RE.match(v):
        return None
    return _object_id_slow(v)


def _object_id_slow(v: object) -> Code | None:
    if type(v) is not str:
        return Code.INVALID_OBJECT_ID if v is None else Code.WRONG_TYPE
    if len(v) > OBJECT_ID_MAX:
        return Code.OBJECT_ID_TOO_LONG
    if is_email(v):
        return None
    if _ID_WITH_UNDERSCORE_RE.match(v):
        return Code.OBJECT_ID_UNDERSCORE
    return Code.INVALID_OBJECT_ID


def _choice(allowed: Collection[str], pending: Collection[str] = ()) -> Check:
    valid = frozenset(allowed)
    waiting = frozenset(pending)

    def check(v: object) -> Code | None:
        if type(v) is str and v in valid:
            return None
        if type(v) is not str:
            return _other(v)
        return Code.VALUE_NOT_APPLIED if v in waiting else Code.INVALID_CHOICE

    return check


_BY_FIELD_TYPE: dict[FieldType, Check] = {
    FieldType.DATE: _date,
    FieldType.DATETIME: _datetime,
    FieldType.NUMBER: _number,
    FieldType.PERCENT: _percent,
    FieldType.CURRENCY: _number,
    FieldType.ID: _string,
    FieldType.URL: _url,
    FieldType.STRING: _string,
    FieldType.BOOLEAN: _boolean,
    FieldType.PHONENUMBER: _string,
    FieldType.EMAILADDRESS: _email,
    FieldType.REFERENCE: _string,
    FieldType.STRINGARRAY: _stringarray,
}

_BY_KIND: dict[Kind, Check] = {
    Kind.OBJECT_ID: _object_id,
    Kind.DATETIME: _datetime,
    Kind.BOOLEAN: _boolean,
    Kind.URL: _url,
    Kind.STRING: _string,
    Kind.EMAILADDRESS: _email,
    Kind.STRING_LIST: _string_list,
    Kind.CURRENCY: _number,
    Kind.DEAL_STATUS: _choice(DEAL_STATUSES),
    Kind.DATE_STRING: _date_string,
}


def field_check(
    field_type: FieldType,
    values: Collection[str] | None = None,
    pending_values: Collection[str] = (),
) -> Check:
    """The check of a custom field. A PICKLIST takes `values` (those applied) and reports
    `pending_values` (in the schema files, not applied yet) as VALUE_NOT_APPLIED."""
    if field_type is FieldType.PICKLIST:
        return _choice(values or (), pending_values)
    return _BY_FIELD_TYPE[field_type]


def standard_check(kind: Kind) -> Check:
    return _BY_KIND[kind]

"""The wording of every record problem: typed facts in, one sentence out.

Only the problems that are shown get a message, so this module may be slow (difflib).
Everything quoted from a record file goes through `quote` or `describe`: repr() escapes
control characters, escape sequences and bidirectional overrides, and long values are cut
to QUOTE_CHARS, so no message can carry a huge value or drive a terminal.
"""

from __future__ import annotations

from collections.abc import Sequence

from crmform.engine.model import FieldType
from crmform.engine.records.compiled import Compiled, Spec
from crmform.engine.records.problems import Code
from crmform.engine.records.schema import Pending
from crmform.engine.records.standard import OBJECT_ID_MAX, standard_key_owners
from crmform.engine.records.values import DATETIME_RE, FRACTION_RE

__all__ = [
    "KEY_CHARS",
    "QUOTE_CHARS",
    "cut_key",
    "describe",
    "explain",
    "file_message",
    "line_message",
    "quote",
    "suggest",
]

QUOTE_CHARS = 60
KEY_CHARS = 100
_LIST_VALUES = 8  # PICKLIST values listed in a message; longer lists get "did you mean"

_EXPECTED = {
    FieldType.DATE.value: 'a date string "YYYY-MM-DD"',
    FieldType.DATETIME.value: "an ISO-8601 date-time string without fractional seconds, with Z "
    'or an offset ("2020-12-17T07:37:21Z", "2020-12-17T07:37:21+02:00")',
    FieldType.NUMBER.value: "a JSON number",
    FieldType.PERCENT.value: "a JSON number from 0 to 100",
    FieldType.CURRENCY.value: "a JSON number",
    FieldType.BOOLEAN.value: "true or false",
    FieldType.PICKLIST.value: "one of its values, as a string",
    FieldType.STRINGARRAY.value: "an array of strings",
    "objectId": "a string",
    "string array": "an array of strings",
    "deal status": "one of WON, LOST, OPEN",
    "date string": "a string",
}


def quote(text: str, limit: int = QUOTE_CHARS) -> str:
    """`text` as repr() shows it, cut to `limit` characters (with the full length said)."""
    if len(text) <= limit:
        return repr(text)
    return f"{text[:limit]!r}… ({len(text):,} characters)"


def cut_key(key: str) -> str:
    """A record's key as a Problem carries it: as spelt, cut to KEY_CHARS."""
    return key if len(key) <= KEY_CHARS else key[:KEY_CHARS] + "…"


def describe(value: object) -> str:
    """A JSON value in a few words, e.g. `the string '12'`, `an array of 3 items`."""
    if value is None:
        return "null"
    if value is True or value is False:
        return "true" if value else "false"
    if isinstance(value, int | float):
        shown = repr(value)
        return f"the number {shown if len(shown) <= QUOTE_CHARS else shown[:QUOTE_CHARS] + '…'}"
    if isinstance(value, str):
        return f"the string {quote(value)}"
    if isinstance(value, list):
        return f"an array of {len(value):,} item{'' if len(value) == 1 else 's'}"
    return "an object"


def suggest(word: str, choices: Sequence[str]) -> str | None:
    """The likely meaning of a misspelt `word` among `choices`: same letters in another
    case first, then difflib's closest."""
    lowered = word.lower()
    for choice in choices:
        if choice.lower() == lowered:
            return choice
    import difflib  # only for the few problems shown

    close = difflib.get_close_matches(word[:KEY_CHARS], choices, n=1, cutoff=0.6)
    return close[0] if close else None


def _did_you_mean(word: str, choices: Sequence[str]) -> str:
    close = suggest(word, choices)
    return f"; did you mean {close!r}?" if close else ""


def explain(compiled: Compiled, code: Code, key: str, value: object) -> str:
    """The message of a problem with one key of one record. It does not repeat the key,
    which the Problem carries (and views print before it)."""
    object_type = compiled.object_type.value
    if code is Code.UNKNOWN_KEY:
        return (
            f"neither a standard {object_type} key nor a field of the schema, so Gong "
            f"ignores it{_did_you_mean(key, compiled.names)}"
        )
    if code is Code.OTHER_OBJECT_TYPE_KEY:
        owners = " and ".join(t.value for t in standard_key_owners(key))
        return (
            f"a standard key of {owners} records, not of {object_type} ones: Gong ignores it "
            "here (a file holds the records of one object type)"
        )
    if code is Code.MISSING_KEY:
        return "missing; Gong needs it in every record"
    if code is Code.DEAL_WITHOUT_ACCOUNT:
        return "missing: Gong's docs say that deals without an accountId do not appear in Gong"
    if code in (Code.NOT_APPLIED, Code.TOMBSTONED, Code.TYPE_CHANGE_PENDING):
        return _pending(compiled, key)
    spec = compiled.specs.get(key)
    if spec is None:  # cannot happen: every checked key has a spec
        return code.value
    return _value(spec, code, value)


def _pending(compiled: Compiled, key: str) -> str:
    pending, _ = compiled.pending[key]
    if pending.reason is Pending.NOT_APPLIED:
        return (
            "a field of the schema files, not applied yet: Gong ignores its values until "
            "`crmform apply` has uploaded it"
        )
    if pending.reason is Pending.TOMBSTONED:
        return (
            "no longer in the schema files: the next `crmform apply` deletes this field (an "
            "isDeleted tombstone), with every value uploaded for it"
        )
    new = pending.field.type.value
    return (
        f"its type changes from {pending.applied_type} to {new} at the next `crmform apply`, "
        f"which deletes its stored values: apply first, then upload (checked here as {new})"
    )


def _needs(spec: Spec, expected: str, value: object) -> str:
    kind = "" if spec.standard else f" (a {spec.type_name} field)"
    return f"needs {expected}{kind}, not {describe(value)}"


def _value(spec: Spec, code: Code, value: object) -> str:
    if code is Code.WRONG_TYPE:
        return _needs(spec, _EXPECTED.get(spec.type_name, "a string"), value)
    if code is Code.NULL_VALUE:
        return (
            "null: Gong's docs do not say whether null clears a stored value or is ignored "
            "(their own example sends one); said once per key and file"
        )
    if code is Code.INVALID_DATE:
        return _needs(spec, 'a valid date "YYYY-MM-DD"', value)
    if code is Code.INVALID_DATETIME:
        if isinstance(value, str) and FRACTION_RE.match(value):
            return (
                f"{quote(value)} has fractional seconds; Gong's date-times are ISO-8601 "
                "without them"
            )
        if isinstance(value, str) and DATETIME_RE.match(value):
            return f"{quote(value)} is not a real date and time"
        return _needs(spec, _EXPECTED[FieldType.DATETIME.value], value)
    if code is Code.OUT_OF_RANGE:
        return _needs(spec, "a number from 0 to 100", value)
    if code is Code.INVALID_CHOICE:
        return _choice(spec, value)
    if code is Code.VALUE_NOT_APPLIED:
        return (
            f"{describe(value)} is a value in the schema files, not applied yet: run "
            "`crmform apply` before uploading"
        )
    if code is Code.OBJECT_ID_TOO_LONG:
        length = len(value) if isinstance(value, str) else 0
        return f"{length:,} characters; Gong allows at most {OBJECT_ID_MAX}"
    if code is Code.INVALID_OBJECT_ID:
        if not isinstance(value, str):
            return f"{describe(value)}; Gong needs an objectId in every record"
        return (
            f"{quote(value)} is neither letters, digits and '-' nor an email address, which "
            "is all Gong allows"
        )
    if code is Code.OBJECT_ID_UNDERSCORE:
        return (
            f"{describe(value)} has '_', which Gong's rule (letters, digits, '-', or an email "
            "address) leaves out but its own BUSINESS_USER example uses"
        )
    if code is Code.URL_SHAPE:
        return f"{describe(value)} does not look like a URL (http:// or https://)"
    if code is Code.EMAIL_SHAPE:
        return f"{describe(value)} does not look like an email address"
    if code is Code.DATE_SHAPE:
        return (
            f'{describe(value)} is not "YYYY-MM-DD": Gong documents closeDate as a string, '
            'and its example is "2022-09-04"'
        )
    if code is Code.STRINGARRAY_UNDOCUMENTED:
        return (
            "Gong's docs give no value format for STRINGARRAY; an array of strings, as the "
            "standard key domains takes, is the likely one. Said once per key and file"
        )
    if code is Code.STRINGARRAY_SHAPE:
        return (
            f"{describe(value)}, not an array of strings: Gong's docs give no value format "
            "for STRINGARRAY, but their one documented string array (domains) is a JSON "
            "array of strings"
        )
    return code.value


def _choice(spec: Spec, value: object) -> str:
    text = value if isinstance(value, str) else ""
    hint = _did_you_mean(text, spec.values) if text else ""
    what = "a value of this PICKLIST" if not spec.standard else "an allowed value"
    if len(spec.values) <= _LIST_VALUES:
        listed = ", ".join(repr(v) for v in spec.values) or "none"
        return f"{describe(value)} is not {what} ({listed}; case-sensitive){hint}"
    return f"{describe(value)} is not one of the {len(spec.values)} values (case-sensitive){hint}"


def line_message(code: Code, detail: str = "", *, max_line_bytes: int = 0) -> str:
    """The message of a problem with a whole line; `detail` is the decoder's own words."""
    if code is Code.LINE_TOO_LONG:
        return (
            f"the line is longer than {max_line_bytes:,} bytes, crmform's own limit for one "
            "record (Gong documents none): it is not checked. A record this large is more "
            "likely binary data or several records without line breaks"
        )
    if code is Code.NOT_UTF8:
        return f"the line is not UTF-8 ({detail}); Gong takes UTF-8 JSON"
    if code is Code.BYTE_ORDER_MARK:
        return (
            "the file starts with a UTF-8 byte order mark; Gong's docs do not say whether it "
            "is accepted, so save the file without one to be safe"
        )
    if code is Code.INVALID_JSON:
        return f"the line is not valid JSON: {detail}"
    if code is Code.NOT_AN_OBJECT:
        return f"the line is {detail}, not a JSON object: each line holds one record"
    if code is Code.BLANK_LINE:
        return (
            "an empty line: Gong's docs say each line holds one JSON object, and do not say "
            "whether empty lines are skipped"
        )
    return code.value


def file_message(code: Code, detail: str = "", *, size: int = 0, object_type: str = "") -> str:
    """The message of a problem with a whole file."""
    if code is Code.UNREADABLE_FILE:
        return f"cannot read the file: {detail}"
    if code is Code.FILE_TOO_LARGE:
        return f"the file has {size:,} bytes; Gong takes at most 200 MB per upload"
    if code is Code.FILE_SIZE_UNCERTAIN:
        return (
            f"the file has {size:,} bytes, over 200 MB counted as 200,000,000 bytes but not as "
            "209,715,200: Gong's docs say 200 megabytes without saying which (and the "
            "upload's multipart envelope counts too)"
        )
    if code is Code.EMPTY_FILE:
        return "the file has no records"
    if code is Code.SHADOWS_STANDARD_KEY:
        return (
            f"the schema field {quote(detail)} has the name of a standard {object_type} key: "
            "its values are checked as the schema field's, and Gong's docs do not say which "
            "of the two gets them"
        )
    return code.value

"""integrationId: the spellings that name an id, and the id they name.

Only plain decimal digits name an id: a number, a quoted string of digits, or "${NAME}"
whose environment variable holds digits. YAML 1.1 reads other spellings as integers of
another value (017 is 15, 1:30 is 90, 0x10 is 16), and an id sent to the wrong integration
is a silent mistake, so they are refused with what YAML made of them. A leading zero is
refused in every form, so that adding or removing quotes can never change the target.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from crmform.engine.config.messages import Problem, quote_id
from crmform.engine.config.positions import Loc
from crmform.engine.model import INTEGRATION_ID_MAX

__all__ = ["decimal_id", "env_name", "integration_id", "yaml_spelling"]

_MAX_DIGITS = len(str(INTEGRATION_ID_MAX))  # also keeps int() within its digit limit
_AT: Loc = ("integrationId",)
_PLAIN = "write the id in plain decimal digits (no leading zero, sign, underscore, colon or prefix)"
_RANGE = f"a Gong integration id is between 1 and {INTEGRATION_ID_MAX}"


def yaml_spelling(text: str | None, value: Any) -> Problem | None:
    """The problem with an id that YAML read as an integer from `text`, if not plain digits."""
    if text is None or _plain_int(text):
        return None
    digits = text.lstrip("+-")
    if ":" in digits:
        kind = ", a base-60 number"
    elif digits[:2] in ("0x", "0X"):
        kind = ", a hexadecimal number"
    elif digits[:2] in ("0b", "0B"):
        kind = ", a binary number"
    elif digits.startswith("0") and len(digits) > 1:
        kind = ", an octal number"
    else:
        kind = ""
    shown, read = _cut(text), _cut(str(value))
    return Problem(_AT, _AT, f"{shown} is read by YAML as {read}{kind}; {_PLAIN}")


def integration_id(value: Any, env: Mapping[str, str], problems: list[Problem]) -> int | None:
    """The id as an int, or None; adds the problems that the schema cannot see."""
    if any(p.owner == _AT for p in problems):
        return None
    if type(value) is int:
        return value if 1 <= value <= INTEGRATION_ID_MAX else None
    if type(value) is not str:
        return None
    name = env_name(value)
    if name is not None:
        if name not in env:
            unset = (
                f"environment variable {name} is not set; set it to your Gong integration "
                "id, or write the id in the file"
            )
            problems.append(Problem(_AT, _AT, unset))
            return None
        # Never echo the value: a mistyped variable name could point at a secret.
        text, what = env[name], f"environment variable {name}"
    else:
        text, what = value, quote_id(value)
    # Strings from the file were matched by schema.json already, but its pattern's $ lets
    # "12\n" through; environment values were not checked at all.
    message = _digits_problem(text, what)
    if message is not None:
        problems.append(Problem(_AT, _AT, message))
        return None
    return int(text)


def _digits_problem(text: str, what: str) -> str | None:
    """Why `text` (named `what` in the message) is no id, or None if it is one."""
    only = f"{what} must hold the integration id in digits only"
    if not _ascii_digits(text):
        return only
    if not text.strip("0"):
        return f"{what} is out of range; {_RANGE}"
    if text.startswith("0"):
        return f"{only}, without leading zeros"
    if len(text) > _MAX_DIGITS or int(text) > INTEGRATION_ID_MAX:
        return f"{what} is out of range; {_RANGE}"
    return None


# The patterns of ids as str methods: each compiled regular expression costs every plan
# about 0.1 ms at import (issue 14). str.isdigit() alone would take other scripts' digits;
# tests/test_config.py holds each to its pattern.


def decimal_id(text: str) -> bool:
    """Whether `text` is an id in plain digits: schema.json's pattern [1-9][0-9]*, whole."""
    return _ascii_digits(text) and text[0] != "0"


def env_name(text: str) -> str | None:
    """NAME when `text` is exactly "${NAME}", NAME being [A-Za-z_][A-Za-z0-9_]* (which is
    what an ASCII identifier is), else None."""
    if not (text.startswith("${") and text.endswith("}")):
        return None
    name = text[2:-1]
    return name if name.isascii() and name.isidentifier() else None


def _ascii_digits(text: str) -> bool:
    """Whether `text` is one or more of 0-9 (the pattern [0-9]+)."""
    return text.isascii() and text.isdigit()


def _plain_int(text: str) -> bool:
    """Whether `text` is an integer in plain decimal (-?(?:0|[1-9][0-9]*)): 0 and negatives
    are refused as out of range, not as spellings."""
    digits = text.removeprefix("-")
    return digits == "0" or (digits[:1] != "0" and _ascii_digits(digits))


def _cut(text: str) -> str:
    return text if len(text) <= 20 else text[:20] + "…"

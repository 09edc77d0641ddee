"""What a record check finds: typed problems, their codes and severities, and the report.

A `Code` is the contract string of one rule (the JSON report carries it); its severity is
fixed by the rule, never by the occasion. Errors are what Gong rejects or silently drops
(by its documentation, or by what crmform knows of the schema); warnings are what the docs
leave uncertain, or a value that is valid but not shaped like its type, and never fail a
check on their own.

`Collector` keeps the problems to show in constant memory: at most `max_problems` of each
severity, so that a file full of warnings cannot hide the errors found after them, and it
counts the rest.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum

from crmform.engine.model import ObjectKey

__all__ = [
    "ONCE_PER_KEY",
    "SEVERITY",
    "Code",
    "Collector",
    "FileSummary",
    "Problem",
    "Report",
    "Severity",
]


class Severity(StrEnum):
    ERROR = "error"
    WARNING = "warning"


class Code(StrEnum):
    """One rule of `crmform check-records`. The values are the JSON report's contract."""

    # the file
    UNREADABLE_FILE = "unreadable-file"
    FILE_TOO_LARGE = "file-too-large"
    FILE_SIZE_UNCERTAIN = "file-size-uncertain"
    EMPTY_FILE = "empty-file"
    SHADOWS_STANDARD_KEY = "shadows-standard-key"
    # one line
    LINE_TOO_LONG = "line-too-long"
    NOT_UTF8 = "not-utf8"
    BYTE_ORDER_MARK = "byte-order-mark"
    INVALID_JSON = "invalid-json"
    NOT_AN_OBJECT = "not-an-object"
    BLANK_LINE = "blank-line"
    # keys
    UNKNOWN_KEY = "unknown-key"
    OTHER_OBJECT_TYPE_KEY = "other-object-type-key"
    MISSING_KEY = "missing-key"
    NOT_APPLIED = "not-applied"
    TOMBSTONED = "tombstoned"
    TYPE_CHANGE_PENDING = "type-change-pending"
    # values
    WRONG_TYPE = "wrong-type"
    INVALID_DATE = "invalid-date"
    INVALID_DATETIME = "invalid-datetime"
    OUT_OF_RANGE = "out-of-range"
    INVALID_CHOICE = "invalid-choice"
    VALUE_NOT_APPLIED = "value-not-applied"
    OBJECT_ID_TOO_LONG = "object-id-too-long"
    INVALID_OBJECT_ID = "invalid-object-id"
    OBJECT_ID_UNDERSCORE = "object-id-underscore"
    URL_SHAPE = "url-shape"
    EMAIL_SHAPE = "email-shape"
    DATE_SHAPE = "date-shape"
    NULL_VALUE = "null-value"
    STRINGARRAY_UNDOCUMENTED = "stringarray-undocumented"
    STRINGARRAY_SHAPE = "stringarray-shape"
    DEAL_WITHOUT_ACCOUNT = "deal-without-account"


_WARNINGS = frozenset(
    {
        Code.FILE_SIZE_UNCERTAIN,
        Code.EMPTY_FILE,
        Code.SHADOWS_STANDARD_KEY,
        Code.BYTE_ORDER_MARK,
        Code.BLANK_LINE,
        Code.OBJECT_ID_UNDERSCORE,
        Code.URL_SHAPE,
        Code.EMAIL_SHAPE,
        Code.DATE_SHAPE,
        Code.NULL_VALUE,
        Code.STRINGARRAY_UNDOCUMENTED,
        Code.STRINGARRAY_SHAPE,
        Code.DEAL_WITHOUT_ACCOUNT,
    }
)
SEVERITY: Mapping[Code, Severity] = {
    code: Severity.WARNING if code in _WARNINGS else Severity.ERROR for code in Code
}

# Notes about what the docs leave open: said once per key and file (at its first line),
# not once per record, so that a million records with one null do not bury the rest.
ONCE_PER_KEY = frozenset({Code.NULL_VALUE, Code.STRINGARRAY_UNDOCUMENTED})


@dataclass(frozen=True, slots=True)
class Problem:
    """One problem: where it is (file, 1-based line or None for the whole file, the record's
    key or None for the whole line) and what is wrong.

    `key` is the key as the file spells it, cut to KEY_CHARS; `message` is a sentence whose
    quoted file content is already escaped (repr) and cut short, so it is safe to print.
    """

    file: str
    line: int | None
    key: str | None
    severity: Severity
    code: Code
    message: str


@dataclass(frozen=True, slots=True)
class FileSummary:
    """One checked file: the schema it was checked against (`key`), its size in bytes (None
    for a pipe or a file that could not be read), and what was found in it."""

    file: str
    key: ObjectKey
    size: int | None
    lines: int
    records: int
    errors: int
    warnings: int


@dataclass(frozen=True, slots=True)
class Report:
    """Everything one check found. `problems` are the ones shown (all errors first, up to
    `max_problems` in all, then in file and line order); `more_errors`/`more_warnings` say
    how many were found but not shown. `counts` has every code found, with its count."""

    files: tuple[FileSummary, ...]
    problems: tuple[Problem, ...]
    errors: int
    warnings: int
    more_errors: int
    more_warnings: int
    counts: tuple[tuple[Code, int], ...]
    max_problems: int

    @property
    def ok(self) -> bool:
        """True when no error was found: Gong would take every record (warnings allowed)."""
        return self.errors == 0

    @property
    def records(self) -> int:
        return sum(f.records for f in self.files)


@dataclass
class Collector:
    """Mutable, and only inside one check: counts every problem, keeps the first
    `max_problems` of each severity (with their order of discovery)."""

    max_problems: int
    _kept: dict[Severity, list[tuple[int, Problem]]] = field(
        default_factory=lambda: {Severity.ERROR: [], Severity.WARNING: []}
    )
    _totals: dict[Severity, int] = field(
        default_factory=lambda: {Severity.ERROR: 0, Severity.WARNING: 0}
    )
    _counts: dict[Code, int] = field(default_factory=dict)
    _seq: int = 0

    def count(self, code: Code) -> bool:
        """Count one problem of `code`; True when it is to be kept (then call `keep`)."""
        severity = SEVERITY[code]
        self._totals[severity] += 1
        self._counts[code] = self._counts.get(code, 0) + 1
        return len(self._kept[severity]) < self.max_problems

    def keep(self, problem: Problem) -> None:
        self._seq += 1
        self._kept[problem.severity].append((self._seq, problem))

    def totals(self) -> tuple[int, int]:
        return self._totals[Severity.ERROR], self._totals[Severity.WARNING]

    def report(self, files: tuple[FileSummary, ...]) -> Report:
        errors = self._kept[Severity.ERROR]
        warnings = self._kept[Severity.WARNING][: max(0, self.max_problems - len(errors))]
        shown = tuple(p for _, p in sorted(errors + warnings, key=lambda item: item[0]))
        n_errors, n_warnings = self.totals()
        return Report(
            files=files,
            problems=shown,
            errors=n_errors,
            warnings=n_warnings,
            more_errors=n_errors - len(errors),
            more_warnings=n_warnings - len(warnings),
            counts=tuple(sorted(self._counts.items())),
            max_problems=self.max_problems,
        )

"""The Gong emulator's fault rules: what a test (or `crmform emulator --fault`) asks the
emulator to do wrong, and when. Standard library only.

Each rule matches requests by method, path and objectType, fires at most `times` times, and
acts before the request is handled or, with `after_apply`, once an upload was carried out
(so that Gong has the upload while the client sees a failure):

  status     answer `status` with a Gong-style error body (and Retry-After, if given)
  drop       close the connection without an answer
  not-json   answer `status` (200 by default) with an HTML page, as a captive portal does
  delay      wait `seconds`, then handle the request as usual: with a delay longer than the
             client's timeout, the upload lands after the client gave up on it

Random faults are seeded and bounded: `RandomFaults(seed, rate, limit)` picks, per matching
request, whether and which fault fires, and never more than `limit` in all.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from enum import StrEnum
from http import HTTPStatus

__all__ = [
    "MAX_DELAY",
    "MAX_TIMES",
    "DroppedConnection",
    "Fault",
    "FaultKind",
    "LateAnswer",
    "RandomFaults",
    "parse_fault",
]

MAX_TIMES = 1000
MAX_DELAY = 300.0  # seconds: a fault never holds a test (or CI) longer than this

# The key under which an in-process transport tells the emulator its read timeout, so that
# a delay past it can be answered with a timeout at once and land later (see LateAnswer).
READ_TIMEOUT_KEY = "crmform.emulator.read_timeout"

NOT_JSON_PAGE = "<html><head><title>Sign in</title></head><body>Please log in.</body></html>"


class FaultKind(StrEnum):
    STATUS = "status"
    DROP = "drop"
    NOT_JSON = "not-json"
    DELAY = "delay"


class DroppedConnection(ConnectionAbortedError):
    """Raised out of the WSGI app to close the connection without an answer. wsgiref's
    server then closes the socket silently; an in-process transport turns it into the
    client library's "server disconnected" error."""


class LateAnswer(Exception):
    """Raised out of the WSGI app, in process only, when a delay is longer than the client's
    timeout: the client sees its timeout at once, and the upload lands when the emulator's
    clock reaches `due`."""

    def __init__(self, due: float) -> None:
        super().__init__(due)
        self.due = due


@dataclass(slots=True)
class Fault:
    """One rule; `times` counts down as it fires."""

    kind: FaultKind
    times: int = 1
    status: int = 500
    method: str | None = None
    path: str | None = None
    object_type: str | None = None
    errors: tuple[str, ...] = ()
    retry_after: int | None = None
    after_apply: bool = False
    seconds: float = 0.0

    def __post_init__(self) -> None:
        if not 1 <= self.times <= MAX_TIMES:
            raise ValueError(f"a fault fires 1 to {MAX_TIMES} times, not {self.times}")
        if self.status not in HTTPStatus._value2member_map_ or not 200 <= self.status < 600:
            raise ValueError(f"{self.status} is not an HTTP status crmform's emulator knows")
        if not 0 <= self.seconds <= MAX_DELAY:
            raise ValueError(f"a delay is 0 to {MAX_DELAY:g} seconds, not {self.seconds:g}")
        if self.kind is FaultKind.DELAY and self.after_apply:
            raise ValueError("a delay acts before the request is handled, not after-apply")
        if self.kind is FaultKind.STATUS and not self.errors:
            self.errors = (HTTPStatus(self.status).phrase,)

    def matches(self, method: str, path: str, object_type: str | None, after_apply: bool) -> bool:
        return (
            self.times > 0
            and self.after_apply == after_apply
            and self.method in (None, method)
            and self.path in (None, path)
            and self.object_type in (None, object_type)
        )


@dataclass(slots=True)
class RandomFaults:
    """Seeded, bounded random faults: each request matching `method` draws once; with
    probability `rate` one of `kinds` fires (after_apply for half of the status, drop and
    not-json draws, so some uploads land although the client sees a failure). At most
    `limit` fire in all. The same seed and requests give the same faults."""

    seed: int
    rate: float
    limit: int
    method: str | None = "POST"
    kinds: tuple[FaultKind, ...] = (FaultKind.STATUS, FaultKind.DROP, FaultKind.NOT_JSON)
    statuses: tuple[int, ...] = (500, 502, 503)
    fired: int = 0
    _rng: random.Random = field(init=False, repr=False)

    def __post_init__(self) -> None:
        if not 0.0 <= self.rate <= 1.0:
            raise ValueError(f"a fault rate is between 0 and 1, not {self.rate}")
        if not 0 <= self.limit <= MAX_TIMES:
            raise ValueError(f"at most {MAX_TIMES} random faults, not {self.limit}")
        if FaultKind.DELAY in self.kinds:
            raise ValueError("random faults do not delay (a delay must be chosen, not drawn)")
        self._rng = random.Random(self.seed)

    def draw(self, method: str) -> Fault | None:
        if self.fired >= self.limit or self.method not in (None, method):
            return None
        # Always draw the same number of values per request, so that one request's outcome
        # never shifts the faults of the next ones.
        hit, kind_at, status_at, after = (self._rng.random() for _ in range(4))
        if hit >= self.rate:
            return None
        self.fired += 1
        kind = self.kinds[int(kind_at * len(self.kinds))]
        status = self.statuses[int(status_at * len(self.statuses))]
        if kind is FaultKind.NOT_JSON:
            status = 200
        return Fault(kind, 1, status, after_apply=after < 0.5)


def parse_fault(spec: str) -> Fault:
    """A rule from words, as `crmform emulator --fault` takes it: a kind (a status such as
    500, or drop, not-json, delay=SECONDS), then any of after-apply, times=N, method=M,
    object-type=T, retry-after=S, status=N (for not-json). Example: `500 after-apply times=5
    method=POST`. ValueError says what is wrong."""
    words = spec.split()
    if not words:
        raise ValueError("an empty fault; say e.g. '500', 'drop after-apply' or 'delay=5'")
    head, *rest = words
    options: dict[str, object] = {}
    if head.isdigit():
        options.update(kind=FaultKind.STATUS, status=int(head))
    elif head in (FaultKind.DROP, FaultKind.NOT_JSON):
        options.update(kind=FaultKind(head), status=500 if head == FaultKind.DROP else 200)
    elif head.startswith("delay="):
        options.update(kind=FaultKind.DELAY, seconds=_number(head, float))
    else:
        raise ValueError(
            f"unknown fault {head!r}: a status such as 500, drop, not-json or delay=SECONDS"
        )
    for word in rest:
        name, _, value = word.partition("=")
        if word == "after-apply":
            options["after_apply"] = True
        elif name == "times" and value:
            options["times"] = _number(word, int)
        elif name == "retry-after" and value:
            options["retry_after"] = _number(word, int)
        elif name == "status" and value and options["kind"] is FaultKind.NOT_JSON:
            options["status"] = _number(word, int)
        elif name == "method" and value:
            options["method"] = value.upper()
        elif name == "object-type" and value:
            options["object_type"] = value
        else:
            raise ValueError(
                f"unknown fault option {word!r}: after-apply, times=N, method=M, "
                "object-type=T, retry-after=S, or status=N (not-json only)"
            )
    return Fault(**options)  # type: ignore[arg-type]


def _number(word: str, kind: type[int] | type[float]) -> int | float:
    name, _, value = word.partition("=")
    try:
        return kind(value)
    except ValueError:
        raise ValueError(f"{name} must be a number in {word!r}") from None

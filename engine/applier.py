"""Carry out a plan: one complete upload per changed object type, state saved after each.

The applier never decides what to change (the planner did) nor what to send (payload did).
Its job is ordering and bookkeeping, so that the state never claims what Gong does not have
and never forgets what Gong may have:
  1. before each POST it records the upload as pending in the state (engine/settle.py);
  2. a definite success records the new object and clears the record (after reading the
     object type back, unless told not to, and recording what Gong really has); when
     another upload follows, the same write records that one as pending (one durable write
     where two would say nothing more: the record still lands before its POST);
  3. a definite rejection clears the record, the state otherwise unchanged;
  4. an unknown outcome (timeout, dropped connection, 5xx, Ctrl-C or SIGTERM during the
     request) keeps the record: the next command reads Gong and settles it.
A failure stops the run; the remaining addresses are not attempted.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from contextlib import suppress
from dataclasses import dataclass
from enum import StrEnum
from time import monotonic
from typing import Protocol, runtime_checkable

from crmform.engine.drift import compare, refreshed_object
from crmform.engine.errors import (
    CrmformError,
    ProviderError,
    StateError,
    StateWriteUncertainError,
    UncertainOutcomeError,
)
from crmform.engine.model import (
    Action,
    FieldDrift,
    ObjectKey,
    ObjectType,
    PendingUpload,
    Plan,
    State,
)
from crmform.engine.payload import Upload, uploads
from crmform.engine.ports import FieldWrite, Provider, StateBackend
from crmform.engine.settle import body_digest


class Outcome(StrEnum):
    APPLIED = "applied"  # the remote accepted the upload; state written
    STATE_ONLY = "state-only"  # only crmform's own flags changed; state written, nothing sent
    FAILED = "failed"  # nothing (more) changed in the remote: the state says what it has
    UNCERTAIN = "uncertain"  # the remote may have applied it; recorded as pending
    NOT_ATTEMPTED = "not-attempted"  # an earlier address failed, or the run was interrupted


@dataclass(frozen=True, slots=True)
class AddressResult:
    key: ObjectKey
    outcome: Outcome
    seconds: float = 0.0
    request_id: str | None = None
    error: CrmformError | None = None


@dataclass(frozen=True, slots=True)
class ApplyResult:
    results: tuple[AddressResult, ...]
    state: State  # the state as last written (or as read, if nothing was written)
    plan: Plan
    interrupted: bool = False  # Ctrl-C or SIGTERM stopped the run

    @property
    def ok(self) -> bool:
        done = (Outcome.APPLIED, Outcome.STATE_ONLY)
        return not self.interrupted and all(r.outcome in done for r in self.results)

    def counts(self) -> dict[Action, int]:
        """Changes carried out, by action (only addresses that were applied count)."""
        done = {r.key for r in self.results if r.outcome in (Outcome.APPLIED, Outcome.STATE_ONLY)}
        counts = {a: 0 for a in Action}
        for change in self.plan.changes:
            if change.key in done:
                counts[change.action] += 1
        return counts


# Called before each upload is sent; raising a CrmformError stops the run there (the drift
# check of `apply` lives behind this seam).
PreflightCheck = Callable[[Upload], None]
Progress = Callable[[AddressResult], None]
# Told before each upload is sent: its number, how many will be sent, the upload.
Sending = Callable[[int, int, Upload], None]


class VerifyError(CrmformError):
    """Gong accepted an upload but does not show what was sent."""


@runtime_checkable
class WritePreparer(Protocol):
    """A provider that can do a write's own CPU work (encoding its body) ahead of sending it."""

    def prepare_write(
        self, integration_id: int, object_type: ObjectType, writes: Sequence[FieldWrite]
    ) -> None: ...


class Preparation:
    """The pure work of an apply, done ahead where a pause between requests leaves room
    (the provider paces request starts, so work done while it would wait costs no wall
    time): the uploads, and per upload to send its pending record (with the body's digest)
    and the provider's encoding of its body. Nothing here is sent or written; `apply` uses
    what was prepared and makes the rest when it needs it. One body at most is encoded
    ahead (the provider keeps one): at 10,000 fields it is megabytes."""

    def __init__(self, plan: Plan, now: str, provider: Provider) -> None:
        self.now = now
        self._plan, self._provider = plan, provider
        self._uploads: tuple[Upload, ...] | None = None
        self._records: dict[ObjectKey, PendingUpload] = {}
        self._steps = 0

    def uploads(self) -> tuple[Upload, ...]:
        if self._uploads is None:
            self._uploads = uploads(self._plan, self.now)
        return self._uploads

    def record(self, upload: Upload) -> PendingUpload:
        """The pending record of `upload` (made once)."""
        found = self._records.get(upload.key)
        if found is None or found.after is not upload.after:
            found = PendingUpload(upload.key, body_digest(upload.body), self.now, upload.after)
            self._records[upload.key] = found
        return found

    def prepare(self, upload: Upload | None) -> None:
        """Its record, and the provider's encoding of its body, ahead of sending it."""
        if upload is None or not upload.sends:
            return
        self.record(upload)
        if isinstance(self._provider, WritePreparer):
            key = upload.key
            self._provider.prepare_write(key.integration_id, key.object_type, upload.body)

    def step(self) -> None:
        """One piece of the work ahead (a pause fits one): the uploads, then the first one
        to send prepared."""
        self._steps += 1
        if self._steps == 1:
            self.uploads()
        elif self._steps == 2:
            self.prepare(next((u for u in self.uploads() if u.sends), None))


def apply(
    plan: Plan,
    provider: Provider,
    backend: StateBackend,
    *,
    now: str,
    preflight: PreflightCheck | None = None,
    progress: Progress | None = None,
    verify: bool = True,
    sending: Sending | None = None,
    preparation: Preparation | None = None,
) -> ApplyResult:
    """Apply `plan` address by address; the caller holds the lock of the state the plan was
    made against (`plan.prior`, which the state written after each upload builds on).
    `preparation` is what was prepared of it ahead (`Preparation` of the same plan, or of
    one with the same desired schema and prior state, and the same `now`).

    Ctrl-C or SIGTERM (a KeyboardInterrupt) ends the run with the same report as a failure.
    """
    results: list[AddressResult] = []
    stopped = False
    interrupted = False
    state = plan.prior
    if preparation is None:
        preparation = Preparation(plan, now, provider)
    planned = preparation.uploads()
    total = sum(1 for u in planned if u.sends)
    sent = 0
    ahead: _Ahead | None = None  # what the run before did for this upload (see _Ahead)
    for index, upload in enumerate(planned):
        if stopped:
            result = AddressResult(upload.key, Outcome.NOT_ATTEMPTED)
        else:
            if upload.sends and sending is not None:
                sent += 1
                sending(sent, total, upload)
            following = planned[index + 1] if index + 1 < len(planned) else None
            run = _Run(upload, state, provider, backend, preparation, verify)
            try:
                result = run.go(preflight, ahead, _sending(following))
            except KeyboardInterrupt:
                interrupted = True
                result = run.interrupted()
            state = run.state
            ahead = run.ahead
            stopped = result.outcome not in (Outcome.APPLIED, Outcome.STATE_ONLY)
        results.append(result)
        if progress is not None:
            progress(result)
    return ApplyResult(tuple(results), state, plan, interrupted)


@dataclass(frozen=True, slots=True)
class _Ahead:
    """What one run did for the next upload: its preflight's error, or (None) its pending
    record written with this run's result."""

    error: CrmformError | None = None


class _Run:
    """One address: its steps, and the state as last written."""

    def __init__(
        self,
        upload: Upload,
        state: State,
        provider: Provider,
        backend: StateBackend,
        preparation: Preparation,
        verify: bool,
    ) -> None:
        self.upload = upload
        self.state = state
        self._provider = provider
        self._backend = backend
        self._preparation = preparation
        self._now = preparation.now
        self._verify = verify
        self._started = monotonic()
        self._phase = "before"  # -> "sending" -> "accepted"
        self._request_id: str | None = None
        # Set when the next upload's pending record was written with this result, or its
        # preflight failed.
        self.ahead: _Ahead | None = None
        self._preflight: PreflightCheck | None = None
        self._following: Upload | None = None

    def _result(self, outcome: Outcome, error: CrmformError | None = None) -> AddressResult:
        took = monotonic() - self._started
        return AddressResult(self.upload.key, outcome, took, self._request_id, error)

    def go(
        self,
        preflight: PreflightCheck | None,
        ahead: _Ahead | None = None,
        following: Upload | None = None,
    ) -> AddressResult:
        """Carry out this upload. `ahead`: what the run before did for it (its record is
        in the state, or its preflight failed); `following`: the next upload to send, whose
        pending record goes into this one's result write."""
        upload, key = self.upload, self.upload.key
        if not upload.sends:
            return self._record(self.state.with_object(upload.after), Outcome.STATE_ONLY)
        if ahead is not None and ahead.error is not None:
            return self._result(Outcome.FAILED, ahead.error)
        if ahead is None:
            try:
                if preflight is not None:
                    preflight(upload)
                self.state = self._backend.write(self.state.with_pending(self._pending(upload)))
            except CrmformError as error:
                return self._result(Outcome.FAILED, error)
        self._preflight, self._following = preflight, following
        try:
            self._phase = "sending"
            answer = self._provider.write_schema(key.integration_id, key.object_type, upload.body)
        except ProviderError as error:
            if _uncertain(error):
                return self._result(Outcome.UNCERTAIN, _pending_error(key, error))
            return self._rejected(error)
        self._phase = "accepted"
        self._request_id = answer.request_id
        return self._accepted()

    def _pending(self, upload: Upload) -> PendingUpload:
        return self._preparation.record(upload)

    def _with_following(self, recorded: State) -> tuple[State, _Ahead | None]:
        """`recorded` with the next upload's pending record, once its preflight passed."""
        following = self._following
        if following is None:
            return recorded, None
        try:
            if self._preflight is not None:
                self._preflight(following)
        except CrmformError as error:
            return recorded, _Ahead(error)
        return recorded.with_pending(self._pending(following)), _Ahead()

    def interrupted(self) -> AddressResult:
        key = self.upload.key
        if self._phase == "sending":
            stop = UncertainOutcomeError(
                f"Interrupted while the upload for {key} was in flight: Gong may have applied it."
            )
            return self._result(Outcome.UNCERTAIN, _pending_error(key, stop))
        if self._phase == "accepted" and self.state.pending_for(key) is not None:
            stop = UncertainOutcomeError(
                f"Interrupted after Gong accepted the upload for {key}, before the state "
                "recorded it."
            )
            return self._result(Outcome.UNCERTAIN, _pending_error(key, stop))
        return self._result(Outcome.NOT_ATTEMPTED)

    def _rejected(self, error: ProviderError) -> AddressResult:
        # Gong said no: nothing changed there, so the record of the attempt goes.
        # If this write fails the record stays; the next command settles it by reading Gong.
        with suppress(CrmformError):
            self.state = self._backend.write(self.state.without_pending(self.upload.key))
        return self._result(Outcome.FAILED, error)

    def _accepted(self) -> AddressResult:
        key, after = self.upload.key, self.upload.after
        recorded = self.state.applied(after, self._now)
        problem: VerifyError | None = None
        if self._verify:
            # The next upload's record and body are made while the read-back waits for
            # its slot (it goes 1/rate s after this POST started), not after it.
            self._preparation.prepare(self._following)
            try:
                remote = self._provider.read_schema(key.integration_id, key.object_type).get(
                    key.object_type
                )
            except ProviderError as error:
                remote, problem = None, _unverified(key, error)
            if remote is not None:
                differences = compare(key, after, remote)
                if differences:
                    problem = _mismatch(key, differences)
                    # The state records what Gong has, never what it was told to have.
                    recorded = recorded.with_object(refreshed_object(key, after, remote))
        if problem is not None:
            return self._record(recorded, Outcome.FAILED, problem)
        recorded, ahead = self._with_following(recorded)
        result = self._record(recorded, Outcome.APPLIED)
        if result.outcome is Outcome.APPLIED:
            self.ahead = ahead
        return result

    def _record(
        self, state: State, outcome: Outcome, problem: CrmformError | None = None
    ) -> AddressResult:
        key = self.upload.key
        try:
            self.state = self._backend.write(state)
        except CrmformError as error:
            if not self.upload.sends:
                return self._result(Outcome.FAILED, error)
            accepted = f" (requestId {self._request_id})" if self._request_id else ""
            recorded = (
                "The state records the upload either as pending or, if that write landed, as "
                "applied"
                if isinstance(error, StateWriteUncertainError)
                else "The state records the upload as pending"
            )
            lagging = StateError(
                f"Gong accepted the upload for {key}{accepted}, but saving the state failed: "
                f"{error} {recorded}; fix the cause and run `crmform apply` again: it reads "
                "Gong first and records the upload."
            )
            return self._result(Outcome.FAILED, lagging)
        return self._result(outcome, problem)


def _sending(upload: Upload | None) -> Upload | None:
    return upload if upload is not None and upload.sends else None


def _uncertain(error: ProviderError) -> bool:
    """May Gong have applied a write that failed this way? Only a 4xx is a clear no."""
    if isinstance(error, UncertainOutcomeError):
        return True
    return error.status is None or error.status >= 500


def _pending_error(key: ObjectKey, error: ProviderError) -> UncertainOutcomeError:
    return UncertainOutcomeError(
        f"{error} The outcome is unknown: Gong may have applied the upload, now or later. "
        f"The state records it as pending; `crmform apply` reads Gong first and settles it "
        f"before sending anything else to {key}.",
        status=error.status,
        request_id=error.request_id,
    )


def _unverified(key: ObjectKey, error: ProviderError) -> VerifyError:
    return VerifyError(
        f"Gong accepted the upload for {key}, but reading it back failed: {error} The state "
        "records the upload; run `crmform refresh` to check what Gong has."
    )


def _mismatch(key: ObjectKey, differences: tuple[FieldDrift, ...]) -> VerifyError:
    names = ", ".join(d.unique_name for d in differences[:10])
    more = f" and {len(differences) - 10} more" if len(differences) > 10 else ""
    return VerifyError(
        f"Gong accepted the upload for {key}, but reading it back shows other fields than "
        f"were sent: {names}{more}. The state records what Gong has; review "
        "`crmform plan` before applying again."
    )

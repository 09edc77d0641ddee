"""Carry out a plan: one complete upload per changed object type, state saved after each.

The applier never decides what to change (the planner did) nor what to send (payload did).
Its job is ordering and bookkeeping: after every accepted upload it writes state at once,
so a failure later in the run loses nothing already done, and state never records an upload
the remote did not accept.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from time import monotonic

from crmform.engine.errors import CrmformError, StateError
from crmform.engine.model import Action, ObjectKey, Plan, State
from crmform.engine.payload import Upload, uploads
from crmform.engine.ports import Provider, StateBackend


class Outcome(StrEnum):
    APPLIED = "applied"  # the remote accepted the upload; state written
    STATE_ONLY = "state-only"  # only crmform's own flags changed; state written, nothing sent
    FAILED = "failed"
    NOT_ATTEMPTED = "not-attempted"  # an earlier address failed


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

    @property
    def ok(self) -> bool:
        return all(r.outcome in (Outcome.APPLIED, Outcome.STATE_ONLY) for r in self.results)

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


def apply(
    plan: Plan,
    provider: Provider,
    backend: StateBackend,
    *,
    now: str,
    preflight: PreflightCheck | None = None,
    progress: Progress | None = None,
) -> ApplyResult:
    """Apply `plan` address by address; the caller holds the lock of the state the plan was
    made against (`plan.prior`, which the state written after each upload builds on).

    Stops at the first failure; the remaining addresses are reported as not attempted.
    """
    results: list[AddressResult] = []
    failed = False
    state = plan.prior
    for upload in uploads(plan, now):
        if failed:
            result = AddressResult(upload.key, Outcome.NOT_ATTEMPTED)
        else:
            result, state = _apply_one(upload, state, provider, backend, preflight)
            failed = result.outcome is Outcome.FAILED
        results.append(result)
        if progress is not None:
            progress(result)
    return ApplyResult(tuple(results), state, plan)


def _apply_one(
    upload: Upload,
    state: State,
    provider: Provider,
    backend: StateBackend,
    preflight: PreflightCheck | None,
) -> tuple[AddressResult, State]:
    started = monotonic()
    key = upload.key
    request_id = None
    try:
        if upload.sends:
            if preflight is not None:
                preflight(upload)
            request_id = provider.write_schema(
                key.integration_id, key.object_type, upload.body
            ).request_id
    except CrmformError as error:
        return AddressResult(key, Outcome.FAILED, monotonic() - started, error=error), state
    try:
        state = backend.write(state.with_object(upload.after))
    except CrmformError as error:
        # The remote has the change but state does not: state lags (safe: the next plan
        # resends the same fields), but the user must hear exactly what happened.
        accepted = f" (requestId {request_id})" if request_id else ""
        lagging = StateError(
            f"Gong accepted the upload for {key}{accepted}, but saving the state failed: "
            f"{error} The state still shows the previous schema for {key}; fix the cause and "
            "run `crmform apply` again (it resends the same fields, which is harmless)."
        )
        return AddressResult(key, Outcome.FAILED, monotonic() - started, request_id, lagging), state
    outcome = Outcome.APPLIED if upload.sends else Outcome.STATE_ONLY
    return AddressResult(key, outcome, monotonic() - started, request_id), state

"""apply (and its dry run): lock, settle pending uploads, plan or verify the saved plan, show,
check Gong, approve, apply, persist."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from crmform.engine import applier, planner
from crmform.engine.applier import AddressResult, ApplyResult
from crmform.engine.errors import CrmformError, PendingUploadError
from crmform.engine.model import Change, Desired, FieldRef, ObjectKey, Plan, State, replace
from crmform.engine.operations.lock import locked
from crmform.engine.payload import Upload, uploads
from crmform.engine.ports import Provider, StateBackend
from crmform.engine.preflight import RemoteGuard, read_remote
from crmform.engine.remote_diff import UnsentAttributes
from crmform.engine.settle import Settled, Settlement, body_digest, settle
from crmform.engine.words import pending_refusal

__all__ = ["ApplyHooks", "ApplyRequest", "ProviderFactory", "apply", "dry_run", "sent_uploads"]

ProviderFactory = Callable[[], Provider]


@dataclass(frozen=True, slots=True)
class ApplyRequest:
    """What to apply: the files' desired schema, or a saved plan (then `saved_from` names
    its file). `directory` names the schema directory in hints. `environment` is the
    crmform.toml environment selected ("" when none): the plan names it, and a saved plan
    made for another one is refused before anything is read or sent."""

    desired: Desired | None = None
    saved: Plan | None = None
    saved_from: str = ""
    directory: str = "."
    environment: str = ""
    check_remote: bool = True  # read Gong before the first POST (not with --no-refresh)
    verify: bool = True  # read each object type back after its upload (not with --no-verify)
    discard_pending: bool = False  # send even while an earlier upload's outcome is unknown
    operation: str = "crmform apply"
    lock_timeout: float = 0.0
    now: str = ""


class ApplyHooks(Protocol):
    """What apply shows and asks while it runs (the command's view implements it)."""

    def planned(self, plan: Plan) -> None:
        """The plan is known: show it (before anyone is asked anything)."""

    def approve(self, plan: Plan) -> None:
        """Raise ApprovalRequired unless the plan may be applied."""

    def checked(self, count: int, since_plan: bool, unreported: tuple[Change, ...]) -> None:
        """Gong's schema of `count` addresses was read and nothing stops the run;
        `unreported` are the changes to values or targets Gong did not report."""

    def settled(self, settlement: Settlement, discarded: bool) -> None:
        """An earlier upload of unknown outcome was settled by reading Gong."""

    def progress(self, result: AddressResult) -> None:
        """One address was applied, failed, or not attempted."""

    def reading(self, count: int) -> None:
        """Gong's schema of `count` addresses is about to be read."""

    def unsent(self, fields: tuple[tuple[ObjectKey, UnsentAttributes], ...]) -> None:
        """Gong reports attributes of these fields that the uploads will not send."""

    def waiting(self, holder: str, seconds: float) -> None:
        """The state lock is held (`holder` says by whom); waiting up to `seconds`."""

    def sending(self, index: int, total: int, upload: Upload) -> None:
        """Upload `index` of `total` is about to be sent."""


def apply(
    request: ApplyRequest,
    backend: StateBackend,
    provider_factory: ProviderFactory,
    hooks: ApplyHooks,
) -> ApplyResult:
    """Lock, plan (or verify the saved plan), show, approve, check Gong, apply, persist."""
    # A saved plan of another environment is refused first: no credentials, lock or read.
    _check_environment(request.saved, request.environment, request.saved_from)
    # Credentials are checked before the lock is taken or anyone is asked anything.
    provider = provider_factory()
    with locked(backend, request.operation, request.lock_timeout, hooks.waiting):
        stored, unsettled = _settle(backend, provider, request.discard_pending, hooks)
        the_plan = _current_plan(request, stored)
        hooks.planned(the_plan)
        if the_plan.is_empty:
            return ApplyResult((), the_plan.prior, the_plan)
        _refuse_while_pending(the_plan, unsettled, request.now)
        # The uploads are built, and the first one's body encoded, in the pauses between
        # the reads below (pure work: nothing is sent or written before approval).
        preparation = applier.Preparation(the_plan, request.now, provider)
        guard = None
        if request.check_remote:
            # One GET per address to write, all before the first POST and before anyone is
            # asked (engine/preflight.py): the answer may change what needs consent.
            guard = RemoteGuard(
                provider,
                the_plan,
                directory=_directory_hint(request, the_plan),
                source=request.saved_from,
            )
            hooks.reading(len(guard.keys()))
            count = guard.check_all(between=preparation.step)
            the_plan = replace(
                the_plan, unreported=tuple(sorted({*the_plan.unreported, *guard.unreported}))
            )
            if count:
                hooks.checked(count, the_plan.drift is not None, _unreported_changes(the_plan))
            if guard.unsent:
                hooks.unsent(guard.unsent)
        hooks.approve(the_plan)
        return applier.apply(
            the_plan,
            provider,
            backend,
            now=request.now,
            preflight=guard,
            progress=hooks.progress,
            verify=request.verify,
            sending=hooks.sending,
            preparation=preparation,
        )


def _unreported_changes(the_plan: Plan) -> tuple[Change, ...]:
    """Changes to values or targets that Gong did not report: what Gong has is unknown."""
    refs = set(the_plan.unreported)
    return tuple(
        c
        for c in the_plan.changes
        if FieldRef(c.key, c.unique_name) in refs
        and c.before is not None
        and c.after is not None
        and (
            c.before.ordered_value_list != c.after.ordered_value_list
            or c.before.reference_to != c.after.reference_to
        )
    )


def _settle(
    backend: StateBackend, provider: Provider, discard: bool, hooks: ApplyHooks
) -> tuple[State, tuple[Settlement, ...]]:
    """The stored state with every pending upload that Gong shows recorded as applied (and,
    with `discard`, every other one dropped); what is still unsettled."""
    state = backend.read()
    if not state.pending:
        return state, ()
    remotes = read_remote(provider, [p.key for p in state.pending])
    unsettled: list[Settlement] = []
    changed = False
    for record in state.pending:
        found = settle(record, state.get(record.key), remotes[record.key])
        if found.outcome is Settled.APPLIED:
            state = state.applied(record.after, record.started)
        elif discard:
            state = state.without_pending(record.key)
        else:
            unsettled.append(found)
            continue
        changed = True
        hooks.settled(found, discarded=found.outcome is not Settled.APPLIED)
    if changed:
        state = backend.write(state)
    return state, tuple(unsettled)


def _refuse_while_pending(the_plan: Plan, unsettled: tuple[Settlement, ...], now: str) -> None:
    """No upload to an address whose earlier upload may still land, unless it is the same
    upload again (resending it settles it either way)."""
    if not unsettled:
        return  # the usual case: no uploads to build for nothing
    sending = {u.key: u for u in sent_uploads(the_plan, now)}
    blocked = []
    for found in unsettled:
        upload = sending.get(found.record.key)
        if upload is None:
            continue
        same = found.outcome is Settled.NOT_SEEN and body_digest(upload.body) == found.record.digest
        if not same:
            blocked.append(found)
    if blocked:
        raise PendingUploadError(pending_refusal(blocked))


def _current_plan(request: ApplyRequest, stored: State) -> Plan:
    from crmform.engine.formats import planfile

    if request.saved is not None:
        return planfile.bound(request.saved, stored, request.saved_from)
    if request.desired is None:
        raise CrmformError("Nothing to apply: pass a schema directory or a saved plan.")
    return replace(planner.plan(request.desired, stored), environment=request.environment)


def _check_environment(saved: Plan | None, environment: str, source: str) -> None:
    if saved is not None:
        from crmform.engine.formats.planfile import check_environment

        check_environment(saved, environment, source)


def _directory_hint(request: ApplyRequest, the_plan: Plan) -> str:
    if request.saved is None:
        return request.directory
    # A saved plan knows the files it was made from; messages name their directory.
    sources = sorted({str(Path(o.source).parent) for o in the_plan.desired.objects if o.source})
    return sources[0] if sources else "DIR"


def dry_run(
    desired: Desired | None,
    saved: Plan | None,
    backend: StateBackend,
    *,
    environment: str = "",
    saved_from: str = "",
) -> Plan:
    """The plan apply would carry out; nothing is locked, sent or written (its requests are
    `sent_uploads(plan, now)`). A saved plan of another environment is refused, as by apply."""
    _check_environment(saved, environment, saved_from)
    if saved is not None:
        return saved
    if desired is None:
        raise CrmformError("Nothing to apply: pass a schema directory or a saved plan.")
    return replace(planner.plan(desired, backend.read()), environment=environment)


def sent_uploads(the_plan: Plan, now: str) -> tuple[Upload, ...]:
    """The uploads that go over the wire for `the_plan` (state-only ones left out)."""
    return tuple(u for u in uploads(the_plan, now) if u.sends)


# --- refresh and import ----------------------------------------------------------------------

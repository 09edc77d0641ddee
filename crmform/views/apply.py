"""What apply shows and asks: the plan, the approval prompt, the check of Gong, progress per
object type, the closing summary (or JSON result), and the requests of a dry run."""

from __future__ import annotations

from dataclasses import dataclass
from itertools import chain

import click

from crmform.engine import words
from crmform.engine.applier import AddressResult, ApplyResult, Outcome
from crmform.engine.errors import ApprovalRequired
from crmform.engine.model import Action, Change, ObjectKey, Plan
from crmform.engine.payload import Upload
from crmform.engine.ports import WritePreviewer
from crmform.engine.remote_diff import UnsentAttributes
from crmform.engine.settle import Settlement
from crmform.views import echo, echo_chunks, err, terminal_safe, waiting_for_lock
from crmform.views.plan import render

__all__ = ["ApplyView", "print_requests", "report"]


@dataclass(frozen=True)
class ApplyView:
    """The hooks of `operations.apply` for a terminal (engine.operations.apply.ApplyHooks)."""

    color: bool
    auto_approve: bool
    allow_destroy: bool
    interactive: bool
    as_json: bool  # stdout carries the JSON result: the plan goes to stderr
    state_location: str
    approve_digest: str | None = None  # --approve-data-loss

    def planned(self, plan: Plan) -> None:
        if not plan.stored.lineage:
            err(f"Warning: {words.no_state(self.state_location)}")
        click.echo(render(plan, "text", self.color), nl=False, err=self.as_json)
        if not plan.is_empty and not self.auto_approve and not self.interactive:
            # Known before Gong is read: refuse at once, with nothing sent.
            raise ApprovalRequired(
                "Cannot ask for approval: this is not an interactive terminal. Nothing was "
                "sent. Review the plan and rerun with --auto-approve (and --allow-destroy or "
                "--approve-data-loss DIGEST if it affects data)."
            )

    def approve(self, plan: Plan) -> None:
        affected = plan.data_affecting
        if self.auto_approve:
            words.check_consent(plan, self.allow_destroy, self.approve_digest)
            return
        echo("")
        for line in words.data_loss_lines(plan, affected):
            echo(terminal_safe(line))
        if affected:
            echo("")
        echo("Do you want to perform these actions? Only 'yes' will be accepted to approve.")
        answer = click.prompt("Enter a value", default="", show_default=False, prompt_suffix=": ")
        if answer.strip() != "yes":
            raise ApprovalRequired("Apply cancelled: the answer was not 'yes'. Nothing was sent.")

    def checked(self, count: int, since_plan: bool, unreported: tuple[Change, ...]) -> None:
        for change in unreported:
            err(
                f"Warning: Gong did not report the values or target of "
                f"{words.change_name(change)}; the upload replaces whatever Gong has with "
                "what the files say (values added in Gong outside crmform would be removed)."
            )
        if since_plan:
            err(
                f"Read Gong's schema of {words.count(count, 'object type')}: unchanged since "
                "the plan was made."
            )
        else:
            err(
                f"Read Gong's schema of {words.count(count, 'object type')}: nothing changed "
                "outside crmform."
            )

    def settled(self, settlement: Settlement, discarded: bool) -> None:
        record = settlement.record
        if discarded:
            err(
                f"{record.key}: dropped the record of the upload sent at {record.started} "
                "(--discard-pending); its outcome is still unknown."
            )
        else:
            err(
                f"{record.key}: the upload sent at {record.started}, whose outcome was "
                "unknown, shows in Gong: recorded as applied."
            )

    def waiting(self, holder: str, seconds: float) -> None:
        waiting_for_lock(holder, seconds)

    def unsent(self, fields: tuple[tuple[ObjectKey, UnsentAttributes], ...]) -> None:
        for key, item in fields:
            keys = ", ".join(terminal_safe(k) for k in item.keys[:5])
            err(
                f"Warning: Gong reports attributes crmform does not manage for {key} "
                f"{terminal_safe(item.unique_name)} ({keys}); the upload lists the field "
                "without them, which may reset them in Gong."
            )

    def reading(self, count: int) -> None:
        from crmform.cli import collect_from_now

        collect_from_now()  # the plan is made; from here on httpx makes garbage cycles
        if count:
            err(f"Reading Gong's schema of {words.count(count, 'object type')}...")

    def sending(self, index: int, total: int, upload: Upload) -> None:
        from crmform.cli import collect_from_now

        collect_from_now()  # with --no-refresh nothing was read before this first POST
        fields = words.count(len(upload.body), "field")
        err(f"[{index}/{total}] sending {upload.key.object_type} ({fields})...")

    def progress(self, result: AddressResult) -> None:
        if result.outcome is Outcome.NOT_ATTEMPTED:
            err(f"{result.key}: not attempted (an earlier object type failed)")
            return
        took = f"{result.seconds:.1f}s"
        if result.outcome is Outcome.FAILED:
            err(f"{result.key}: FAILED after {took}: {result.error}")
        elif result.outcome is Outcome.UNCERTAIN:
            err(f"{result.key}: OUTCOME UNKNOWN after {took}: {result.error}")
        elif result.outcome is Outcome.STATE_ONLY:
            err(f"{result.key}: state updated in {took} (nothing to send)")
        else:
            rid = f", requestId {result.request_id}" if result.request_id else ""
            err(f"{result.key}: applied in {took}{rid}")


_PAST = {
    Action.CREATE: "created",
    Action.UPDATE: "updated",
    Action.REPLACE: "replaced",
    Action.DELETE: "deleted",
    Action.PROTECT: "protection changed",
}


def report(result: ApplyResult, as_json: bool) -> None:
    """The closing summary on stderr (and with --format json the result on stdout)."""
    if as_json:
        from crmform.engine.formats.apply_json import iter_apply_json

        echo_chunks(chain(iter_apply_json(result), "\n"), plain=True)
    if not result.results:  # nothing to do; the plan said so
        return
    counts = result.counts()
    done = ", ".join(
        f"{counts[a]} {word}" for a, word in _PAST.items() if a is not Action.PROTECT or counts[a]
    )
    if result.ok:
        err(f"Apply complete: {done}.")
        return
    stopped = [r for r in result.results if r.outcome in (Outcome.FAILED, Outcome.UNCERTAIN)]
    skipped = [str(r.key) for r in result.results if r.outcome is Outcome.NOT_ATTEMPTED]
    if result.interrupted:
        where = f" at {stopped[0].key}" if stopped else ""
        err(f"Apply interrupted{where}. Done before the interruption: {done}.")
    else:
        err(f"Apply failed at {stopped[0].key}. Done before the failure: {done}.")
    if skipped:
        err(f"Not attempted: {', '.join(skipped)}. Run `crmform apply` again once fixed.")
    elif result.interrupted:
        err("Run `crmform apply` again to finish.")


def print_requests(sent: tuple[Upload, ...], previewer: WritePreviewer) -> None:
    """The exact requests of a dry run, then a line saying nothing was sent."""
    for upload in sent:
        key = upload.key
        request = previewer.preview_write(key.integration_id, key.object_type, upload.body)
        echo(f"{request.method} {request.url}")
        echo(request.body)
        echo("")
    err(f"Dry run: {words.count(len(sent), 'request')} shown, nothing sent, state not changed.")

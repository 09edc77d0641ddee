"""`crmform apply`: plan (or load a saved plan), ask, upload, save state per object type."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import click

from crmform.console import (
    EXIT_ERROR,
    EXIT_OK,
    ProviderOptions,
    err,
    excluded,
    gong_options,
    load_desired,
    local_backend,
    lock_timeout_option,
    no_color_option,
    operation,
    read_text,
    render,
    runtime,
    state_option,
)
from crmform.engine.errors import ApprovalRequired
from crmform.engine.model import Action

if TYPE_CHECKING:
    from crmform.engine.applier import AddressResult, ApplyResult
    from crmform.engine.model import Desired, Plan


_result_format_option = click.option(
    "--format",
    "fmt",
    type=click.Choice(["text", "json"]),
    default="text",
    envvar="CRMFORM_FORMAT",
    show_default=True,
    show_envvar=True,
    help="json: print the result as one JSON document on stdout (per address: applied, "
    "failed or not attempted; see docs/apply-json.md); the plan and progress go to stderr. "
    "Needs --auto-approve.",
)


@click.command()
@click.argument("target", metavar="[DIR | PLANFILE]", default=".", type=click.Path(path_type=Path))
@state_option
@click.option(
    "--auto-approve",
    is_flag=True,
    envvar="CRMFORM_AUTO_APPROVE",
    show_envvar=True,
    help="Apply without asking. Plans that delete data also need --allow-destroy.",
)
@click.option(
    "--allow-destroy",
    is_flag=True,
    envvar="CRMFORM_ALLOW_DESTROY",
    show_envvar=True,
    help="With --auto-approve: allow replacing or deleting fields (their data is deleted).",
)
@click.option(
    "--dry-run",
    is_flag=True,
    envvar="CRMFORM_DRY_RUN",
    show_envvar=True,
    help="Print the exact requests apply would send, and send nothing.",
)
@click.option(
    "--no-refresh",
    is_flag=True,
    envvar="CRMFORM_NO_REFRESH",
    show_envvar=True,
    help="Do not read Gong's schema before writing: skips the check for changes made "
    "outside crmform (or, for a plan saved with --refresh, since the plan).",
)
@lock_timeout_option
@no_color_option
@_result_format_option
@gong_options
def apply(
    target: Path,
    state_path: Path,
    auto_approve: bool,
    allow_destroy: bool,
    dry_run: bool,
    no_refresh: bool,
    lock_timeout: float,
    no_color: bool,
    fmt: str,
    provider_options: ProviderOptions,
) -> int:
    """Make Gong match the files in DIR, or carry out a plan saved with `plan --out`.

    Every upload lists all fields of the object type (deleted ones as isDeleted tombstones),
    and the state is saved after each accepted upload. Credentials come from the environment:
    GONG_ACCESS_KEY and GONG_ACCESS_KEY_SECRET, or GONG_BEARER_TOKEN.
    """
    from crmform.commands.remote import check_remote
    from crmform.engine import applier, planner
    from crmform.engine.formats import planfile
    from crmform.engine.payload import timestamp

    rt = runtime()
    as_json = _json_result(fmt, auto_approve, dry_run)
    saved = planfile.loads(read_text(target), str(target)) if target.is_file() else None
    desired = None
    if saved is None:
        desired = load_desired(target, excluded(state_path))
    backend = local_backend(state_path)
    color = rt.color(no_color)
    options = provider_options
    if dry_run:
        state = backend.read()
        the_plan = saved if saved is not None else planner.plan(_given(desired), state)
        base_url = options.base_url or rt.env.get("GONG_BASE_URL")
        _print_requests(the_plan, base_url, timestamp(rt.now()))
        return EXIT_OK
    # Credentials are checked before the lock is taken or anyone is asked anything.
    provider = rt.provider_factory(rt.env, options)
    with backend.lock(operation(), lock_timeout):
        state = backend.read()
        if saved is not None:
            planfile.check_current(saved, state, str(target))
            the_plan = saved
        else:
            the_plan = planner.plan(_given(desired), state)
        _show_plan(the_plan, color, to_stderr=as_json)
        if the_plan.is_empty:
            return _report(applier.ApplyResult((), the_plan.prior, the_plan), as_json)
        _approve(the_plan, auto_approve, allow_destroy, rt.interactive)
        # One GET per address to write, all before the first POST (see engine/preflight.py).
        is_saved = saved is not None
        guard = None if no_refresh else check_remote(provider, the_plan, target, is_saved)
        result = applier.apply(
            the_plan,
            provider,
            backend,
            now=timestamp(rt.now()),
            preflight=guard,
            progress=_progress,
        )
    return _report(result, as_json)


def _given(desired: Desired | None) -> Desired:
    if desired is None:  # only when a saved plan was given, which never reaches here
        raise AssertionError("no desired schema loaded")
    return desired


def _show_plan(the_plan: Plan, color: bool, *, to_stderr: bool = False) -> None:
    # With --format json, stdout holds the result document alone; the plan goes to stderr.
    click.echo(render(the_plan, "text", color), nl=False, err=to_stderr)


def _approve(the_plan: Plan, auto_approve: bool, allow_destroy: bool, interactive: bool) -> None:
    destructive = the_plan.destructive
    names = ", ".join(f"{c.key} {c.unique_name}" for c in destructive)
    if auto_approve:
        if destructive and not allow_destroy:
            raise ApprovalRequired(
                f"The plan deletes the data of {len(destructive)} field(s): {names}. "
                "Nothing was sent. Review the plan and rerun with --allow-destroy to allow it."
            )
        return
    if not interactive:
        raise ApprovalRequired(
            "Cannot ask for approval: this is not an interactive terminal. Nothing was sent. "
            "Review the plan and rerun with --auto-approve (and --allow-destroy if it "
            "deletes data)."
        )
    click.echo("")
    if destructive:
        which = "this field" if len(destructive) == 1 else f"these {len(destructive)} fields"
        click.echo(f"The data of {which} will be DELETED in Gong:")
        for change in destructive:
            click.echo(f"  - {change.key} {change.unique_name} ({change.action.value})")
        click.echo("")
    click.echo("Do you want to perform these actions? Only 'yes' will be accepted to approve.")
    answer = click.prompt("Enter a value", default="", show_default=False, prompt_suffix=": ")
    if answer.strip() != "yes":
        raise ApprovalRequired("Apply cancelled: the answer was not 'yes'. Nothing was sent.")


def _progress(result: AddressResult) -> None:
    from crmform.engine.applier import Outcome

    if result.outcome is Outcome.NOT_ATTEMPTED:
        err(f"{result.key}: not attempted (an earlier object type failed)")
        return
    took = f"{result.seconds:.1f}s"
    if result.outcome is Outcome.FAILED:
        err(f"{result.key}: FAILED after {took}: {result.error}")
    elif result.outcome is Outcome.STATE_ONLY:
        err(f"{result.key}: state updated in {took} (nothing to send)")
    else:
        rid = f", requestId {result.request_id}" if result.request_id else ""
        err(f"{result.key}: applied in {took}{rid}")


def _json_result(fmt: str, auto_approve: bool, dry_run: bool) -> bool:
    """True for --format json, whose stdout is one JSON document: so no prompt on it."""
    if fmt != "json":
        return False
    if dry_run:
        raise click.UsageError(
            "--dry-run prints the requests as text; it does not combine with --format json. "
            "Drop one of them."
        )
    if not auto_approve:
        raise click.UsageError(
            "--format json needs --auto-approve: stdout carries the JSON result, so apply "
            "cannot ask for approval there. Review the plan first (a saved plan is best) and "
            "rerun with --auto-approve."
        )
    return True


_PAST = {
    Action.CREATE: "created",
    Action.UPDATE: "updated",
    Action.REPLACE: "replaced",
    Action.DELETE: "deleted",
    Action.PROTECT: "protection changed",
}


def _report(result: ApplyResult, as_json: bool = False) -> int:
    from crmform.engine.applier import Outcome

    if as_json:
        import json

        from crmform.engine.formats.apply_json import apply_result_to_json

        click.echo(json.dumps(apply_result_to_json(result), indent=2))
    if not result.results:  # nothing to do; the plan said so
        return EXIT_OK
    counts = result.counts()
    done = ", ".join(
        f"{counts[a]} {word}" for a, word in _PAST.items() if a is not Action.PROTECT or counts[a]
    )
    if result.ok:
        err(f"Apply complete: {done}.")
        return EXIT_OK
    failed = [r for r in result.results if r.outcome is Outcome.FAILED]
    skipped = [str(r.key) for r in result.results if r.outcome is Outcome.NOT_ATTEMPTED]
    err(f"Apply failed at {failed[0].key}. Done before the failure: {done}.")
    if skipped:
        err(f"Not attempted: {', '.join(skipped)}. Run `crmform apply` again once fixed.")
    return EXIT_ERROR


def _print_requests(the_plan: Plan, base_url: str | None, now: str) -> None:
    import json

    from crmform.engine.payload import uploads
    from crmform.providers.gong.settings import schema_url

    sent = 0
    for upload in uploads(the_plan, now):
        if not upload.sends:
            continue
        sent += 1
        key = upload.key
        click.echo(f"POST {schema_url(base_url, key.integration_id, key.object_type)}")
        click.echo(json.dumps(list(upload.body), indent=2))
        click.echo("")
    err(f"Dry run: {sent} request(s) shown, nothing sent, state not changed.")

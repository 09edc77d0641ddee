"""`crmform apply`: parse, call operations.apply (or dry_run), hand the result to the view."""

from __future__ import annotations

from pathlib import Path

import click

from crmform.engine.errors import CrmformError
from crmform.engine.operations import apply as apply_op
from crmform.engine.operations.files import load_files
from crmform.engine.payload import timestamp
from crmform.exits import EXIT_ERROR, EXIT_OK
from crmform.options import (
    gong_options,
    lock_timeout_option,
    no_color_option,
    schema_dir_default,
    state_option,
)
from crmform.runtime import (
    ProviderOptions,
    environment_name,
    excluded,
    operation,
    runtime,
    state_backend,
)
from crmform.views import read_text, warnings
from crmform.views.apply import ApplyView, print_requests, report

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
@click.argument(
    "target",
    metavar="[DIR | PLANFILE]",
    default=".",
    type=click.Path(path_type=Path),
    callback=schema_dir_default,  # crmform.toml's schema_dir when neither is given
)
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
    help="With --auto-approve: allow every change that deletes data (replace, delete) or may "
    "orphan it (picklist values removed, referenceTo changed).",
)
@click.option(
    "--approve-data-loss",
    "approve_digest",
    metavar="DIGEST",
    envvar="CRMFORM_APPROVE_DATA_LOSS",
    show_envvar=True,
    help="With --auto-approve: allow exactly the data-affecting changes whose digest the plan "
    "prints (and nothing else).",
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
@click.option(
    "--no-verify",
    is_flag=True,
    envvar="CRMFORM_NO_VERIFY",
    show_envvar=True,
    help="Do not read each object type back after its upload to check that Gong has what "
    "was sent (saves one request per object type).",
)
@click.option(
    "--discard-pending",
    is_flag=True,
    envvar="CRMFORM_DISCARD_PENDING",
    show_envvar=True,
    help="Send even though an earlier upload to the same object type has an unknown outcome "
    "and Gong does not show it: if it lands later, it undoes this apply.",
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
    approve_digest: str | None,
    dry_run: bool,
    no_refresh: bool,
    no_verify: bool,
    discard_pending: bool,
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
    from crmform.engine.formats import planfile

    rt = runtime()
    as_json = _json_result(fmt, auto_approve, dry_run)
    _check_target(target)
    saved = planfile.loads(read_text(target), str(target)) if target.is_file() else None
    desired = None
    if saved is None:
        loaded = load_files(target, rt.env, excluded(state_path))
        warnings(loaded.warnings)
        desired = loaded.desired
    backend = state_backend(state_path)
    now = timestamp(rt.now())
    if dry_run:
        the_plan = apply_op.dry_run(
            desired, saved, backend, environment=environment_name(), saved_from=str(target)
        )
        print_requests(apply_op.sent_uploads(the_plan, now), rt.previewer(provider_options))
        return EXIT_OK
    request = apply_op.ApplyRequest(
        desired=desired,
        saved=saved,
        saved_from=str(target) if saved is not None else "",
        directory=str(target),
        environment=environment_name(),
        check_remote=not no_refresh,
        verify=not no_verify,
        discard_pending=discard_pending,
        operation=operation(),
        lock_timeout=lock_timeout,
        now=now,
    )
    view = ApplyView(
        rt.color(no_color),
        auto_approve,
        allow_destroy,
        rt.interactive,
        as_json,
        backend.location,
        approve_digest,
    )
    result = apply_op.apply(request, backend, lambda: rt.provider(provider_options), view)
    report(result, as_json)
    return EXIT_OK if result.ok else EXIT_ERROR


_TAKES = "apply takes a folder of schema files, or a plan saved with `crmform plan --out FILE`"


def _check_target(target: Path) -> None:
    if not target.exists():
        raise CrmformError(f"{target} does not exist: {_TAKES}.")
    if target.is_file() and target.suffix in (".yaml", ".yml"):
        raise CrmformError(
            f"{target} is a schema file, not a saved plan: {_TAKES}. Pass its folder "
            f"({target.parent})."
        )
    if target.is_file() and target.suffix == ".json" and not _looks_like_plan(target):
        raise CrmformError(
            f"{target} is not a saved plan (it looks like a schema file): {_TAKES}. Pass its "
            f"folder ({target.parent})."
        )


def _looks_like_plan(path: Path) -> bool:
    with path.open("rb") as handle:
        return b'"format_version"' in handle.read(4096)


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

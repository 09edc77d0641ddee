"""`crmform refresh` and `crmform import`: read Gong's schema into the state (GETs only).

Also the remote reading that `plan --refresh` and `apply` share: the commands stay thin and
the logic lives in engine/drift.py and engine/preflight.py.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import click

from crmform.console import (
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
    runtime,
    state_option,
    write_text,
)
from crmform.engine.errors import CrmformError
from crmform.engine.model import (
    DEFAULT_PROVIDER,
    INTEGRATION_ID_MAX,
    ObjectKey,
    ObjectSchema,
    ObjectType,
)

if TYPE_CHECKING:
    from crmform.engine.model import FieldDrift, Plan, State
    from crmform.engine.ports import Provider
    from crmform.engine.preflight import RemoteGuard


def refreshed_plan(
    directory: Path, state: State, exclude: Sequence[Path], options: ProviderOptions
) -> Plan:
    """`plan --refresh`: validate the files, read the remote of every address in the state
    or the files (one GET each), and plan against the refreshed view. Writes nothing."""
    from crmform.engine import drift
    from crmform.engine.preflight import read_remote

    rt = runtime()
    desired = load_desired(directory, exclude)
    provider = rt.provider_factory(rt.env, options)
    remotes = read_remote(provider, drift.addresses(state, desired))
    return drift.plan_refreshed(desired, state, remotes)


def check_remote(provider: Provider, plan: Plan, target: Path, saved: bool) -> RemoteGuard:
    """apply's check before the first POST: raises if Gong changed outside crmform (or, for
    a plan saved with --refresh, since the plan). Returns the applier's preflight hook."""
    from crmform.engine.preflight import RemoteGuard

    directory = _directory_hint(plan, target, saved)
    source = str(target) if saved else ""
    guard = RemoteGuard(provider, plan, directory=directory, source=source)
    count = guard.check_all()
    if count and plan.drift is not None:
        err(f"Read Gong's schema of {count} object type(s): unchanged since the plan was made.")
    elif count:
        err(f"Read Gong's schema of {count} object type(s): nothing changed outside crmform.")
    return guard


def _directory_hint(plan: Plan, target: Path, saved: bool) -> str:
    if not saved:
        return str(target)
    # A saved plan knows the files it was made from; messages name their directory.
    sources = sorted({str(Path(o.source).parent) for o in plan.desired.objects if o.source})
    return sources[0] if sources else "DIR"


@click.command()
@click.argument(
    "directory",
    metavar="[DIR]",
    required=False,
    type=click.Path(file_okay=False, path_type=Path),
)
@state_option
@lock_timeout_option
@no_color_option
@gong_options
def refresh(
    directory: Path | None,
    state_path: Path,
    lock_timeout: float,
    no_color: bool,
    provider_options: ProviderOptions,
) -> int:
    """Record in the state what changed in Gong outside crmform.

    Reads Gong's schema of every object type the state records, and of those declared in the
    schema files of DIR when given (DIR must then be valid); shows fields added, deleted or
    changed in Gong, and writes the state once. Only reads are sent to Gong; the schema files
    are not changed. Run `crmform plan DIR` afterwards to see what apply would do now.
    """
    from crmform.engine import drift
    from crmform.engine.preflight import read_remote
    from crmform.engine.render.drift import drift_lines

    rt = runtime()
    desired = None
    if directory is not None:
        desired = load_desired(directory, excluded(state_path))
    provider = rt.provider_factory(rt.env, provider_options)
    backend = local_backend(state_path)
    with backend.lock(operation(), lock_timeout):
        state = backend.read()
        keys = drift.addresses(state, desired)
        if not keys:
            click.echo(
                f"Nothing to refresh: the state {backend.location} records no object types. "
                "Pass the schema directory, or adopt Gong's schema with "
                "`crmform import --integration-id N`."
            )
            return EXIT_OK
        remotes = read_remote(provider, keys)
        found = drift.compare_all(state, remotes)
        click.echo("\n".join(drift_lines(found, color=rt.color(no_color))))
        updated = drift.refreshed(state, remotes)
        if updated.objects == state.objects:
            click.echo(f"The state {backend.location} was not changed (serial {state.serial}).")
            return EXIT_OK
        written = backend.write(updated)
    click.echo(
        f"Recorded Gong's schema of {len(keys)} object type(s) in the state "
        f"{backend.location} (serial {written.serial}): {_counts(found)}."
    )
    return EXIT_OK


def _counts(found: Sequence[FieldDrift]) -> str:
    words = {"added": "added", "removed": "deleted", "changed": "changed"}
    counts = {kind: sum(1 for d in found if d.kind.value == kind) for kind in words}
    return ", ".join(f"{counts[k]} {word}" for k, word in words.items()) + " in Gong"


@click.command("import")
@click.option(
    "--integration-id",
    required=True,
    type=click.IntRange(1, INTEGRATION_ID_MAX),
    envvar="CRMFORM_IMPORT_INTEGRATION_ID",
    show_envvar=True,
    help="The id of your Gong CRM integration.",
)
@click.option(
    "--object-type",
    type=click.Choice([t.value for t in ObjectType]),
    envvar="CRMFORM_IMPORT_OBJECT_TYPE",
    show_envvar=True,
    help="Import only this object type (default: all four).",
)
@click.option(
    "--write-config",
    "write_config",
    type=click.Path(file_okay=False, path_type=Path),
    envvar="CRMFORM_IMPORT_WRITE_CONFIG",
    show_envvar=True,
    help="Also write one schema file per object type into this directory.",
)
@click.option(
    "--force",
    is_flag=True,
    envvar="CRMFORM_IMPORT_FORCE",
    show_envvar=True,
    help="Replace object types already in the state, and overwrite existing schema files.",
)
@state_option
@lock_timeout_option
@gong_options
def import_(
    integration_id: int,
    object_type: str | None,
    write_config: Path | None,
    force: bool,
    state_path: Path,
    lock_timeout: float,
    provider_options: ProviderOptions,
) -> int:
    """Adopt Gong's current schema into the state (and optionally into schema files).

    One read per object type; object types without custom fields are skipped. Object types
    the state already records are refused unless --force (which keeps their protect flags).
    With --write-config DIR, `crmform plan DIR` afterwards reports no changes, except where
    Gong did not return a picklist's values or a reference's target: the file then says so
    in a comment, and validation asks you to fill them in.
    """
    from crmform.engine import drift
    from crmform.engine.config.writer import file_name

    rt = runtime()
    provider = rt.provider_factory(rt.env, provider_options)
    backend = local_backend(state_path)
    wanted = ObjectType(object_type) if object_type is not None else None
    with backend.lock(operation(), lock_timeout):
        state = backend.read()
        answer = provider.read_schema(integration_id, wanted)
        adopted: list[ObjectSchema] = []
        report: list[str] = []
        for each in [wanted] if wanted is not None else list(ObjectType):
            key = ObjectKey(DEFAULT_PROVIDER, integration_id, each)
            remote = answer.get(each)
            if remote is None or not remote.fields:
                report.append(f"  {key}: no custom fields in Gong, skipped")
                continue
            adopted.append(drift.refreshed_object(key, state.get(key), remote))
            report.append(f"  {key}: {len(adopted[-1].fields)} field(s)")
        if not adopted:
            click.echo("Nothing to import: Gong has no custom fields there.")
            click.echo("\n".join(report))
            return EXIT_OK
        taken = [o.key.address for o in adopted if state.get(o.key) is not None]
        if taken and not force:
            raise CrmformError(
                f"The state {backend.location} already records {', '.join(taken)}; nothing "
                "was imported. To update the state from Gong, run `crmform refresh DIR` "
                "(it shows what changed); to adopt Gong's schema anyway, rerun with --force "
                "(protect flags are kept)."
            )
        files = [(write_config / file_name(o), o) for o in adopted] if write_config else []
        existing = [str(path) for path, _ in files if path.exists()]
        if existing and not force:
            raise CrmformError(
                f"{', '.join(existing)} already exist{'s' if len(existing) == 1 else ''}; "
                "nothing was imported. Choose another --write-config directory, or rerun "
                "with --force to overwrite."
            )
        for obj in adopted:
            state = state.with_object(obj)
        written = backend.write(state)
    click.echo(
        f"Imported Gong's schema into the state {backend.location} (serial {written.serial}):"
    )
    click.echo("\n".join(report))
    if write_config is None:
        return EXIT_OK
    _write_files(write_config, files)
    return EXIT_OK


def _write_files(directory: Path, files: Sequence[tuple[Path, ObjectSchema]]) -> None:
    from crmform.engine.config.writer import missing_details, object_yaml

    directory.mkdir(parents=True, exist_ok=True)
    todo = 0
    for path, obj in files:
        write_text(path, object_yaml(obj))
        click.echo(f"Wrote {path}")
        for f in missing_details(obj):
            todo += 1
            what = "orderedValueList" if f.type.value == "PICKLIST" else "referenceTo"
            err(
                f"Warning: {path}: fill in {what} of the field {f.unique_name} where the file "
                "says TODO (Gong did not return it), then run `crmform plan`."
            )
    if todo:
        click.echo(
            f"Next: fill in the {todo} TODO(s), then `crmform plan {directory}` shows only "
            "what you filled in, as updates."
        )
    else:
        click.echo(f"Next: `crmform plan {directory}` should report no changes.")

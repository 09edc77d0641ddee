"""`crmform state` and `crmform force-unlock`."""

from __future__ import annotations

from pathlib import Path

import click

from crmform.engine.errors import CrmformError
from crmform.engine.model import State
from crmform.exits import EXIT_OK
from crmform.options import state_option
from crmform.runtime import state_backend


@click.group()
def state() -> None:
    """Inspect, pull and push the state."""


@state.command("pull", short_help="Print the stored state document.")
@state_option
def state_pull(state_path: Path) -> int:
    """Print the stored state document (of the configured backend) to stdout."""
    from crmform.state.document import encode

    click.echo(encode(_existing(state_path)).decode("utf-8"), nl=False)
    return EXIT_OK


@state.command("push", short_help="Store a local state file into the configured backend.")
@click.argument("file", type=click.Path(dir_okay=False, exists=True, path_type=Path))
@click.option(
    "--force",
    is_flag=True,
    envvar="CRMFORM_STATE_PUSH_FORCE",
    show_envvar=True,
    help="Replace the stored state even when it is another lineage or a newer serial.",
)
@state_option
def state_push(file: Path, force: bool, state_path: Path) -> int:
    """Store the local state FILE into the configured backend (refusing another lineage or
    a lower serial unless --force): how a team moves from a committed state file."""
    from crmform.state.local import LocalState
    from crmform.state.transfer import push
    from crmform.views.backend import pushed

    backend = state_backend(state_path)
    pushed(push(backend, LocalState(file).read(), str(file), force=force), backend.location)
    return EXIT_OK


@state.command("list")
@state_option
def state_list(state_path: Path) -> int:
    """List the object types recorded in state, one address per line."""
    for obj in _existing(state_path).objects:
        click.echo(obj.key.address)
    return EXIT_OK


@state.command("show", short_help="Print the fields recorded in the state as JSON.")
@click.argument("address", required=False)
@state_option
def state_show(address: str | None, state_path: Path) -> int:
    """Print the fields recorded for ADDRESS (all addresses when omitted) as JSON."""
    import json

    from crmform.engine.formats.codec import objects_to_json, state_to_json

    current = _existing(state_path)
    if address is None:
        click.echo(json.dumps(state_to_json(current), indent=2))
        return EXIT_OK
    found = [o for o in current.objects if o.key.address == address]
    if not found:
        known = ", ".join(o.key.address for o in current.objects) or "none"
        raise CrmformError(f"No address {address} in {state_path}. Addresses in state: {known}.")
    click.echo(json.dumps(objects_to_json(tuple(found))[address], indent=2))
    return EXIT_OK


def _existing(state_path: Path) -> State:
    backend = state_backend(state_path)
    current = backend.read()
    if not current.lineage:
        raise CrmformError(
            f"No state at {backend.location}: nothing was ever applied with it. Check the "
            "path (--state, CRMFORM_STATE)."
        )
    return current


@click.command("force-unlock")
@click.argument("lock_id")
@state_option
@click.option(
    "--force",
    is_flag=True,
    envvar="CRMFORM_FORCE_UNLOCK_FORCE",
    show_envvar=True,
    help="Remove the lock even though its holder still runs on this host: its uploads and "
    "state writes may then interleave with the next command's and undo them.",
)
def force_unlock(lock_id: str, state_path: Path, force: bool) -> int:
    """Remove the state lock LOCK_ID left behind by a crashed or killed process."""
    info = state_backend(state_path).force_unlock(lock_id, force=force)
    click.echo(f"Removed {info.describe()}.")
    return EXIT_OK

"""`crmform emulator`: a local Gong for trying crmform and for CI."""

from __future__ import annotations

from pathlib import Path

import click

from crmform.engine.errors import CrmformError
from crmform.engine.words import count
from crmform.exits import EXIT_OK
from crmform.views import err


class _FaultRule(click.types.StringParamType):
    """A fault rule; its words are separated by spaces, so a variable separates rules by ;."""

    name = "rule"
    envvar_list_splitter = ";"


@click.command()
@click.option(
    "--host",
    default="127.0.0.1",
    show_default=True,
    envvar="CRMFORM_EMULATOR_HOST",
    show_envvar=True,
    help="Interface to listen on (loopback only, unless --allow-remote).",
)
@click.option(
    "--port",
    default=8765,
    show_default=True,
    envvar="CRMFORM_EMULATOR_PORT",
    show_envvar=True,
    type=click.IntRange(0, 65535),
    help="Port to listen on; 0 picks a free one (the line on stderr names it).",
)
@click.option(
    "--data",
    type=click.Path(dir_okay=False, path_type=Path),
    envvar="CRMFORM_EMULATOR_DATA",
    show_envvar=True,
    help="Keep the emulated schema in this JSON file (default: in memory).",
)
# Its own CRMFORM_EMULATOR_* names: a pipeline's GONG_* credentials never configure it.
@click.option(
    "--access-key",
    envvar="CRMFORM_EMULATOR_ACCESS_KEY",
    show_envvar=True,
    help="Require HTTP Basic auth with this access key (and --secret).",
)
@click.option(
    "--secret",
    envvar="CRMFORM_EMULATOR_SECRET",
    show_envvar=True,
    help="The access key secret that --access-key requires.",
)
@click.option(
    "--bearer",
    envvar="CRMFORM_EMULATOR_BEARER",
    show_envvar=True,
    help="Require this OAuth bearer token instead.",
)
@click.option(
    "--rate-limit",
    type=click.IntRange(min=1),
    envvar="CRMFORM_EMULATOR_RATE_LIMIT",
    show_envvar=True,
    help="Answer 429 with Retry-After above this many requests per second.",
)
@click.option(
    "--null-attributes",
    is_flag=True,
    envvar="CRMFORM_EMULATOR_NULL_ATTRIBUTES",
    show_envvar=True,
    help="Answer GETs with null referenceTo/orderedValueList/lastModified, as Gong's docs show.",
)
@click.option(
    "--max-requests",
    type=click.IntRange(min=1),
    envvar="CRMFORM_EMULATOR_MAX_REQUESTS",
    show_envvar=True,
    help="Stop after serving this many requests (for scripts and tests).",
)
@click.option(
    "--max-seconds",
    type=click.FloatRange(min=0.1),
    envvar="CRMFORM_EMULATOR_MAX_SECONDS",
    show_envvar=True,
    help="Stop after this many seconds (for scripts and tests).",
)
@click.option(
    "--fault",
    "faults",
    multiple=True,
    metavar="RULE",
    type=_FaultRule(),
    envvar="CRMFORM_EMULATOR_FAULT",
    show_envvar=True,
    help="Misbehave on purpose (repeatable; in the variable, rules are separated by ;): a "
    "status (500), drop, not-json or delay=SECONDS, then any of after-apply, times=N, "
    "method=M, object-type=T, retry-after=S; e.g. --fault '500 after-apply method=POST times=5'.",
)
@click.option(
    "--random-faults",
    metavar="SEED,RATE,LIMIT",
    envvar="CRMFORM_EMULATOR_RANDOM_FAULTS",
    show_envvar=True,
    help="Seeded random faults on POSTs: with probability RATE each, at most LIMIT in all "
    "(500/502/503, drop or not-json, half of them after applying the upload).",
)
@click.option(
    "--allow-remote",
    is_flag=True,
    envvar="CRMFORM_EMULATOR_ALLOW_REMOTE",
    show_envvar=True,
    help="Allow a non-loopback --host. The emulator has no real security: avoid it.",
)
def emulator(
    host: str,
    port: int,
    data: Path | None,
    access_key: str | None,
    secret: str | None,
    bearer: str | None,
    rate_limit: int | None,
    null_attributes: bool,
    max_requests: int | None,
    max_seconds: float | None,
    faults: tuple[str, ...],
    random_faults: str | None,
    allow_remote: bool,
) -> int:
    """Serve a local stand-in for Gong's CRM schema API (for trying crmform and for CI).

    It enforces Gong's documented rules: every upload must list all live fields, a new type
    recreates a field (its data is lost), isDeleted removes one. Point crmform at it with
    GONG_BASE_URL=http://127.0.0.1:8765 and the credentials it was started with.
    """
    import gc

    from crmform.providers.gong.emulator import GongEmulator, serve
    from crmform.providers.gong.emulator_faults import parse_fault
    from crmform.providers.gong.emulator_server import (
        AddressInUse,
        RemoteHostRefused,
        display_host,
    )

    gc.enable()  # main() turns it off for short runs; a server runs for long

    if (access_key is None) != (secret is None):
        raise click.UsageError("--access-key and --secret go together.")
    if bearer is not None and access_key is not None:
        raise click.UsageError(
            "--bearer and --access-key/--secret are two kinds of credentials; the emulator "
            "requires one kind. Pass --bearer, or --access-key and --secret, not both."
        )
    try:
        rules = [parse_fault(spec) for spec in faults]
    except ValueError as error:
        raise click.UsageError(f"--fault: {error}.") from error
    try:
        app = GongEmulator(
            access_key=access_key,
            secret=secret,
            bearer=bearer,
            rate_limit=rate_limit,
            data_path=data,
            null_attributes=null_attributes,
        )
    except ValueError as error:
        raise CrmformError(f"Cannot start the emulator: {error}.") from error
    for rule in rules:
        app.add_fault(rule)
    if random_faults is not None:
        app.fail_randomly(*_random_faults(random_faults))

    def ready(actual_port: int) -> None:
        where = f"http://{display_host(host)}:{actual_port}"
        err(f"Gong emulator listening on {where} (Ctrl-C to stop)")

    try:
        handled = serve(
            app,
            host,
            port,
            max_requests=max_requests,
            max_seconds=max_seconds,
            ready=ready,
            allow_remote=allow_remote,
        )
    except RemoteHostRefused as error:
        raise CrmformError(
            f"Cannot start the emulator on {host}: it is not a loopback address, and the "
            "emulator accepts any upload from anyone who reaches it. Use --host 127.0.0.1 "
            f"(or ::1); to serve on {host} anyway, pass --allow-remote."
        ) from error
    except AddressInUse as error:
        raise CrmformError(
            f"Cannot start the emulator: {display_host(host)}:{port} is already in use "
            "(another emulator?). Stop what listens there, choose another --port, or pass "
            "--port 0 for a free one (the line it prints names the port)."
        ) from error
    except (ValueError, OSError) as error:
        raise CrmformError(f"Cannot start the emulator on {host}:{port}: {error}") from error
    # serve() returns on Ctrl-C and on SIGTERM (how scripts and CI stop it): not an error.
    err(f"Gong emulator stopped after {count(handled, 'request')}.")
    return EXIT_OK


def _random_faults(spec: str) -> tuple[int, float, int]:
    seed, rate, limit = [*spec.split(","), "", "", ""][:3]
    try:
        values = int(seed), float(rate), int(limit)
    except ValueError:
        raise click.UsageError(
            f"--random-faults takes SEED,RATE,LIMIT such as 7,0.2,5; got {spec!r}."
        ) from None
    if not 0 <= values[1] <= 1 or not 0 <= values[2] <= 1000:
        raise click.UsageError("--random-faults: RATE is 0 to 1, LIMIT 0 to 1000.")
    return values

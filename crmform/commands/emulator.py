"""`crmform emulator`: a local Gong for trying crmform and for CI."""

from __future__ import annotations

from pathlib import Path

import click

from crmform.console import (
    EXIT_OK,
    err,
)


@click.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="Interface to listen on.")
@click.option("--port", default=8765, show_default=True, type=click.IntRange(0, 65535))
@click.option(
    "--data",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Keep the emulated schema in this JSON file (default: in memory).",
)
@click.option("--access-key", help="Require HTTP Basic auth with this access key...")
@click.option("--secret", help="...and this access key secret.")
@click.option("--bearer", help="Require this OAuth bearer token.")
@click.option(
    "--rate-limit",
    type=click.IntRange(min=1),
    help="Answer 429 with Retry-After above this many requests per second.",
)
@click.option(
    "--null-attributes",
    is_flag=True,
    help="Answer GETs with null referenceTo/orderedValueList/lastModified, as Gong's docs show.",
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
) -> int:
    """Serve a local stand-in for Gong's CRM schema API (for trying crmform and for CI).

    Point crmform at it with GONG_BASE_URL=http://127.0.0.1:8765 and any credentials the
    emulator was started with.
    """
    from crmform.providers.gong.emulator import GongEmulator, serve

    if (access_key is None) != (secret is None):
        raise click.UsageError("--access-key and --secret go together.")
    app = GongEmulator(
        access_key=access_key,
        secret=secret,
        bearer=bearer,
        rate_limit=rate_limit,
        data_path=data,
        null_attributes=null_attributes,
    )

    def ready(actual_port: int) -> None:
        err(f"Gong emulator listening on http://{host}:{actual_port} (Ctrl-C to stop)")

    serve(app, host, port, ready=ready)
    return EXIT_OK

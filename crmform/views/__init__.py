"""All terminal I/O of the CLI: plans, apply's prompt, progress and summary, refresh and
import reports. Views show what an operation returned or reports while it runs; they never
decide what happens next."""

from __future__ import annotations

import os
import sys
from typing import TYPE_CHECKING

import click

if TYPE_CHECKING:  # the CLI imports this module for `crmform --help`, which needs neither
    from collections.abc import Iterable
    from pathlib import Path

__all__ = [
    "echo",
    "echo_chunks",
    "err",
    "read_text",
    "terminal_safe",
    "waiting_for_lock",
    "warnings",
    "write_text",
]


def waiting_for_lock(holder: str, seconds: float) -> None:
    """Said once, when a command starts waiting for the state lock (--lock-timeout)."""
    first = holder.split("\n", 1)[0]
    err(f"Waiting up to {seconds:g}s for the state lock. {terminal_safe(first)}")


def terminal_safe(text: str) -> str:
    """`text` with control characters (terminal escapes among them) shown as escapes, so a
    name from a file or from Gong cannot hide what is printed around it."""
    if text.isprintable():
        return text
    return "".join(ch if ch.isprintable() else ch.encode("unicode_escape").decode() for ch in text)


def echo(message: str = "", *, nl: bool = True) -> None:
    click.echo(message, nl=nl)


# Pieces are gathered to about this many characters per write: few enough writes that a
# terminal (line-buffered) is not flushed once per line, little enough to hold.
_CHUNK = 1 << 16


def echo_chunks(pieces: Iterable[str], *, plain: bool = False) -> None:
    """Print `pieces` as they come, in writes of about _CHUNK characters, so that a long
    output (a JSON plan of 100,000 changes is 56 MB) is never held as one string.

    `plain`: the pieces can hold no terminal escape code (JSON, whose strings are encoded
    ASCII), so they go to stdout as they are, without click.echo's pass to strip codes
    from output that is not a terminal (measured: half the cost of writing a 56 MB plan)."""
    stdout = sys.stdout  # what click.echo writes to (a test runner's stream included)
    if plain and stdout is not None:

        def write(text: str) -> None:
            stdout.write(text)
            stdout.flush()
    else:

        def write(text: str) -> None:
            click.echo(text, nl=False)

    batch: list[str] = []
    size = 0
    for piece in pieces:
        batch.append(piece)
        size += len(piece)
        if size >= _CHUNK:
            write("".join(batch))
            batch.clear()
            size = 0
    write("".join(batch))


def err(message: str) -> None:
    click.echo(message, err=True)


def warnings(lines: tuple[str, ...]) -> None:
    for line in lines:
        err(f"Warning: {line}")


def write_text(path: Path, text: str) -> None:
    """Write via a temporary file and rename, so a reader never sees half a file."""
    tmp = path.with_name(f".{path.name}.tmp{os.getpid()}")
    try:
        tmp.write_text(text, encoding="utf-8")
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def read_text(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except OSError as error:
        from crmform.engine.errors import CrmformError

        raise CrmformError(f"Cannot read {path}: {error.strerror or error}.") from error

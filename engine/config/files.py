"""The schema files of a directory, and their bytes: bounded, and never skipped silently.

Every name that looks like a schema file (*.yaml, *.yml, *.json; not hidden, not a state
file, not excluded) is read or reported. Skipping one would make the plan delete every field
it declared, so a broken symlink, a symlink loop, a pipe or device, an unreadable file or one
over the size limits is a problem naming the file. Only directories are passed over.
"""

from __future__ import annotations

import errno
import os
import stat
from collections.abc import Collection
from pathlib import Path

from crmform.engine.config.messages import quote
from crmform.engine.errors import ConfigError, Diagnostic

__all__ = [
    "STATE_FILE_PATTERN",
    "SUFFIXES",
    "discover",
    "is_state_file",
    "read_bytes",
    "too_many_values",
]

SUFFIXES = (".yaml", ".yml", ".json")
STATE_FILE_PATTERN = "crmform.state.json*"
_STATE_FILE_PREFIX = os.path.normcase(STATE_FILE_PATTERN.removesuffix("*"))
_MB = 1024 * 1024
_KINDS = (
    (stat.S_ISFIFO, "a named pipe"),
    (stat.S_ISSOCK, "a socket"),
    (stat.S_ISCHR, "a device"),
    (stat.S_ISBLK, "a device"),
)


def discover(directory: Path, exclude: Collection[Path]) -> list[Path]:
    """The candidate schema files directly in `directory`, sorted by name."""

    def fail(message: str) -> ConfigError:
        return ConfigError([Diagnostic(str(directory), None, "", message)])

    if not directory.is_dir():
        what = "is not a directory" if directory.exists() else "does not exist"
        raise fail(f"the schema directory {what}; pass the directory that holds the schema files")
    skipped = {_resolved(p) for p in exclude}
    try:
        found = [
            p
            for p in directory.iterdir()
            if p.suffix in SUFFIXES
            and not p.name.startswith(".")
            and not is_state_file(p.name)
            and not p.is_dir()  # follows symlinks; False for a broken one or a loop
            and _resolved(p) not in skipped
        ]
    except OSError as exc:
        raise fail(f"the schema directory cannot be listed ({exc.strerror})") from exc
    if not found:
        raise fail(
            "no schema files (*.yaml, *.yml or *.json) in this directory; write one file per "
            "object type, or pass the directory that holds them"
        )
    return sorted(found, key=lambda p: p.name)


def is_state_file(name: str) -> bool:
    """Whether a file name matches STATE_FILE_PATTERN, as fnmatch matches it (the case
    folded where the system folds it), without fnmatch: it compiles the pattern to a
    regular expression, a tenth of a millisecond of every plan (issue 14)."""
    return os.path.normcase(name).startswith(_STATE_FILE_PREFIX)


def read_bytes(path: Path, limit: int) -> bytes | str:
    """The file's bytes, or why they cannot be had: a whole-sentence message."""
    try:
        info = path.stat()
        if not stat.S_ISREG(info.st_mode):  # never opened: a pipe would block the read
            kind = next((word for test, word in _KINDS if test(info.st_mode)), "not a file")
            return f"the file is not a regular file ({kind}); move it out of the schema directory"
        if info.st_size > limit:
            return _too_large(limit)
        with path.open("rb") as stream:
            raw = stream.read(limit + 1)  # the size may have changed since stat
    except FileNotFoundError:
        if not path.is_symlink():
            return "the file disappeared while it was being read; run the command again"
        target = quote(str(path.readlink()))
        return (
            f"the file is a symbolic link to {target}, which does not exist; fix the link, or "
            "remove it to delete what it declared"
        )
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            return (
                "the file is a symbolic link that leads back to itself; fix the link or remove it"
            )
        return (
            f"the file cannot be read ({exc.strerror}); give crmform read access, or move it "
            "out of the schema directory"
        )
    return _too_large(limit) if len(raw) > limit else raw


def too_many_values(raw: bytes, is_yaml: bool, limit: int) -> str | None:
    """Why the file is refused unparsed, if it may hold more than `limit` values.

    Parsing costs time and memory per value (a YAML node with its two marks is ~500 bytes)
    and 16 MB of `[a,a,a,...` hold 8 million, so the byte limit alone does not bound them.
    The estimate counts the bytes that start or separate values (within a factor of 3 of
    the real count; about 11 a field in both formats). No value takes less than a byte, so
    smaller files are not counted; larger ones at ~1 ms per MB, in C.
    """
    if len(raw) <= limit:
        return None
    marks = b",[{\n" if is_yaml else b",[{"
    if len(raw) - len(raw.translate(None, marks)) <= limit:
        return None
    return (
        f"the file holds more than {limit:,} keys and values, the limit for one schema file "
        f"({_FIELDS}), so it is probably not a schema file; move it out of the schema directory"
    )


_FIELDS = "enough for about 80,000 fields"


def _too_large(limit: int) -> str:
    size = f"{limit // _MB} MB" if limit % _MB == 0 else f"{limit} bytes"
    return (
        f"the file is larger than {size}, the limit for one schema file ({_FIELDS}), so it "
        "is probably not a schema file; move it out of the schema directory"
    )


def _resolved(path: Path) -> Path:
    try:
        return path.resolve()
    except (OSError, RuntimeError):  # a symlink loop: RuntimeError before Python 3.13
        return path.absolute()

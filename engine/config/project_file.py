"""Which crmform.toml applies: the search alone, moved here from project.py unchanged so
that a command run where there is no crmform.toml (the usual case) imports neither
project.py's settings types nor tomllib. project.py re-exports both names."""

from __future__ import annotations

from pathlib import Path

FILE_NAME = "crmform.toml"


def find_project(start: Path) -> Path | None:
    """crmform.toml in `start` or its nearest parent that has one."""
    for folder in (start, *start.parents):
        candidate = folder / FILE_NAME
        if candidate.is_file():
            return candidate
    return None

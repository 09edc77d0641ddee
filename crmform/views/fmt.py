"""`crmform fmt` output: which files change (or would), their diffs, and a count."""

from __future__ import annotations

import difflib
from collections.abc import Sequence

from crmform.engine.config.fmt import Formatted

__all__ = ["diff", "summary"]


def diff(result: Formatted) -> str:
    """A unified diff from the file to its formatted text (applies with `patch -p0`)."""
    name = str(result.path)
    return "".join(
        difflib.unified_diff(
            result.before.splitlines(keepends=True),
            result.after.splitlines(keepends=True),
            fromfile=name,
            tofile=name,
        )
    )


def summary(results: Sequence[Formatted], *, written: bool) -> str:
    changed = sum(1 for r in results if r.changed)
    same = len(results) - changed
    verb = "reformatted" if written else "would be reformatted"
    parts = [f"{_files(changed)} {verb}"] if changed else []
    parts.append(f"{_files(same)} {'left unchanged' if written else 'already formatted'}")
    return ", ".join(parts) + "."


def _files(count: int) -> str:
    return f"{count} file{'s' if count != 1 else ''}"

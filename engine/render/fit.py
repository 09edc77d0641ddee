"""Fitting a Markdown comment into a character budget, for render_markdown.

The document is a warning, then sections (tables) of rows. The warning is kept whole when
it fits, and otherwise as many of its items as fit; sections are kept whole in order, the
first one that does not fit is cut after as many rows as fit, with a line saying how many
are missing, and the rest are left out. A note for the end says what was left out; room for
it is reserved first.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from crmform.engine.render.limits import DEFAULT_MAX_CHARS, MIN_MAX_CHARS

__all__ = ["DEFAULT_MAX_CHARS", "MIN_MAX_CHARS", "Section", "fit", "size"]


@dataclass(frozen=True, slots=True)
class Section:
    """One table: lines before its rows, the rows, lines after them.

    `counter` says which total of `fit` its rows count towards (0 changes, 1 drift, 2 notes);
    `noun` names its rows in the line that says how many were cut.
    """

    opening: tuple[str, ...]
    rows: tuple[str, ...]
    closing: tuple[str, ...]
    counter: int
    noun: str

    def lines(self) -> tuple[str, ...]:
        return (*self.opening, *self.rows, *self.closing)


def size(lines: Sequence[str]) -> int:
    """Characters of the lines joined by newlines, plus the newline printed after them."""
    return sum(len(line) + 1 for line in lines)


# warning(shown): the warning listing the first `shown` items (all of them for None).
WarningFor = Callable[[int | None], list[str]]
# note(*left): the closing note, given how many rows of each counter were left out.
NoteFor = Callable[..., list[str]]


def fit(
    warning: WarningFor,
    warning_items: int,
    sections: Sequence[Section],
    budget: int,
    note: NoteFor,
    totals: tuple[int, ...],
) -> tuple[list[str], list[str]]:
    """The warning, and the body (kept sections, then the note), within `budget`."""
    # The longest note this run could need: fewer rows left out never makes it longer.
    budget -= size(note(*totals))
    kept_warning = _fit_warning(warning, warning_items, budget)
    budget -= size(kept_warning)
    body: list[str] = []
    shown = [0] * len(totals)
    for section in sections:
        fixed = size(section.opening) + size(section.closing)
        if fixed + size(section.rows) <= budget:
            body += section.lines()
            budget -= fixed + size(section.rows)
            shown[section.counter] += len(section.rows)
            continue
        total = len(section.rows)
        kept = _prefix(section.rows, budget - fixed - size(_cut(total, total, section.noun)))
        if kept:
            cut = _cut(total - len(kept), total, section.noun)
            body += [*section.opening, *kept, *section.closing, *cut]
            shown[section.counter] += len(kept)
        break
    left = (total - done for total, done in zip(totals, shown, strict=True))
    return kept_warning, [*body, *note(*left)]


def _fit_warning(warning: WarningFor, items: int, budget: int) -> list[str]:
    whole = warning(None)
    if size(whole) <= budget or items == 0:
        return whole
    # Listing one more item always makes it longer (the "and N more" line shrinks by a
    # digit at most), so the largest count that fits can be found by bisection.
    low, high = 0, items - 1
    while low < high:
        middle = (low + high + 1) // 2
        if size(warning(middle)) <= budget:
            low = middle
        else:
            high = middle - 1
    return warning(low)


def _prefix(rows: Sequence[str], budget: int) -> list[str]:
    kept: list[str] = []
    for row in rows:
        if len(row) + 1 > budget:
            break
        kept.append(row)
        budget -= len(row) + 1
    return kept


def _cut(left: int, total: int, noun: str) -> list[str]:
    return ["", f"*{left} of these {total} {noun} are not shown here (size limit).*"]

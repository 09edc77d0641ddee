"""Fitting a Markdown comment into a character budget, for render_markdown.

The document is a warning, then sections (tables) of rows. The warning is kept whole when
it fits, and otherwise as many of its items as fit; sections are kept whole in order, the
first one that does not fit is cut after as many rows as fit, with a line saying how many
are missing, and the rest are left out. A note for the end says what was left out; room for
it is reserved first. Rows are made only as they are measured (Rows), so the cost follows
the size of the comment, not of the plan.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from crmform.engine.render.limits import DEFAULT_MAX_CHARS, MIN_MAX_CHARS

__all__ = ["DEFAULT_MAX_CHARS", "MIN_MAX_CHARS", "Rows", "Section", "fit", "fits", "ready", "size"]

T = TypeVar("T")


class Rows(Generic[T]):
    """A table's rows, each made from its item when first needed and then kept.

    A comment shows only as many rows as fit (60,000 characters: some hundreds of rows), so
    a plan of 100,000 changes has only those made, never all of them.
    """

    __slots__ = ("_items", "_made", "_make")

    def __init__(self, items: Sequence[T], make: Callable[[T], str]) -> None:
        self._items = items
        self._make = make
        self._made: list[str] = []

    def __len__(self) -> int:
        return len(self._items)

    def __iter__(self) -> Iterator[str]:
        for index in range(len(self._items)):
            yield self._row(index)

    def _row(self, index: int) -> str:
        made = self._made
        while len(made) <= index:
            made.append(self._make(self._items[len(made)]))
        return made[index]

    def prefix(self, budget: int) -> list[str]:
        """The first rows whose size (each plus its newline) stays within `budget`."""
        kept: list[str] = []
        for row in self:
            if len(row) + 1 > budget:
                break
            kept.append(row)
            budget -= len(row) + 1
        return kept


def ready(rows: Sequence[str]) -> Rows[str]:
    """Rows already made."""
    return Rows(rows, str)


@dataclass(frozen=True, slots=True)
class Section:
    """One table: lines before its rows, the rows, lines after them.

    `counter` says which total of `fit` its rows count towards (0 changes, 1 drift, 2 notes);
    `noun` names its rows in the line that says how many were cut.
    """

    opening: tuple[str, ...]
    rows: Rows[Any]
    closing: tuple[str, ...]
    counter: int
    noun: str

    def lines(self) -> tuple[str, ...]:
        return (*self.opening, *self.rows, *self.closing)

    def whole(self, budget: int) -> list[str] | None:
        """The section's lines if all of them fit in `budget`, else None (making only the
        rows that fit, and one more)."""
        fixed = size(self.opening) + size(self.closing)
        if fixed > budget:
            return None
        kept = self.rows.prefix(budget - fixed)
        if len(kept) < len(self.rows):
            return None
        return [*self.opening, *kept, *self.closing]


def size(lines: Sequence[str]) -> int:
    """Characters of the lines joined by newlines, plus the newline printed after them."""
    return sum(len(line) + 1 for line in lines)


# warning(shown): the warning listing the first `shown` items (all of them for None).
WarningFor = Callable[[int | None], list[str]]
# note(*left): the closing note, given how many rows of each counter were left out.
NoteFor = Callable[..., list[str]]


def fits(sections: Sequence[Section], budget: int) -> bool:
    """Whether every section, whole, fits in `budget`."""
    for section in sections:
        lines = section.whole(budget)
        if lines is None:
            return False
        budget -= size(lines)
    return True


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
        lines = section.whole(budget)
        if lines is not None:
            body += lines
            budget -= size(lines)
            shown[section.counter] += len(section.rows)
            continue
        fixed = size(section.opening) + size(section.closing)
        total = len(section.rows)
        kept = section.rows.prefix(budget - fixed - size(_cut(total, total, section.noun)))
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


def _cut(left: int, total: int, noun: str) -> list[str]:
    return ["", f"*{left} of these {total} {noun} are not shown here (size limit).*"]

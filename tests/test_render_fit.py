"""fit.Rows: a Markdown comment makes only the table rows it measures."""

from __future__ import annotations

from crmform.engine.render.fit import Rows, Section, fits, ready, size


def counted(n: int) -> tuple[Rows[int], list[int]]:
    made: list[int] = []

    def make(i: int) -> str:
        made.append(i)
        return f"| row {i:04d} |"  # 12 characters, 13 with its newline

    return Rows(range(n), make), made


def test_rows_are_made_in_order_once_each_and_only_as_far_as_measured():
    rows, made = counted(100_000)
    assert rows.prefix(13 * 5) == [f"| row {i:04d} |" for i in range(5)]
    assert made == list(range(6))  # the sixth was made to find that it does not fit
    assert rows.prefix(13 * 3) == [f"| row {i:04d} |" for i in range(3)]
    assert made == list(range(6))  # nothing made twice
    assert len(rows) == 100_000


def test_iterating_makes_every_row_in_order():
    rows, made = counted(7)
    assert list(rows) == [f"| row {i:04d} |" for i in range(7)]
    assert list(rows) == [f"| row {i:04d} |" for i in range(7)]
    assert made == list(range(7))


def test_a_section_fits_whole_exactly_when_all_its_lines_do():
    rows, _ = counted(10)
    section = Section(("", "### head"), rows, ("", "</details>"), 0, "changes")
    need = size(section.lines())
    assert fits([section], need)
    assert not fits([section], need - 1)
    assert not fits([section, Section(("x",), ready(()), (), 0, "changes")], need + 1)
    assert fits([section, Section(("x",), ready(()), (), 0, "changes")], need + 2)


def test_checking_a_huge_section_against_the_limit_makes_a_limits_worth_of_rows():
    rows, made = counted(100_000)
    section = Section(("", "### head"), rows, (), 0, "changes")
    assert not fits([section], 60_000)
    assert len(made) <= 60_000 // 13 + 1

"""A plan on the terminal or in a file: text (with colour), JSON, or a pull-request comment."""

from __future__ import annotations

from collections.abc import Iterator

from crmform.engine.model import Plan
from crmform.engine.render.limits import DEFAULT_MAX_CHARS
from crmform.views import echo_chunks

__all__ = ["render", "show"]


def show(plan: Plan, fmt: str, color: bool, max_chars: int | None = None) -> None:
    """Print the plan in `fmt` (text, json or markdown), as it is rendered."""
    echo_chunks(_pieces(plan, fmt, color, max_chars), plain=fmt == "json")


def render(plan: Plan, fmt: str, color: bool, max_chars: int | None = None) -> str:
    """The plan in `fmt` (text, json or markdown), ending with a newline."""
    return "".join(_pieces(plan, fmt, color, max_chars))


def _pieces(plan: Plan, fmt: str, color: bool, max_chars: int | None) -> Iterator[str]:
    if fmt == "json":
        # Streamed: the JSON of a large plan is several times the size of its text.
        from crmform.engine.formats.plan_json import iter_plan_json

        yield from iter_plan_json(plan)
    elif fmt == "markdown":
        from crmform.engine.render.markdown import render_markdown

        yield render_markdown(plan, max_chars=max_chars or DEFAULT_MAX_CHARS)
    else:
        from crmform.engine.render.text import render_text

        yield render_text(plan, color=color)
    yield "\n"

"""A plan on the terminal or in a file: text (with colour), JSON, or a pull-request comment."""

from __future__ import annotations

from crmform.engine.model import Plan
from crmform.engine.render.limits import DEFAULT_MAX_CHARS

__all__ = ["render"]


def render(plan: Plan, fmt: str, color: bool, max_chars: int | None = None) -> str:
    """The plan in `fmt` (text, json or markdown), ending with a newline."""
    if fmt == "json":
        from crmform.engine.formats.codec import dumps_indented
        from crmform.engine.formats.plan_json import plan_to_json

        return dumps_indented(plan_to_json(plan)) + "\n"
    if fmt == "markdown":
        from crmform.engine.render.markdown import render_markdown

        return render_markdown(plan, max_chars=max_chars or DEFAULT_MAX_CHARS) + "\n"
    from crmform.engine.render.text import render_text

    return render_text(plan, color=color) + "\n"

"""`crmform fmt`: rewrite schema files in the one canonical layout (engine/config/fmt.py)."""

from __future__ import annotations

from pathlib import Path

import click

from crmform.engine.errors import ConfigError
from crmform.exits import EXIT_ERROR, EXIT_OK
from crmform.views import err


@click.command("fmt")
@click.argument("paths", metavar="[PATH]...", nargs=-1, type=click.Path(path_type=Path))
@click.option(
    "--check",
    is_flag=True,
    envvar="CRMFORM_FMT_CHECK",
    show_envvar=True,
    help="Write nothing; list the files that would change and exit 1 if there are any.",
)
@click.option(
    "--diff",
    is_flag=True,
    envvar="CRMFORM_FMT_DIFF",
    show_envvar=True,
    help="Write nothing; print a unified diff of the changes and exit 1 if there are any.",
)
def fmt(paths: tuple[Path, ...], check: bool, diff: bool) -> int:
    """Rewrite schema files in the one canonical layout, keeping their comments.

    PATH: schema files, or directories whose schema files are formatted (as `validate`
    finds them); default `.`. Key order as the JSON Schema documents it, block style,
    2-space indentation, quotes only where YAML needs them; JSON files with indent 2.
    What crmform reads from a file never changes.
    """
    from crmform.engine.config import fmt as formatter
    from crmform.views import fmt as view

    files, problems = formatter.schema_files(paths or (Path("."),))
    results, unformattable = formatter.format_files(files)
    problems += unformattable
    changed = [r for r in results if r.changed]
    for result in changed:
        if diff:
            click.echo(view.diff(result), nl=False)
        elif check:
            click.echo(f"would reformat {result.path}")
        else:
            formatter.write(result)
            click.echo(f"reformatted {result.path}")
    if results:
        err(view.summary(results, written=not (check or diff)))
    if problems:
        raise ConfigError(problems)
    return EXIT_ERROR if changed and (check or diff) else EXIT_OK

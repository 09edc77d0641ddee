"""`crmform validate` as one operation with a typed result, for the views to render.

The problems are the loader's own Diagnostics (engine/errors.py), never re-parsed from
their text; the warnings are config.warnings' sentences (valid, but probably mistakes).
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass
from pathlib import Path

from crmform.engine.errors import ConfigError, Diagnostic
from crmform.engine.model import ObjectSchema

__all__ = ["Validation", "validate"]


@dataclass(frozen=True, slots=True)
class Validation:
    """What validate found in `directory`: problems (sorted), or the object types read."""

    directory: str
    problems: tuple[Diagnostic, ...]
    warnings: tuple[str, ...]
    objects: tuple[ObjectSchema, ...]

    @property
    def valid(self) -> bool:
        return not self.problems


def validate(directory: Path, env: Mapping[str, str], exclude: Collection[Path] = ()) -> Validation:
    from crmform.engine.config import loader as config

    try:
        desired = config.load(directory, env, exclude)
    except ConfigError as error:
        return Validation(str(directory), error.diagnostics, (), ())
    return Validation(str(directory), (), config.warnings(desired), desired.objects)

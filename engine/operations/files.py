"""The schema files of a directory, validated."""

from __future__ import annotations

from collections.abc import Collection, Mapping
from pathlib import Path

from crmform.engine.model import Desired
from crmform.engine.values import Value, _set

__all__ = ["LoadedFiles", "load_files"]


class LoadedFiles(Value):
    """The schema files of a directory, validated, and what they warn about."""

    __slots__ = ("desired", "warnings")
    desired: Desired
    warnings: tuple[str, ...]

    def __init__(self, desired: Desired, warnings: tuple[str, ...]) -> None:
        _set(self, "desired", desired)
        _set(self, "warnings", warnings)


def load_files(
    directory: Path, env: Mapping[str, str], exclude: Collection[Path] = ()
) -> LoadedFiles:
    """Read and validate the schema files (raises ConfigError with every problem)."""
    from crmform.engine.config import loader

    desired = loader.load(directory, env, exclude)
    return LoadedFiles(desired, loader.warnings(desired))

"""The schema files of a directory, validated."""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass
from pathlib import Path

from crmform.engine.model import Desired

__all__ = ["LoadedFiles", "load_files"]


@dataclass(frozen=True, slots=True)
class LoadedFiles:
    """The schema files of a directory, validated, and what they warn about."""

    desired: Desired
    warnings: tuple[str, ...]


def load_files(
    directory: Path, env: Mapping[str, str], exclude: Collection[Path] = ()
) -> LoadedFiles:
    """Read and validate the schema files (raises ConfigError with every problem)."""
    from crmform.engine.config import loader

    desired = loader.load(directory, env, exclude)
    return LoadedFiles(desired, loader.warnings(desired))

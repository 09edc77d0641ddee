"""What refresh and import report, and the schema files import writes."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from crmform.engine.errors import ConfigError, CrmformError
from crmform.engine.model import FieldDrift, ObjectKey, ObjectSchema
from crmform.engine.operations.remote import Imported, Refreshed
from crmform.engine.words import count, environment
from crmform.views import echo, err, write_text

__all__ = ["ConfigFiles", "show_imported", "show_refreshed"]


def show_refreshed(done: Refreshed, *, color: bool) -> None:
    from crmform.engine.render.drift import drift_lines

    _environment(done.environment)
    if not done.read:
        echo(
            f"Nothing to refresh: the state {done.location} records no object types. "
            "Pass the schema directory, or adopt Gong's schema with "
            "`crmform import --integration-id N`."
        )
        return
    echo("\n".join(drift_lines(done.found, color=color)))
    if done.written is None:
        echo(f"The state {done.location} was not changed (serial {done.before.serial}).")
        return
    echo(
        f"Recorded Gong's schema of {count(len(done.read), 'object type')} in the state "
        f"{done.location} (serial {done.written.serial}): {_counts(done.found)}."
    )


def _counts(found: Sequence[FieldDrift]) -> str:
    words = {"added": "added", "removed": "deleted", "changed": "changed"}
    counts = {kind: sum(1 for d in found if d.kind.value == kind) for kind in words}
    return ", ".join(f"{counts[k]} {word}" for k, word in words.items()) + " in Gong"


@dataclass(frozen=True)
class ConfigFiles:
    """`import --write-config DIR`: one schema file per adopted object type, never a
    second file for an object type a file of DIR declares already (with --force, that
    same file is rewritten). `next_flags` are the flags the "Next:" hint repeats."""

    directory: Path
    force: bool
    env: Mapping[str, str]
    next_flags: str = ""

    def paths(self, adopted: Sequence[ObjectSchema]) -> list[tuple[Path, ObjectSchema]]:
        from crmform.engine.config.writer import file_name

        declared = self._declared()
        return [(declared.get(o.key, self.directory / file_name(o)), o) for o in adopted]

    def _declared(self) -> dict[ObjectKey, Path]:
        """The files of DIR by the object type they declare."""
        if not self.directory.is_dir() or not any(
            p.suffix in (".yaml", ".yml", ".json") for p in self.directory.iterdir()
        ):
            return {}
        from crmform.engine.config import loader

        try:
            desired = loader.load(self.directory, self.env)
        except ConfigError as error:
            raise CrmformError(
                f"{self.directory} already holds schema files, and they do not validate; "
                "nothing was imported. Fix them first (`crmform validate "
                f"{self.directory}`), or choose another --write-config directory.\n{error}"
            ) from error
        return {o.key: Path(o.source) for o in desired.objects if o.source}

    def check(self, adopted: tuple[ObjectSchema, ...]) -> None:
        """Refuse, before the state is written, to overwrite files unless --force."""
        existing = [str(path) for path, _ in self.paths(adopted) if path.exists()]
        if existing and not self.force:
            raise CrmformError(
                f"{', '.join(existing)} already exist{'s' if len(existing) == 1 else ''} "
                "for the object types being imported; nothing was imported. Choose another "
                "--write-config directory, or rerun with --force to rewrite "
                f"{'it' if len(existing) == 1 else 'them'} from Gong's schema."
            )

    def write(self, adopted: Sequence[ObjectSchema]) -> None:
        from crmform.engine.config.writer import missing_details, object_yaml

        paths = self.paths(adopted)  # read before any file is written
        self.directory.mkdir(parents=True, exist_ok=True)
        todo = 0
        for path, obj in paths:
            write_text(path, object_yaml(obj))
            echo(f"Wrote {path}")
            for f in missing_details(obj):
                todo += 1
                what = "orderedValueList" if f.type.value == "PICKLIST" else "referenceTo"
                err(
                    f"Warning: {path}: fill in {what} of the field {f.unique_name} where the "
                    "file says TODO (Gong did not return it), then run `crmform plan`."
                )
        if todo:
            echo(
                f"Next: fill in the {count(todo, 'TODO')}, then `crmform plan {self.directory}"
                f"{self.next_flags}` shows only what you filled in, as updates."
            )
        else:
            echo(
                f"Next: `crmform plan {self.directory}{self.next_flags}` should report no changes."
            )


def _environment(name: str) -> None:
    """The environment first, as in plans (only when one is selected)."""
    if name:
        echo(f"{environment(name)}\n")


def show_imported(done: Imported, files: ConfigFiles | None) -> None:
    _environment(done.environment)
    report = [
        f"  {o.key}: {count(o.fields, 'field')}"
        if o.fields
        else f"  {o.key}: no custom fields in Gong, skipped"
        for o in done.objects
    ]
    if done.written is None:
        echo("Nothing to import: Gong has no custom fields there.")
        echo("\n".join(report))
        return
    echo(f"Imported Gong's schema into the state {done.location} (serial {done.written.serial}):")
    echo("\n".join(report))
    if files is not None:
        files.write(done.adopted)

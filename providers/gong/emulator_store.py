"""The Gong emulator's data file: the schemas it holds, kept across runs (`--data FILE`).

Written atomically (a temporary file, fsync, rename), read strictly: a file the emulator
cannot read is an error that names it, never an empty Gong. Standard library only.
"""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path

from crmform.providers.gong.emulator_rules import OBJECT_TYPES, JsonDict, validate_items

__all__ = ["DATA_VERSION", "Schemas", "check_data_path", "load", "save"]

DATA_VERSION = 1

# (integrationId, objectType) -> uniqueName -> stored field, in the order fields were added
Schemas = dict[tuple[int, str], dict[str, JsonDict]]


def save(path: Path, schemas: Schemas) -> None:
    data: JsonDict = {"version": DATA_VERSION, "schemas": {}}
    for (integration_id, object_type), schema in sorted(schemas.items()):
        by_type = data["schemas"].setdefault(str(integration_id), {})
        by_type[object_type] = list(schema.values())
    text = json.dumps(data, indent=2, ensure_ascii=False) + "\n"
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            out.write(text)
            out.flush()
            os.fsync(out.fileno())
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


def load(path: Path) -> Schemas:
    schemas: Schemas = {}
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        if data.get("version") != DATA_VERSION:
            raise ValueError(f"unsupported version {data.get('version')!r}")
        for integration_id, by_type in data["schemas"].items():
            for object_type, fields in by_type.items():
                if object_type not in OBJECT_TYPES:
                    raise ValueError(f"unknown object type {object_type!r}")
                problems, items = validate_items(fields)
                if problems:
                    raise ValueError("; ".join(problems))
                schemas[(int(integration_id), object_type)] = {
                    item["uniqueName"]: {k: v for k, v in item.items() if k != "isDeleted"}
                    for item in items
                }
    except (OSError, ValueError, TypeError, KeyError, AttributeError) as exc:
        raise ValueError(
            f"Cannot read the emulator data file {path}: {exc}. Fix or delete it."
        ) from exc
    return schemas


def check_data_path(path: Path) -> None:
    """Refuse a data file that could never be written, before serving a single request."""
    folder = path.parent
    if path.is_dir():
        raise ValueError(f"the data file {path} is a directory; name a file in it instead")
    if not folder.is_dir():
        raise ValueError(f"the folder of the data file {path} does not exist: create {folder}")
    if not os.access(folder, os.W_OK | os.X_OK):
        raise ValueError(f"the folder of the data file {path} is not writable")

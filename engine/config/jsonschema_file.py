"""A JSON Schema document put among the schema files, recognised so that it is reported once.

`crmform schema > schema/crmform.schema.json` is the natural first try of a user who wants
editor completion, and the loader would read that file as an object type and report a dozen
unknown keys. It is recognised (a `$schema` naming json-schema.org, or an `$id` of crmform's
own schemas) and reported as one problem.

An error rather than skipping the file with a warning: the loader treats every file in the
directory as an object type's complete field list, and a file skipped by guessing from its
content could be a schema file someone annotated, whose fields a plan would then delete.
Moving the JSON Schema out is one command; an error keeps the rule "every file counts".
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

__all__ = ["json_schema_message"]


def json_schema_message(doc: Mapping[Any, Any]) -> str | None:
    """The one-line problem for a JSON Schema document, or None for anything else."""
    dialect, identifier = doc.get("$schema"), doc.get("$id")
    if not (
        (isinstance(dialect, str) and "json-schema.org" in dialect)
        or (isinstance(identifier, str) and identifier.startswith("urn:crmform:"))
    ):
        return None
    return (
        "this is a JSON Schema, not a schema file (crmform reads every *.yaml, *.yml and "
        "*.json file here as one object type); keep it outside the schema directory, e.g. "
        "`crmform schema > crmform.schema.json` one level up"
    )

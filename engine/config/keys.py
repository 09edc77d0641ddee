"""What the loader knows of schema.json: its shipped text, and the facts about it that
both the checks (config.py) and the messages (config_messages.py) use.
"""

from __future__ import annotations

import functools

from crmform.engine.model import FieldType

# In schema.json's order, which messages list them in (a test keeps the two equal).
TOP_KEYS = ("provider", "integrationId", "objectType", "fields")
FIELD_KEYS = ("uniqueName", "label", "type", "referenceTo", "orderedValueList", "protect")
FIELD_TYPES = frozenset(t.value for t in FieldType)


@functools.cache
def schema_text() -> str:
    """The JSON Schema of one desired-state document, as shipped (for `crmform schema`)."""
    from importlib import resources

    return (
        resources.files("crmform.engine.config").joinpath("schema.json").read_text(encoding="utf-8")
    )

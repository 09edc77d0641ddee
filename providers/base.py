"""The seam between crmform's engine and a remote CRM: one small protocol.

A provider reads and writes the custom-field schema of one object type. It knows nothing
of plans or state; the engine hands it complete request bodies and reads back fields.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Protocol

from crmform.engine.errors import ProviderError
from crmform.engine.model import Field, ObjectType

__all__ = ["FieldPayload", "Provider", "ProviderError", "RemoteSchema", "WriteResult"]

# One element of an upload body: Gong's GenericSchemaFieldRequest as JSON-ready values.
FieldPayload = Mapping[str, "str | bool | list[str]"]


@dataclass(frozen=True, slots=True)
class RemoteSchema:
    """The live fields of one object type as the remote reports them.

    Attributes the remote leaves null (Gong often does for referenceTo, orderedValueList and
    lastModified) are None here and mean "unknown", never "empty".
    """

    object_type: ObjectType
    fields: tuple[Field, ...]
    request_id: str | None = None


@dataclass(frozen=True, slots=True)
class WriteResult:
    status: int
    request_id: str | None


class Provider(Protocol):
    """What the engine needs from a remote CRM."""

    name: str

    def read_schema(
        self, integration_id: int, object_type: ObjectType | None = None
    ) -> dict[ObjectType, RemoteSchema]:
        """Live fields per object type; all types when object_type is None."""
        ...

    def write_schema(
        self, integration_id: int, object_type: ObjectType, body: Sequence[FieldPayload]
    ) -> WriteResult:
        """Upload the complete field list of one object type. Raises ProviderError."""
        ...

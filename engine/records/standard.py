"""The standard keys of Gong's record files, per object type, as Gong documents them.

Source: Gong's "Upload CRM objects" (`POST /v2/crm/entities`) documentation, section "CRM
Entities" (https://help.gong.io/apidocs/upload-crm-objects-v2crmentities-1; the same text is
the `uploadCrmData` description in Gong's OpenAPI spec, see docs/check-records-json.md).
Every object type has objectId* and modifiedDate* (mandatory), isDeleted and url; then:

    ACCOUNT  name, domains (a string array)
    CONTACT  accountId, emailAddress, firstName, lastName, title, phoneNumber
    DEAL     accountId, ownerId, name, createdDate (ISO-8601 datetime without
             milliseconds), closeDate (a string; the example is "2022-09-04"),
             status (WON | LOST | OPEN), stage, amount (currency)
    LEAD     emailAddress, firstName, lastName, title, phoneNumber, convertedToDealId,
             convertedToContactId, convertedToAccountId

Gong types the rest as "string". The custom fields of the schema (`/v2/crm/entity-schema`)
are further keys of the same records. BUSINESS_USER and STAGE files carry no custom fields,
so crmform does not check them.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum

from crmform.engine.model import ObjectType

__all__ = [
    "DEAL_STATUSES",
    "MANDATORY",
    "OBJECT_ID_MAX",
    "STANDARD_KEYS",
    "UNCHECKED_OBJECT_TYPES",
    "Kind",
    "StandardKey",
    "standard_key_owners",
]

OBJECT_ID_MAX = 64
DEAL_STATUSES = ("WON", "LOST", "OPEN")
MANDATORY = ("objectId", "modifiedDate")
# Gong's upload endpoint takes these too, but their records have no custom fields.
UNCHECKED_OBJECT_TYPES = ("BUSINESS_USER", "STAGE")


class Kind(StrEnum):
    """How a standard key's value is checked; the custom fields use their FieldType."""

    OBJECT_ID = "objectId"
    DATETIME = "DATETIME"
    BOOLEAN = "BOOLEAN"
    URL = "URL"
    STRING = "STRING"
    EMAILADDRESS = "EMAILADDRESS"
    STRING_LIST = "string array"
    CURRENCY = "CURRENCY"
    DEAL_STATUS = "deal status"
    DATE_STRING = "date string"


@dataclass(frozen=True, slots=True)
class StandardKey:
    name: str
    kind: Kind


def _keys(*pairs: tuple[str, Kind]) -> tuple[StandardKey, ...]:
    return tuple(StandardKey(name, kind) for name, kind in pairs)


_COMMON = _keys(
    ("objectId", Kind.OBJECT_ID),
    ("modifiedDate", Kind.DATETIME),
    ("isDeleted", Kind.BOOLEAN),
    ("url", Kind.URL),
)
_PERSON = _keys(
    ("emailAddress", Kind.EMAILADDRESS),
    ("firstName", Kind.STRING),
    ("lastName", Kind.STRING),
    ("title", Kind.STRING),
    ("phoneNumber", Kind.STRING),
)

STANDARD_KEYS: Mapping[ObjectType, tuple[StandardKey, ...]] = {
    ObjectType.ACCOUNT: (*_COMMON, *_keys(("name", Kind.STRING), ("domains", Kind.STRING_LIST))),
    ObjectType.CONTACT: (*_COMMON, *_keys(("accountId", Kind.STRING)), *_PERSON),
    ObjectType.DEAL: (
        *_COMMON,
        *_keys(
            ("accountId", Kind.STRING),
            ("ownerId", Kind.STRING),
            ("name", Kind.STRING),
            ("createdDate", Kind.DATETIME),
            ("closeDate", Kind.DATE_STRING),
            ("status", Kind.DEAL_STATUS),
            ("stage", Kind.STRING),
            ("amount", Kind.CURRENCY),
        ),
    ),
    ObjectType.LEAD: (
        *_COMMON,
        *_PERSON,
        *_keys(
            ("convertedToDealId", Kind.STRING),
            ("convertedToContactId", Kind.STRING),
            ("convertedToAccountId", Kind.STRING),
        ),
    ),
}


_OWNERS: Mapping[str, tuple[ObjectType, ...]] = {
    key.name: tuple(t for t in ObjectType if any(k.name == key.name for k in STANDARD_KEYS[t]))
    for keys in STANDARD_KEYS.values()
    for key in keys
}


def standard_key_owners(name: str) -> tuple[ObjectType, ...]:
    """The object types that have `name` as a standard key, in ObjectType order."""
    return _OWNERS.get(name, ())

"""The request an upload would send, shown without sending it (`apply --dry-run`).

It needs no credentials (a dry run reads none) and imports no HTTP library, so a dry run
starts as fast as a plan.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from crmform.engine.model import ObjectType
from crmform.engine.ports import FieldWrite, RequestPreview
from crmform.providers.gong.settings import (
    DEFAULT_BASE_URL,
    ENV_BASE_URL,
    FLAG_BASE_URL,
    check_base_url,
    checked_id,
    schema_url,
)
from crmform.providers.gong.wire import preview_body

__all__ = ["GongPreview"]


class GongPreview:
    """Gong's upload requests as `apply --dry-run` prints them (a WritePreviewer)."""

    def __init__(self, base_url: str = DEFAULT_BASE_URL, base_url_source: str = ENV_BASE_URL):
        self._base_url = check_base_url(base_url, base_url_source)

    @classmethod
    def from_env(cls, env: Mapping[str, str], *, base_url: str | None = None) -> GongPreview:
        """The base URL from the --base-url flag if given, else GONG_BASE_URL, else Gong's."""
        if base_url is not None and base_url.strip():
            return cls(base_url, FLAG_BASE_URL)
        return cls(env.get(ENV_BASE_URL, "").strip() or DEFAULT_BASE_URL, ENV_BASE_URL)

    def preview_write(
        self, integration_id: int, object_type: ObjectType, writes: Sequence[FieldWrite]
    ) -> RequestPreview:
        url = schema_url(self._base_url, checked_id(integration_id), ObjectType(object_type))
        return RequestPreview("POST", url, preview_body(writes))

"""The result of `crmform apply --format json`: one JSON document for pipelines.

Format version 1 (schema: engine/apply-result.schema.json, documented in docs/apply-json.md):

    {
      "format_version": 1,
      "environment": "production",               # only when one is selected (--env)
      "ok": false,                               # every address applied (or state-only)
      "interrupted": false,                      # Ctrl-C or SIGTERM stopped the run
      "state": {"lineage": "<uuid>", "serial": 4},  # as last written (as read if nothing was)
      "results": [                               # one per changed address, in apply order
        {
          "address": "gong/6286478263646/ACCOUNT",
          "integrationId": "6286478263646",      # a string, as in the plan
          "objectType": "ACCOUNT",
          "outcome": "applied" | "state-only" | "failed" | "uncertain" | "not-attempted",
          "requestId": "f0691a4s5fmj7zure0t" | null,   # Gong's, for an accepted upload
          "seconds": 0.412,
          "changes": [{"uniqueName": "category", "action": "replace"}],
          "error": null | {"message": "...", "status": 400 | null,
                           "errors": ["..."], "requestId": "..." | null}
        }
      ],
      "outcomes": {"applied": 1, "state-only": 0, "failed": 1, "uncertain": 0,
                   "not-attempted": 1},
      "summary": {"create": 1, "update": 0, "replace": 0, "delete": 0, "protect": 0}
    }

"uncertain" (an additive value of format 1) is an upload Gong may have applied: a timeout,
a dropped connection, a 5xx, an answer that is not Gong's, or an interrupt while it was in
flight; the state records it as pending and the next apply settles it by reading Gong.
"summary" counts the changes carried out (those of applied and state-only addresses).
A failed address whose upload Gong accepted but whose state could not be saved carries the
upload's requestId both on the result and in its error (status null). As with the plan,
keys may be added within a version; consumers ignore keys they do not know.
"""

from __future__ import annotations

from collections.abc import Iterator

from crmform.engine.applier import AddressResult, ApplyResult, Outcome
from crmform.engine.errors import ProviderError
from crmform.engine.formats.codec import Items, JsonDict, built, iter_indented
from crmform.engine.model import Action

__all__ = ["APPLY_FORMAT_VERSION", "apply_result_to_json", "iter_apply_json"]

APPLY_FORMAT_VERSION = 1


def apply_result_to_json(result: ApplyResult) -> JsonDict:
    return built(_document(result))


def iter_apply_json(result: ApplyResult) -> Iterator[str]:
    """dumps_indented(apply_result_to_json(result)) in pieces, one address at a time (no
    newline at the end): an apply of 100,000 creates lists every change, ~8 MB."""
    return iter_indented(_document(result))


def _document(result: ApplyResult) -> dict[str, object]:
    """The top-level keys in order, "results" left as codec.Items: the one place a key is
    added for both forms."""
    counts = result.counts()
    doc: dict[str, object] = {"format_version": APPLY_FORMAT_VERSION}
    if result.plan.environment:  # absent without a selected environment, as in the plan
        doc["environment"] = result.plan.environment
    doc["ok"] = result.ok
    doc["interrupted"] = result.interrupted
    doc["state"] = {"lineage": result.state.lineage, "serial": result.state.serial}
    doc["results"] = Items(result.results, lambda r: _address_to_json(r, result))
    doc["outcomes"] = {o.value: sum(1 for r in result.results if r.outcome is o) for o in Outcome}
    doc["summary"] = {a.value: counts[a] for a in Action}
    return doc


def _address_to_json(entry: AddressResult, result: ApplyResult) -> JsonDict:
    key = entry.key
    return {
        "address": key.address,
        "integrationId": str(key.integration_id),
        "objectType": key.object_type.value,
        "outcome": entry.outcome.value,
        "requestId": entry.request_id,
        "seconds": round(entry.seconds, 3),
        "changes": [
            {"uniqueName": c.unique_name, "action": c.action.value}
            for c in result.plan.changes_for(key)
        ],
        "error": _error_to_json(entry) if entry.error is not None else None,
    }


def _error_to_json(entry: AddressResult) -> JsonDict:
    error = entry.error
    if isinstance(error, ProviderError):
        return {
            "message": str(error),
            "status": error.status,
            "errors": list(error.errors),
            "requestId": error.request_id,
        }
    # Not Gong's refusal: e.g. the state could not be saved after Gong accepted the upload.
    return {"message": str(error), "status": None, "errors": [], "requestId": entry.request_id}

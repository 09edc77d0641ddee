"""The JSON Schemas of crmform's machine-readable output, shipped as package data.

`plan` describes `plan`/`show --format json` and saved plan files (engine/render.py,
engine/planfile.py); `apply-result` describes `apply --format json` (engine/render_apply.py);
`check-records` describes `check-records --format json` (engine/records/report_json.py);
`validate-result` describes `validate --format json` (crmform/views/validate.py).
"""

from __future__ import annotations

from importlib import resources

__all__ = ["OUTPUT_SCHEMAS", "output_schema_text"]

OUTPUT_SCHEMAS = {
    "plan": "plan.schema.json",
    "apply-result": "apply-result.schema.json",
    "check-records": "check-records.schema.json",
    "validate-result": "validate-result.schema.json",
}


def output_schema_text(name: str) -> str:
    """The schema's JSON text; raises KeyError for a name not in OUTPUT_SCHEMAS."""
    package = resources.files("crmform.engine.formats")
    return package.joinpath(OUTPUT_SCHEMAS[name]).read_text(encoding="utf-8")

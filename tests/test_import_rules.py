"""The layering rules a newcomer can read off the folders, checked on every module's imports.

- engine/ imports the standard library and crmform.engine.* only; yaml and jsonschema only
  inside engine/config/, deepdiff only in engine/remote_diff.py; never click or httpx.
- providers/ and state/ import, of the engine, only model, ports and errors (state/ also the
  codec of the documents it stores); never click.
- only crmform/ (the console) imports click, and no command imports the planner, the applier
  or the drift logic: commands call engine.operations.
Function-local imports count as much as top-level ones.
"""

from __future__ import annotations

import ast
import shutil
import sys
from collections.abc import Iterator
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
FOLDERS = {"engine": "crmform.engine", "providers": "crmform.providers", "state": "crmform.state"}
ADAPTER_ENGINE = {"crmform.engine.model", "crmform.engine.ports", "crmform.engine.errors"}
STATE_EXTRA = {"crmform.engine.formats.codec"}
ENGINE_THIRD_PARTY = {
    "engine/config": {"yaml", "jsonschema", "ruamel"},  # ruamel: only fmt, lazily
    "engine/remote_diff.py": {"deepdiff"},
}
COMMAND_FORBIDDEN = {"crmform.engine.planner", "crmform.engine.applier", "crmform.engine.drift"}


def imports(path: Path) -> Iterator[tuple[int, str]]:
    """(line, module) for every import in the file, `from a import b` giving a and a.b."""
    tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield node.lineno, alias.name
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            yield node.lineno, node.module
            for alias in node.names:
                yield node.lineno, f"{node.module}.{alias.name}"


def _is_stdlib(module: str) -> bool:
    return module.split(".")[0] in sys.stdlib_module_names or module == "__future__"


def _within(module: str, package: str) -> bool:
    return module == package or module.startswith(package + ".")


def violations(root: Path) -> list[str]:
    found: list[str] = []
    for path in sorted(root.rglob("*.py")):
        rel = path.relative_to(root).as_posix()
        top = rel.split("/")[0]
        if top not in (*FOLDERS, "crmform"):
            continue
        for line, module in imports(path):
            problem = _rule(rel, top, module)
            if problem:
                found.append(f"{rel}:{line}: imports {module}: {problem}")
    return found


def _rule(rel: str, top: str, module: str) -> str | None:
    top_module = module.split(".")[0]
    if top_module == "click" and top != "crmform":
        return "only crmform/ (the console) imports click"
    if top == "crmform":
        if rel.startswith("crmform/commands/") and any(
            _within(module, m) for m in COMMAND_FORBIDDEN
        ):
            return "commands call engine.operations, not the planner, applier or drift"
        return None
    if _is_stdlib(module):
        return None
    if top == "engine":
        if top_module == "crmform":
            return None if _within(module, "crmform.engine") else "engine imports only engine.*"
        allowed = set().union(*(v for k, v in ENGINE_THIRD_PARTY.items() if rel.startswith(k)))
        return None if top_module in allowed else f"engine may not import {top_module}"
    # providers/ and state/
    if top_module != "crmform":
        return None  # their own drivers (httpx, psycopg, boto3), imported where needed
    if _within(module, FOLDERS[top]) or module in ("crmform", "crmform.__version__"):
        return None  # its own package, and the version (a User-Agent names it)
    allowed = ADAPTER_ENGINE | (STATE_EXTRA if top == "state" else set())
    if any(_within(module, m) for m in allowed):
        return None
    if module.rsplit(".", 1)[0] in allowed:  # `from crmform.engine.model import Field`
        return None
    return f"{top}/ imports only engine.model, engine.ports and engine.errors of the engine"


def test_every_module_follows_the_import_rules():
    assert violations(REPO) == []


def test_a_planted_violation_is_found(tmp_path):
    for folder in (*FOLDERS, "crmform"):
        shutil.copytree(REPO / folder, tmp_path / folder, ignore=shutil.ignore_patterns("*.pyc"))
    planted = {
        "engine/planner.py": "import httpx\n",
        "engine/model.py": "from crmform.state.local import LocalState\n",
        "providers/gong/wire.py": "from crmform.engine.planner import plan\n",
        "state/local.py": "import click\n",
        "crmform/commands/plan_extra.py": "from crmform.engine import planner\n",
    }
    for rel, line in planted.items():
        path = tmp_path / rel
        path.write_text((path.read_text(encoding="utf-8") if path.exists() else "") + line)
    found = "\n".join(violations(tmp_path))
    for rel in planted:
        assert rel in found, (rel, found)

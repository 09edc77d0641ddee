"""crmform.toml: the project file that picks the state backend, a few pinned defaults and
the environments (one Gong tenant each).

Pure: `find_project(start)` says which file applies (it lives in project_file.py, so that
finding none imports nothing of this module), `load_project(text, path, env)` reads one into
typed settings (tomllib), taking `${VAR}` and `CRMFORM_BACKEND_<KEY>` from `env`.
Every problem is a ProjectError naming the file, the line and the key. No file: callers
keep today's behaviour (the local state file).

```toml
schema_dir = "schema"          # the default DIR of the commands
lock_timeout = 30              # the default --lock-timeout
[backend]
type = "pg"                    # local | pg | http | s3
conn_str = "${CRMFORM_PG_CONN_STR}"
[env.sandbox]
state = "sandbox"              # the backend's state name (see STATE_KEY)
gong_base_url = "https://us-1.api.gong.io"
integration_id_var = "GONG_SANDBOX_INTEGRATION_ID"
```
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path

from crmform.engine.config.project_file import FILE_NAME, find_project
from crmform.engine.errors import CrmformError

__all__ = [
    "BACKEND_KEYS",
    "FILE_NAME",
    "STATE_KEY",
    "BackendConfig",
    "BackendType",
    "Environment",
    "Project",
    "ProjectError",
    "find_project",
    "load_project",
    "schema_text",
]


class ProjectError(CrmformError):
    """crmform.toml cannot be used; the message names the file, the line and the key."""


class BackendType(StrEnum):
    LOCAL = "local"
    PG = "pg"
    HTTP = "http"
    S3 = "s3"


# Per backend: key -> required. Terraform's names where Terraform has the backend.
BACKEND_KEYS: Mapping[BackendType, Mapping[str, bool]] = {
    BackendType.LOCAL: {"path": False},
    BackendType.PG: {"conn_str": True, "schema_name": False, "name": False},
    BackendType.HTTP: {
        "address": True,
        "lock_address": True,
        "unlock_address": False,
        "update_method": False,
        "lock_method": False,
        "unlock_method": False,
        "username": False,
        "password": False,
        "retry_max": False,
        "retry_wait_min": False,
        "retry_wait_max": False,
        "skip_cert_verification": False,
    },
    BackendType.S3: {"bucket": True, "key": True, "region": False, "endpoint_url": False},
}
# The key an environment's `state` sets; http puts it where its addresses say "{state}".
STATE_KEY: Mapping[BackendType, str] = {
    BackendType.LOCAL: "path",
    BackendType.PG: "name",
    BackendType.HTTP: "{state}",
    BackendType.S3: "key",
}
_TOP_KEYS = {"schema_dir", "lock_timeout", "backend", "env"}
_ENV_KEYS = {"state", "gong_base_url", "integration_id_var"}
_VAR = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")
_NAME = re.compile(r"[A-Za-z0-9_-]+")


@dataclass(frozen=True, slots=True)
class BackendConfig:
    type: BackendType
    keys: tuple[tuple[str, str], ...]  # expanded values, sorted by key

    def get(self, key: str, default: str = "") -> str:
        return dict(self.keys).get(key, default)


@dataclass(frozen=True, slots=True)
class Environment:
    name: str
    state: str = ""
    gong_base_url: str = ""
    integration_id_var: str = ""


@dataclass(frozen=True, slots=True)
class Project:
    path: Path
    backend: BackendConfig
    schema_dir: Path | None = None  # resolved against the file's folder
    lock_timeout: float | None = None
    environment: Environment | None = None
    environments: tuple[str, ...] = ()


def schema_text() -> str:
    """The JSON Schema of crmform.toml (as parsed by tomllib), shipped as package data."""
    from importlib import resources

    package = resources.files("crmform.engine.config")
    return package.joinpath("project.schema.json").read_text(encoding="utf-8")


def load_project(text: str, path: Path, env: Mapping[str, str], env_name: str = "") -> Project:
    where = _Where(text, path)
    try:
        doc = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ProjectError(f"{path}: not valid TOML ({exc}).") from exc
    for key in doc:
        if key not in _TOP_KEYS:
            raise where.error("", key, f"unknown key; known keys: {', '.join(sorted(_TOP_KEYS))}")
    schema_dir = doc.get("schema_dir")
    if schema_dir is not None and not isinstance(schema_dir, str):
        raise where.error("", "schema_dir", "must be a string (a folder path)")
    lock_timeout = doc.get("lock_timeout")
    if lock_timeout is not None and (
        isinstance(lock_timeout, bool) or not isinstance(lock_timeout, int | float)
    ):
        raise where.error("", "lock_timeout", "must be a number of seconds")
    if lock_timeout is not None and lock_timeout < 0:
        raise where.error("", "lock_timeout", "must not be negative")
    environments = _environments(doc.get("env", {}), where)
    chosen = None
    if env_name:
        if env_name not in environments:
            known = ", ".join(environments) or "none"
            raise ProjectError(
                f"{path}: no environment {env_name!r} (--env, CRMFORM_ENV); environments in "
                f"the file: {known}. Add an [env.{env_name}] table or pick one of those."
            )
        chosen = environments[env_name]
    backend = _backend(doc.get("backend", {}), where, env, chosen)
    return Project(
        path=path,
        backend=backend,
        schema_dir=(path.parent / schema_dir) if schema_dir else None,
        lock_timeout=float(lock_timeout) if lock_timeout is not None else None,
        environment=chosen,
        environments=tuple(environments),
    )


def _environments(table: object, where: _Where) -> dict[str, Environment]:
    if not isinstance(table, dict):
        raise where.error("", "env", "must be a table of [env.<name>] tables")
    found: dict[str, Environment] = {}
    for name, body in table.items():
        if not _NAME.fullmatch(name) or not isinstance(body, dict):
            raise where.error(
                "", f"env.{name}", "must be a table named with letters, digits, - or _"
            )
        for key, value in body.items():
            if key not in _ENV_KEYS:
                known = ", ".join(sorted(_ENV_KEYS))
                raise where.error(f"env.{name}", key, f"unknown key; known keys: {known}")
            if not isinstance(value, str) or not value:
                raise where.error(f"env.{name}", key, "must be a non-empty string")
        found[name] = Environment(name, **body)
    return found


def _backend(
    table: object, where: _Where, env: Mapping[str, str], chosen: Environment | None
) -> BackendConfig:
    if not isinstance(table, dict):
        raise where.error("", "backend", "must be a table ([backend])")
    raw_type = table.get("type", env.get("CRMFORM_BACKEND_TYPE", "local"))
    try:
        kind = BackendType(raw_type)
    except ValueError:
        known = " | ".join(t.value for t in BackendType)
        raise where.error("backend", "type", f"must be one of {known}") from None
    allowed = BACKEND_KEYS[kind]
    values: dict[str, str] = {}
    for key, value in table.items():
        if key == "type":
            continue
        if key not in allowed:
            known = ", ".join(sorted(allowed))
            raise where.error("backend", key, f"unknown key for type {kind}; known keys: {known}")
        if isinstance(value, bool):
            value = "true" if value else "false"
        if not isinstance(value, str | int | float):
            raise where.error("backend", key, "must be a string or a number")
        if key == "password" and not _VAR.fullmatch(str(value)):
            raise where.error(
                "backend",
                key,
                'must come from the environment: write "${SOME_VAR}" or set '
                "CRMFORM_BACKEND_PASSWORD; secrets never live in the file",
            )
        values[key] = _expand(str(value), env, where, key)
    for key in allowed:  # CI's secret store: CRMFORM_BACKEND_<KEY> wins over the file
        from_env = env.get(f"CRMFORM_BACKEND_{key.upper()}")
        if from_env is not None:
            values[key] = from_env
    if chosen is not None and chosen.state:
        state_key = STATE_KEY[kind]
        if state_key == "{state}":
            if "{state}" not in values.get("address", ""):
                raise where.error(
                    "backend",
                    "address",
                    f'has no "{{state}}" for environment {chosen.name}\'s state to go in',
                )
            values = {k: v.replace("{state}", chosen.state) for k, v in values.items()}
        else:
            values[state_key] = chosen.state
    missing = [k for k, required in allowed.items() if required and not values.get(k)]
    if missing:
        raise where.error(
            "backend",
            missing[0],
            f"is required for type {kind} (in the file or as CRMFORM_BACKEND_{missing[0].upper()})",
            present=False,
        )
    return BackendConfig(kind, tuple(sorted(values.items())))


def _expand(value: str, env: Mapping[str, str], where: _Where, key: str) -> str:
    def one(match: re.Match[str]) -> str:
        name = match.group(1)
        if name not in env:
            raise where.error("backend", key, f"uses ${{{name}}}, which is not set")
        return env[name]

    return _VAR.sub(one, value)


class _Where:
    """Lines of keys in the file's text, for messages (tomllib keeps no positions)."""

    def __init__(self, text: str, path: Path) -> None:
        self.lines = text.splitlines()
        self.path = path

    def error(self, table: str, key: str, problem: str, *, present: bool = True) -> ProjectError:
        line = self._line(table, key) if present else self._line(table, None)
        at = f"{self.path}:{line}" if line else str(self.path)
        name = f"{table}.{key}" if table else key
        return ProjectError(f"{at}: {name} {problem}.")

    def _line(self, table: str, key: str | None) -> int | None:
        current = ""
        header = re.compile(r"\s*\[([^\]]+)\]\s*(#.*)?$")
        for number, text in enumerate(self.lines, 1):
            found = header.match(text)
            if found:
                current = found.group(1).strip().replace('"', "")
                if key is None and current == table:
                    return number
                continue
            if key is None:
                continue
            if current == table and re.match(rf"\s*\"?{re.escape(key)}\"?\s*=", text):
                return number
            if not table and re.match(rf"\s*\[{re.escape(key)}", text):
                return number
        if key and "." in key:  # a table key such as env.sandbox
            return self._line(key, None)
        return None

"""One state backend from a backend type and its keys (crmform.toml's [backend], already
expanded and checked by engine/config/project.py). The drivers are imported only for the
type chosen, so crmform runs without psycopg or boto3 unless they are used."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from crmform.engine.errors import StateError
from crmform.engine.ports import StateBackend

__all__ = ["make_backend", "scratch_keys"]

# The key naming the state, per backend; http's state is where its addresses point.
_NAME_KEY = {"local": "path", "pg": "name", "s3": "key"}


def scratch_keys(kind: str, keys: Mapping[str, str], suffix: str) -> dict[str, str]:
    """`keys` for a scratch state beside the configured one, its name ending in `suffix`."""
    scratch = dict(keys)
    if kind == "http":
        address = keys["address"].split("?", 1)[0].rstrip("/")
        for key in ("address", "lock_address", "unlock_address"):
            if key in scratch and scratch[key].startswith(address):
                scratch[key] = address + suffix + scratch[key][len(address) :]
        return scratch
    default = {"local": "crmform.state.json", "pg": "default"}.get(kind, "")
    scratch[_NAME_KEY[kind]] = keys.get(_NAME_KEY[kind], default) + suffix
    return scratch


def make_backend(kind: str, keys: Mapping[str, str], folder: Path) -> StateBackend:
    """`folder`: where a relative local path is taken from (the config file's folder)."""
    if kind == "local":
        from crmform.state.local import LocalState

        return LocalState(folder / keys.get("path", "crmform.state.json"))
    if kind == "pg":
        _needs("psycopg", "pg")
        from crmform.state.pg import PgState

        return PgState(
            keys["conn_str"],
            name=keys.get("name", "default"),
            schema=keys.get("schema_name", "crmform"),
        )
    if kind == "http":
        from crmform.state.http import HttpSettings, HttpState
        from crmform.state.http_wire import RetryPolicy

        lock_address = keys["lock_address"]
        return HttpState(
            HttpSettings(
                address=keys["address"],
                lock_address=lock_address,
                unlock_address=keys.get("unlock_address", lock_address),
                update_method=keys.get("update_method", "POST"),
                lock_method=keys.get("lock_method", "LOCK"),
                unlock_method=keys.get("unlock_method", "UNLOCK"),
                username=keys.get("username", ""),
                password=keys.get("password", ""),
                retry=RetryPolicy(
                    int(_float(keys, "retry_max", 2)),
                    _float(keys, "retry_wait_min", 1.0),
                    _float(keys, "retry_wait_max", 30.0),
                ),
                skip_cert_verification=keys.get("skip_cert_verification") == "true",
            )
        )
    if kind == "s3":
        _needs("boto3", "s3")
        from crmform.state.s3 import S3Settings, S3State

        return S3State(
            S3Settings(
                keys["bucket"],
                keys["key"],
                region=keys.get("region", ""),
                endpoint_url=keys.get("endpoint_url", ""),
            )
        )
    raise StateError(f"Unknown backend type {kind!r}: use local, pg, http or s3.")


def _needs(module: str, extra: str) -> None:
    import importlib.util

    if importlib.util.find_spec(module) is None:
        raise StateError(
            f"The {extra} state backend needs {module}, which is not installed: "
            f"pip install 'crmform[{extra}]'."
        )


def _float(keys: Mapping[str, str], key: str, default: float) -> float:
    text = keys.get(key)
    if text is None:
        return default
    try:
        return float(text)
    except ValueError:
        raise StateError(f"The backend key {key} must be a number, not {text!r}.") from None

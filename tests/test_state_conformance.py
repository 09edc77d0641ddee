"""Every backend passes state/conformance.py: one test per check and backend.

A backend joins by adding a fixture to BACKENDS that returns a MakeBackend bound to a
fresh, empty stored state (a new directory, state name, key or URL per test).
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from pg_server import PgServer

from crmform.state.conformance import CHECKS, MakeBackend, Traits
from crmform.state.local import LocalState


@pytest.fixture
def local(tmp_path: Path) -> tuple[MakeBackend, Traits]:
    return (lambda: LocalState(tmp_path / "crmform.state.json")), Traits()


@pytest.fixture
def local_without_flock(tmp_path: Path) -> tuple[MakeBackend, Traits]:
    return (lambda: LocalState(tmp_path / "crmform.state.json", flock=False)), Traits()


@pytest.fixture
def pg(pg_server: PgServer) -> Iterator[tuple[MakeBackend, Traits]]:
    from crmform.state.pg import PgState

    name, handles = f"test-{uuid.uuid4()}", []

    def make() -> PgState:
        handles.append(PgState(pg_server.conn_str(), name=name))
        return handles[-1]

    yield make, Traits()
    for handle in handles:
        handle.close()


BACKENDS = ["local", "local_without_flock", "pg"]


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("check", CHECKS, ids=[c.__name__ for c in CHECKS])
def test_conformance(check, backend, request):
    make, traits = request.getfixturevalue(backend)
    check(make, traits)

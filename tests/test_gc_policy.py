"""The CLI's cycle-collector policy (crmform/cli.py) and what it relies on: the collector
stays off for the whole run, the Gong client leaves no reference cycle behind per request,
and collect_from_now() sweeps the young generations once per upload."""

from __future__ import annotations

import gc
from collections.abc import Iterator

import httpx
import pytest
from gong_mock import FIELD_A, FIELD_A_JSON, INTEGRATION, listing, make, ok

import crmform.cli
from crmform.engine.model import ObjectType


@pytest.fixture
def collector_off() -> Iterator[None]:
    """The collector as main() leaves it (off), restored afterwards; no earlier garbage."""
    gc.collect()
    gc.disable()
    try:
        yield
    finally:
        gc.set_debug(0)
        gc.garbage.clear()
        gc.enable()


def _cyclic_garbage() -> list[str]:
    """The type names of what only the cycle collector could free now."""
    gc.set_debug(gc.DEBUG_SAVEALL)
    try:
        gc.collect()
        return sorted({type(o).__qualname__ for o in gc.garbage})
    finally:
        gc.set_debug(0)
        gc.garbage.clear()


def test_a_gong_exchange_leaves_no_cycle_holding_the_response(collector_off):
    # Fresh responses per request: the script's own would stay referenced by the script.
    client, _, _, _ = make(lambda request: listing("ACCOUNT", [FIELD_A_JSON]), lambda request: ok())
    with client:
        remote = client.read_schema(INTEGRATION, ObjectType.ACCOUNT)
        client.write_schema(INTEGRATION, ObjectType.ACCOUNT, [FIELD_A])
    assert [f.unique_name for f in remote[ObjectType.ACCOUNT].fields] == ["fieldA"]
    found = _cyclic_garbage()
    assert "Response" not in found, found
    assert "BoundSyncStream" not in found, found


def test_httpx_itself_still_makes_the_cycle_the_client_breaks(collector_off):
    # If httpx stops binding responses to their streams, _unbind can go.
    with httpx.Client(transport=httpx.MockTransport(lambda request: ok())) as plain:
        plain.get("http://gong.test/")
    assert "Response" in _cyclic_garbage()


def test_collect_from_now_freezes_once_keeps_the_collector_off_and_sweeps(
    collector_off, monkeypatch
):
    swept: list[tuple[int, int]] = []

    def note(phase: str, info: dict[str, int]) -> None:
        if phase == "stop":
            swept.append((info["generation"], info["collected"]))

    monkeypatch.setattr(crmform.cli, "_frozen", False)
    try:
        crmform.cli.collect_from_now()  # before Gong is read
        frozen = gc.get_freeze_count()
        assert frozen > 0
        assert not gc.isenabled()
        cycle: list[object] = []
        cycle.append(cycle)
        del cycle
        gc.callbacks.append(note)
        crmform.cli.collect_from_now()  # before the next upload
        gc.callbacks.remove(note)
        assert not gc.isenabled()
        assert gc.get_freeze_count() == frozen  # nothing is frozen twice
        assert [generation for generation, _ in swept] == [1]  # the young generations
        assert swept[0][1] >= 1  # the cycle
        assert _cyclic_garbage() == []
    finally:
        if note in gc.callbacks:
            gc.callbacks.remove(note)
        gc.unfreeze()


def test_collect_from_now_leaves_a_running_collector_alone():
    assert gc.isenabled()  # tests keep their own collector: nothing is frozen or collected
    crmform.cli.collect_from_now()
    assert gc.get_freeze_count() == 0
    assert gc.isenabled()

"""The emulator as a strict stand-in for fault tests: rules that drop, garble or delay an
answer (before or after carrying out the upload), seeded random faults, late landings, both
in process (EmulatorTransport) and over HTTP."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import pytest
from factories import FakeTime

from crmform.engine.errors import ProviderError, UncertainOutcomeError
from crmform.engine.model import Field, FieldType, ObjectType
from crmform.engine.ports import FieldWrite
from crmform.providers.gong.client import GongClient
from crmform.providers.gong.emulator import GongEmulator, serve
from crmform.providers.gong.emulator_faults import (
    Fault,
    FaultKind,
    RandomFaults,
    parse_fault,
)
from crmform.providers.gong.emulator_transport import EmulatorTransport
from crmform.providers.gong.settings import GongSettings

ID = 6286478263646
A = FieldWrite(Field("fieldA", "Field A", FieldType.STRING))


def in_process(emulator: GongEmulator, fake: FakeTime, **settings) -> GongClient:
    options = {"rate": 1000.0, **settings}
    return GongClient(
        GongSettings(base_url="http://localhost", access_key="k", access_key_secret="s", **options),
        transport=EmulatorTransport(emulator),
        sleep=fake.sleep,
        clock=fake.clock,
        random=lambda: 0.5,
    )


def names(emulator: GongEmulator) -> list[str]:
    return [f["uniqueName"] for f in emulator.schema(ID, "ACCOUNT")]


# -- rules, in process ------------------------------------------------------------------------


@pytest.mark.parametrize("after_apply", [False, True])
def test_a_dropped_connection_reaches_the_client_as_a_disconnect(after_apply):
    fake = FakeTime()
    emulator = GongEmulator(clock=fake.clock)
    emulator.drop_next(5, method="POST", after_apply=after_apply)
    with pytest.raises(UncertainOutcomeError) as caught:
        in_process(emulator, fake).write_schema(ID, ObjectType.ACCOUNT, [A])
    assert "RemoteProtocolError" in caught.value.what_came_back
    assert len(emulator.requests) == 5
    assert names(emulator) == (["fieldA"] if after_apply else [])


@pytest.mark.parametrize("after_apply", [False, True])
def test_a_page_instead_of_gongs_json_is_uncertain_and_lands_only_after_apply(after_apply):
    fake = FakeTime()
    emulator = GongEmulator(clock=fake.clock)
    emulator.garble_next(method="POST", after_apply=after_apply)
    with pytest.raises(UncertainOutcomeError) as caught:
        in_process(emulator, fake).write_schema(ID, ObjectType.ACCOUNT, [A])
    assert caught.value.what_came_back.startswith("HTTP 200 text/html: '<html><head>")
    assert len(emulator.requests) == 1
    assert names(emulator) == (["fieldA"] if after_apply else [])


def test_applied_then_500_is_an_upload_gong_has_and_the_client_calls_uncertain():
    fake = FakeTime()
    emulator = GongEmulator(clock=fake.clock)
    emulator.fail_next(500, 3, method="POST", after_apply=True)
    with pytest.raises(UncertainOutcomeError):
        in_process(emulator, fake, max_attempts=3).write_schema(ID, ObjectType.ACCOUNT, [A])
    assert names(emulator) == ["fieldA"]


def test_an_upload_delayed_past_the_client_timeout_lands_after_the_client_gave_up():
    fake = FakeTime()
    emulator = GongEmulator(clock=fake.clock)
    emulator.delay_next(5.0, method="POST")
    client = in_process(emulator, fake, timeout=1.0, max_attempts=1)
    with pytest.raises(UncertainOutcomeError) as caught:
        client.write_schema(ID, ObjectType.ACCOUNT, [A])
    assert caught.value.what_came_back == "no answer within 1s (ReadTimeout)"
    assert names(emulator) == []  # not yet
    fake.sleep(4.0)
    assert client.read_schema(ID, ObjectType.ACCOUNT)[ObjectType.ACCOUNT].fields == ()
    fake.sleep(1.0)
    (field,) = client.read_schema(ID, ObjectType.ACCOUNT)[ObjectType.ACCOUNT].fields
    assert field.unique_name == "fieldA"  # the late POST landed


def test_a_late_upload_lands_over_a_newer_one_as_a_slow_gong_would():
    fake = FakeTime()
    emulator = GongEmulator(clock=fake.clock)
    emulator.delay_next(5.0, method="POST")
    client = in_process(emulator, fake, timeout=1.0, max_attempts=1)
    relabelled = FieldWrite(Field("fieldA", "Relabelled", FieldType.STRING))
    with pytest.raises(UncertainOutcomeError):
        client.write_schema(ID, ObjectType.ACCOUNT, [relabelled])
    client.write_schema(ID, ObjectType.ACCOUNT, [A])
    assert emulator.schema(ID, "ACCOUNT")[0]["label"] == "Field A"
    assert emulator.land_late(all_of_them=True) == 1
    assert emulator.schema(ID, "ACCOUNT")[0]["label"] == "Relabelled"


def test_a_short_delay_only_slows_the_answer():
    slept: list[float] = []
    emulator = GongEmulator(sleep=slept.append)
    emulator.delay_next(0.5)
    in_process(emulator, FakeTime(), timeout=1.0).write_schema(ID, ObjectType.ACCOUNT, [A])
    assert slept == [0.5]
    assert names(emulator) == ["fieldA"]


def test_a_late_landing_never_fires_the_rules_meant_for_later_requests():
    fake = FakeTime()
    emulator = GongEmulator(clock=fake.clock)
    emulator.delay_next(5.0, method="POST")
    client = in_process(emulator, fake, timeout=1.0, max_attempts=1)
    with pytest.raises(UncertainOutcomeError):
        client.write_schema(ID, ObjectType.ACCOUNT, [A])
    emulator.fail_next(500, method="POST", after_apply=True)
    assert emulator.land_late(all_of_them=True) == 1
    with pytest.raises(UncertainOutcomeError):  # the rule is still there for this one
        client.write_schema(ID, ObjectType.ACCOUNT, [A])


# -- rules as words, and random faults ---------------------------------------------------------


@pytest.mark.parametrize(
    ("spec", "fault"),
    [
        ("500", Fault(FaultKind.STATUS, 1, 500, errors=("Internal Server Error",))),
        (
            "503 after-apply times=3 method=post object-type=DEAL retry-after=2",
            Fault(
                FaultKind.STATUS,
                3,
                503,
                "POST",
                None,
                "DEAL",
                ("Service Unavailable",),
                2,
                after_apply=True,
            ),
        ),
        ("drop after-apply", Fault(FaultKind.DROP, 1, 500, after_apply=True)),
        ("not-json status=202", Fault(FaultKind.NOT_JSON, 1, 202)),
        ("delay=2.5 times=2", Fault(FaultKind.DELAY, 2, seconds=2.5)),
    ],
)
def test_fault_rules_read_from_words(spec, fault):
    assert parse_fault(spec) == fault


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ("", "an empty fault"),
        ("explode", "unknown fault 'explode'"),
        ("500 sometimes", "unknown fault option 'sometimes'"),
        ("500 times=x", "times must be a number in 'times=x'"),
        ("500 times=0", "a fault fires 1 to 1000 times, not 0"),
        ("delay=301", "a delay is 0 to 300 seconds, not 301"),
        ("delay=1 after-apply", "a delay acts before the request is handled"),
        ("799", "799 is not an HTTP status"),
        ("500 status=502", "unknown fault option 'status=502'"),
    ],
)
def test_bad_fault_rules_say_what_is_wrong(spec, message):
    with pytest.raises(ValueError, match="^" + message.replace("(", r"\(")):
        parse_fault(spec)


def _outcomes(seed: int) -> list[str]:
    fake = FakeTime()
    emulator = GongEmulator(clock=fake.clock, rng=1)
    emulator.fail_randomly(seed, 0.5, limit=6)
    client = in_process(emulator, fake, max_attempts=1)
    seen = []
    for n in range(20):
        write = FieldWrite(Field(f"f{n}", "F", FieldType.STRING))
        try:
            client.write_schema(ID, ObjectType.ACCOUNT, [*map(_alive, names(emulator)), write])
            seen.append("ok")
        except UncertainOutcomeError as error:
            seen.append(f"uncertain {error.what_came_back[:12]}")
        except ProviderError as error:
            seen.append(f"failed {error.status}")
    return seen


def _alive(name: str) -> FieldWrite:
    return FieldWrite(Field(name, "F", FieldType.STRING))


def test_random_faults_are_seeded_and_bounded():
    first, again, other = _outcomes(7), _outcomes(7), _outcomes(8)
    assert first == again
    assert first != other
    assert 1 <= sum(o != "ok" for o in first) <= 6


def test_random_faults_draw_the_same_values_per_request_whatever_fires():
    faults = RandomFaults(3, 1.0, limit=2)
    drawn = [faults.draw("POST") for _ in range(4)]
    assert [d is not None for d in drawn] == [True, True, False, False]
    assert faults.draw("GET") is None
    with pytest.raises(ValueError, match="between 0 and 1"):
        RandomFaults(1, 1.5, 1)


# -- over HTTP --------------------------------------------------------------------------------


@contextmanager
def serving(emulator: GongEmulator, requests: int) -> Iterator[str]:
    ports: list[int] = []
    listening = threading.Event()
    handled: list[int] = []

    def ready(port: int) -> None:
        ports.append(port)
        listening.set()

    thread = threading.Thread(
        target=lambda: handled.append(
            serve(emulator, "127.0.0.1", 0, max_requests=requests, max_seconds=20, ready=ready)
        ),
        daemon=True,
    )
    thread.start()
    assert listening.wait(10)
    yield f"http://127.0.0.1:{ports[0]}"
    thread.join(20)
    assert not thread.is_alive()
    assert handled == [requests]


def over_http(base: str, **settings) -> GongClient:
    options = {"rate": 1000.0, **settings}
    return GongClient(GongSettings(base_url=base, access_key="k", access_key_secret="s", **options))


def test_over_http_a_dropped_connection_after_apply_is_uncertain_and_applied():
    emulator = GongEmulator()
    emulator.drop_next(method="POST", after_apply=True)
    with serving(emulator, 2) as base, over_http(base, max_attempts=1) as client:
        with pytest.raises(UncertainOutcomeError) as caught:
            client.write_schema(ID, ObjectType.ACCOUNT, [A])
        assert "RemoteProtocolError" in caught.value.what_came_back
        read = client.read_schema(ID, ObjectType.ACCOUNT)[ObjectType.ACCOUNT]
    assert [f.unique_name for f in read.fields] == ["fieldA"]


def test_over_http_a_late_post_lands_while_other_requests_are_served():
    emulator = GongEmulator()
    emulator.delay_next(1.5, method="POST")
    with serving(emulator, 3) as base, over_http(base, timeout=0.3, max_attempts=1) as client:
        started = time.monotonic()
        with pytest.raises(UncertainOutcomeError):
            client.write_schema(ID, ObjectType.ACCOUNT, [A])
        assert time.monotonic() - started < 1.2  # the client gave up at its own timeout
        before = client.read_schema(ID, ObjectType.ACCOUNT)[ObjectType.ACCOUNT].fields
        _wait_for(lambda: names(emulator) == ["fieldA"], 5.0)
        after = client.read_schema(ID, ObjectType.ACCOUNT)[ObjectType.ACCOUNT].fields
    assert before == ()  # served while the POST was still held
    assert [f.unique_name for f in after] == ["fieldA"]


def _wait_for(condition: Callable[[], bool], seconds: float) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.02)


# -- the late-landing POST of issue 11 §1, through the CLI --------------------------------------


def test_a_timed_out_upload_that_lands_later_is_settled_not_overwritten(tmp_path, monkeypatch):
    from emulated import Gong, field

    monkeypatch.chdir(tmp_path)
    gong = Gong(tmp_path)
    gong.write("ACCOUNT", "a")
    assert gong.apply("--auto-approve").code == 0
    gong.write("ACCOUNT", field("a", label="New label"))
    gong.emulator.delay_next(60.0, times=5, method="POST")
    timed_out = gong.apply("--auto-approve", "--timeout", "1")
    assert timed_out.code == 1
    assert "ReadTimeout" in timed_out.stderr
    assert gong.emulator.schema(ID, "ACCOUNT")[0]["label"] == "A"  # not yet

    # Someone now changes the type and approves deleting the data: refused while it may land.
    gong.write("ACCOUNT", field("a", "NUMBER"))
    refused = gong.apply("--auto-approve", "--allow-destroy")
    assert refused.code == 1
    assert "may still be applied by Gong" in refused.stderr

    assert gong.emulator.land_late(all_of_them=True) == 5  # every try lands, late
    assert gong.emulator.schema(ID, "ACCOUNT")[0]["label"] == "New label"
    settled = gong.apply("--auto-approve", "--allow-destroy")
    assert settled.code == 0, settled.stderr
    assert "shows in Gong: recorded as applied" in settled.stderr
    assert gong.remote() == {"a": "NUMBER"}

"""Serving the emulator (serve) and `crmform emulator`'s start-up: signals stop it between
requests, IPv6 loopback works, and every refusal says what to do (issue 13's rough edges)."""

from __future__ import annotations

import os
import signal
import socket
import threading
import time
from collections.abc import Callable
from pathlib import Path
from types import FrameType
from typing import Any

import httpx
import pytest
from conftest import Cli

from crmform.providers.gong.emulator import GongEmulator, serve
from crmform.providers.gong.emulator_server import AddressInUse, display_host


def _signalling_app(signum: int, *, to_this_thread: bool = False):
    """An app whose first request delivers `signum` to this process while it is handled,
    then answers: the signal lands inside the request, where wsgiref used to swallow it.
    `to_this_thread`: to the thread serving the request, not the main one (the kernel may
    pick any thread for a signal sent to the process)."""

    def app(environ, start_response):
        if to_this_thread:
            signal.pthread_kill(threading.get_ident(), signum)
        else:
            os.kill(os.getpid(), signum)
        time.sleep(0.05)  # let the handler run while this request is in flight
        start_response("200 OK", [("Content-Type", "text/plain"), ("Content-Length", "2")])
        return [b"ok"]

    return app


@pytest.mark.parametrize("to_this_thread", [False, True], ids=["process", "serving-thread"])
@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM])
def test_a_signal_during_a_request_stops_the_server_after_answering_it(signum, to_this_thread):
    answers: list[int] = []
    clients: list[threading.Thread] = []

    def ready(port: int) -> None:
        def ask() -> None:
            answers.append(httpx.get(f"http://127.0.0.1:{port}/", timeout=5).status_code)

        clients.append(threading.Thread(target=ask, daemon=True))
        clients[0].start()

    # As on a terminal: a shell starts background jobs (a CI runner's, say) with SIGINT
    # ignored, and serve rightly leaves an ignored SIGINT ignored.
    inherited = signal.signal(signum, _foreground(signum))
    try:
        before = signal.getsignal(signum)
        started = time.monotonic()
        app = _signalling_app(signum, to_this_thread=to_this_thread)
        handled = serve(app, "127.0.0.1", 0, max_seconds=10, ready=ready)
        assert handled == 1
        assert time.monotonic() - started < 5  # stopped by the signal, not by max_seconds
        clients[0].join(5)
        assert answers == [200]  # the request in flight was answered in full
        assert signal.getsignal(signum) == before  # the caller's handler is back
    finally:
        signal.signal(signum, inherited)


def _foreground(signum: int) -> Callable[[int, FrameType | None], Any] | signal.Handlers:
    """The handler a foreground Python process has for `signum`."""
    return signal.default_int_handler if signum == signal.SIGINT else signal.SIG_DFL


def test_an_ignored_sigint_stays_ignored_while_serving():
    previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        seen: list[object] = []
        serve(
            GongEmulator(),
            "127.0.0.1",
            0,
            max_seconds=0.05,
            ready=lambda port: seen.append(signal.getsignal(signal.SIGINT)),
        )
        assert seen == [signal.SIG_IGN]
    finally:
        signal.signal(signal.SIGINT, previous)


def test_serve_answers_on_ipv6_loopback():
    ports: list[int] = []
    listening = threading.Event()

    def ready(port: int) -> None:
        ports.append(port)
        listening.set()

    thread = threading.Thread(
        target=lambda: serve(GongEmulator(), "::1", 0, max_requests=1, max_seconds=10, ready=ready),
        daemon=True,
    )
    thread.start()
    assert listening.wait(10)
    response = httpx.get(f"http://[::1]:{ports[0]}/v2/crm/entity-schema?integrationId=1")
    thread.join(10)
    assert response.status_code == 200
    assert display_host("::1") == "[::1]"
    assert display_host("[::1]") == "[::1]"
    assert display_host("127.0.0.1") == "127.0.0.1"


def test_a_port_in_use_is_named():
    with socket.create_server(("127.0.0.1", 0)) as taken:
        port = taken.getsockname()[1]
        with pytest.raises(AddressInUse) as caught:
            serve(GongEmulator(), "127.0.0.1", port, max_seconds=1)
    assert (caught.value.host, caught.value.port) == ("127.0.0.1", port)
    assert str(caught.value).endswith(f"127.0.0.1:{port} is already in use")


# -- crmform emulator ------------------------------------------------------------------------


def test_the_command_names_the_port_in_use_and_suggests_port_0(cli: Cli):
    with socket.create_server(("127.0.0.1", 0)) as taken:
        port = taken.getsockname()[1]
        result = cli("emulator", "--port", port, "--max-seconds", "1")
    assert result.code == 1
    assert result.stderr == (
        f"Error: Cannot start the emulator: 127.0.0.1:{port} is already in use (another "
        "emulator?). Stop what listens there, choose another --port, or pass --port 0 for a "
        "free one (the line it prints names the port).\n"
    )


def test_the_remote_host_refusal_names_the_flag_that_allows_it(cli: Cli):
    result = cli("emulator", "--host", "0.0.0.0", "--max-seconds", "1")
    assert result.code == 1
    assert result.stderr == (
        "Error: Cannot start the emulator on 0.0.0.0: it is not a loopback address, and the "
        "emulator accepts any upload from anyone who reaches it. Use --host 127.0.0.1 (or "
        "::1); to serve on 0.0.0.0 anyway, pass --allow-remote.\n"
    )


def test_a_data_file_in_a_missing_folder_is_refused_before_starting(cli: Cli, tmp_path: Path):
    result = cli("emulator", "--data", tmp_path / "missing" / "x.json", "--max-seconds", "1")
    assert result.code == 1
    assert result.stderr == (
        f"Error: Cannot start the emulator: the folder of the data file "
        f"{tmp_path / 'missing' / 'x.json'} does not exist: create {tmp_path / 'missing'}.\n"
    )
    assert "listening" not in result.stderr


def test_a_data_path_that_is_a_folder_is_refused(tmp_path: Path):
    with pytest.raises(ValueError, match="is a directory; name a file in it instead"):
        GongEmulator(data_path=tmp_path)


def test_both_kinds_of_credentials_are_refused(cli: Cli):
    result = cli("emulator", "--access-key", "k", "--secret", "s", "--bearer", "t")
    assert result.code == 1
    assert (
        "--bearer and --access-key/--secret are two kinds of credentials; the emulator "
        "requires one kind. Pass --bearer, or --access-key and --secret, not both."
    ) in result.stderr
    assert "listening" not in result.stderr


@pytest.mark.parametrize(
    ("flags", "says"),
    [
        (("--fault", "explode"), "--fault: unknown fault 'explode'"),
        (("--random-faults", "x"), "--random-faults takes SEED,RATE,LIMIT such as 7,0.2,5"),
        (("--random-faults", "1,2,3"), "--random-faults: RATE is 0 to 1, LIMIT 0 to 1000."),
    ],
)
def test_bad_fault_flags_are_refused_before_starting(cli: Cli, flags, says):
    result = cli("emulator", *flags, "--max-seconds", "1")
    assert result.code == 1
    assert says in result.stderr
    assert "listening" not in result.stderr


def test_the_listening_line_brackets_an_ipv6_host(cli: Cli):
    result = cli("emulator", "--host", "::1", "--port", "0", "--max-seconds", "0.1")
    assert result.code == 0, result.stderr
    assert result.stderr.startswith("Gong emulator listening on http://[::1]:")
    assert result.stderr.endswith("Gong emulator stopped after 0 requests.\n")


def test_fault_rules_from_the_variable_reach_the_served_emulator(
    cli: Cli, monkeypatch: pytest.MonkeyPatch
):
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    monkeypatch.setenv("CRMFORM_EMULATOR_FAULT", "503 method=GET retry-after=7;drop method=POST")
    seen: list[object] = []

    def client() -> None:
        url = f"http://127.0.0.1:{port}/v2/crm/entity-schema?integrationId=1&objectType=DEAL"
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                got = httpx.get(url, timeout=5)
                break
            except httpx.ConnectError:
                time.sleep(0.02)
        seen.append((got.status_code, got.headers.get("retry-after")))
        try:
            httpx.post(url, content=b"[]", timeout=5)
        except httpx.RemoteProtocolError:
            seen.append("dropped")
        seen.append(httpx.post(url, content=b"[]", timeout=5).status_code)

    thread = threading.Thread(target=client, daemon=True)
    thread.start()
    result = cli("emulator", "--port", port, "--max-requests", "3")
    thread.join(10)
    assert result.code == 0, result.stderr
    assert seen == [(503, "7"), "dropped", 201]

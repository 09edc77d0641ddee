"""The apply harness: `crmform apply` against a fresh `crmform emulator` subprocess per run,
through a loopback relay that counts the HTTP requests crmform sends."""

from __future__ import annotations

import base64
import json
import re
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import Sequence
from pathlib import Path
from typing import BinaryIO

import generate  # a sibling file; run.py puts benchmarks/ on sys.path
from children import CHILD_TIMEOUT, CRMFORM, BenchError, Probe, child_env, prints

APPLY_FIELDS = 40_000  # issue 14's 4 object types x 10,000 fields
PACED_RATE = 3  # Gong's own limit, requests per second: the change step runs paced
PACE_FROM = 1000  # fields: the CI smoke size (20) is not paced, so it stays fast

# Under SIGINT the emulator says how many requests it served (a cross-check of our count);
# a parent shell may have started us with SIGINT ignored, which children would inherit.
EMULATOR = (
    sys.executable,
    "-c",
    "import signal; signal.signal(signal.SIGINT, signal.default_int_handler); "
    "from crmform.cli import main; main()",
)


class RequestCounter:
    """A loopback relay in front of the emulator noting each HTTP request it passes on.

    It reads request heads and Content-Length bodies (crmform sends no chunked bodies), so it
    counts right with or without keep-alive; responses are relayed untouched.
    """

    def __init__(self, upstream_port: int) -> None:
        self._upstream = upstream_port
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.port: int = self._listener.getsockname()[1]
        self._requests: list[tuple[str, str]] = []
        self._lock = threading.Lock()
        threading.Thread(target=self._accept, daemon=True).start()

    def take(self) -> list[tuple[str, str]]:
        """(method, target) of each request since the last call."""
        with self._lock:
            taken, self._requests = self._requests, []
        return taken

    def close(self) -> None:
        self._listener.close()

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self._listener.accept()
            except OSError:  # closed
                return
            threading.Thread(target=self._relay, args=(client,), daemon=True).start()

    def _relay(self, client: socket.socket) -> None:
        client.settimeout(CHILD_TIMEOUT)
        with client, socket.create_connection(("127.0.0.1", self._upstream)) as upstream:
            upstream.settimeout(CHILD_TIMEOUT)
            back = threading.Thread(target=_pipe, args=(upstream, client), daemon=True)
            back.start()
            try:
                reader = client.makefile("rb")
                while request := _read_request(reader):
                    with self._lock:
                        self._requests.append(request[0])
                    upstream.sendall(request[1])
                upstream.shutdown(socket.SHUT_WR)
            except OSError:
                pass
            back.join(CHILD_TIMEOUT)


def _read_request(reader: BinaryIO) -> tuple[tuple[str, str], bytes] | None:
    first = reader.readline(65536)
    if not first.strip():
        return None
    head = [first]
    while (line := reader.readline(65536)) not in (b"\r\n", b"\n", b""):
        head.append(line)
    length = 0
    for line in head[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value)
    method, target = first.decode("latin-1").split()[:2]
    return (method, target), b"".join(head) + b"\r\n" + (reader.read(length) if length else b"")


def _pipe(source: socket.socket, sink: socket.socket) -> None:
    try:
        while chunk := source.recv(65536):
            sink.sendall(chunk)
        sink.shutdown(socket.SHUT_WR)
    except OSError:
        pass


ACCESS_KEY, SECRET = "bench-access-key", "bench-secret-value"
_LISTENING = re.compile(r"listening on http://127\.0\.0\.1:(\d+)")
_STOPPED = re.compile(r"stopped after ([\d,]+) request")


PACED = "change, paced"  # the step whose wall time is held to the pacing floor


def apply_probes(
    workdir: Path, fields: int, runs: int, *, paced: bool = True
) -> tuple[list[Probe], list[str]]:
    """Per run, against a fresh emulator: apply the "before" schema (every field created),
    then the changed schema (a few percent changed in each of the four object types), then
    the same again (no changes), none of them paced (GONG_RATE_LIMIT=1000): what the client
    itself costs. With `paced` (from PACE_FROM fields), each run then does the change again
    against another fresh emulator at Gong's own 3 requests per second, the GONG_RATE_LIMIT
    default, so that its wall time can be held to the pacing floor, (requests - 1) / 3 s.
    Returns the steps and notes from the cross-checks."""
    schema_set = generate.build(fields)
    before_dir, after_dir = workdir / "before", workdir / "after"
    generate.write_schema_dir(generate.before_objects(schema_set), before_dir, "yaml")
    generate.write_schema_dir(schema_set.desired, after_dir, "yaml")
    flags = ("--auto-approve", "--allow-destroy", "--no-color")

    def step(name: str, directory: Path, text: str, posts: int) -> Probe:
        argv = (*CRMFORM, "apply", str(directory), *flags)
        return Probe(f"apply ({name})", argv, prints(0, text), runs, expect_posts=posts)

    # The generator changes every object type (a smoke test holds it to that): one POST each.
    create = step("create", before_dir, "Plan: ", len(schema_set.before))
    change_line = schema_set.expected.summary_line()
    steps = [
        create,
        step("change", after_dir, change_line, len(schema_set.desired)),
        step("unchanged", after_dir, "No changes.", 0),
    ]
    paced_change = step(PACED, after_dir, change_line, len(schema_set.desired))
    pace = paced and fields >= PACE_FROM
    notes: list[str] = []
    warm_up = runs > 1  # a first, discarded run, as measure() does
    for run in range(runs + warm_up):
        run_dir = workdir / f"run{run}"
        run_dir.mkdir()
        keep = run >= warm_up
        notes += _apply_run([(p, None, keep) for p in steps], schema_set, run_dir)
        if pace:
            run_dir = workdir / f"run{run}-paced"
            run_dir.mkdir()
            sequence = [(create, None, False), (paced_change, PACED_RATE, keep)]
            notes += _apply_run(sequence, schema_set, run_dir)
    return [*steps, paced_change] if pace else steps, notes


def _apply_run(
    steps: Sequence[tuple[Probe, int | None, bool]],
    schema_set: generate.SchemaSet,
    run_dir: Path,
) -> list[str]:
    """One emulator, the steps in order; each (probe, requests per second or None for
    unpaced, whether its sample is kept)."""
    log = run_dir / "emulator.log"
    emulator = start_emulator(run_dir, log)
    counter = None
    sent = 0
    try:
        port = emulator_port(emulator, log)
        counter = RequestCounter(port)
        env = child_env(**gong_env(counter.port))
        for probe, rate, keep in steps:
            state = ("--state", str(run_dir / "crmform.state.json"))
            paced = {**env, "GONG_RATE_LIMIT": str(rate)} if rate is not None else env
            once = Probe(probe.name, (*probe.argv, *state), probe.check, 1)
            sample = once.run_once(run_dir, paced)
            requests = counter.take()
            sent += len(requests)
            if keep:
                probe.samples.append(sample)
                probe.requests.append(requests)
        _check_remote(port, schema_set)
    finally:
        if counter is not None:
            counter.close()
        stop_emulator(emulator)
    served = _STOPPED.search(log.read_text(encoding="utf-8", errors="replace"))
    ours = len(schema_set.desired)  # _check_remote's GETs
    if served is None:
        return ["the emulator did not report how many requests it served"]
    if int(served.group(1).replace(",", "")) != sent + ours:
        return [f"the emulator served {served.group(1)} requests; the relay saw {sent} + {ours}"]
    return []


def start_emulator(run_dir: Path, log: Path) -> subprocess.Popen[bytes]:
    """A fresh, in-memory `crmform emulator` on a free loopback port, logging to `log`;
    bounded in time, and stopped by stop_emulator."""
    bound = ("--max-seconds", str(CHILD_TIMEOUT))
    auth = ("--access-key", ACCESS_KEY, "--secret", SECRET)
    with log.open("wb") as log_file:
        return subprocess.Popen(
            (*EMULATOR, "emulator", "--port", "0", *bound, *auth),
            cwd=run_dir,
            env=child_env(),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=log_file,
        )


def gong_env(port: int) -> dict[str, str]:
    """The variables that point crmform at the emulator (or a relay) on `port`, unpaced."""
    return {
        "GONG_BASE_URL": f"http://127.0.0.1:{port}",
        "GONG_ACCESS_KEY": ACCESS_KEY,
        "GONG_ACCESS_KEY_SECRET": SECRET,
        "GONG_RATE_LIMIT": "1000",  # pacing must not be the limit
    }


def stop_emulator(emulator: subprocess.Popen[bytes]) -> None:
    emulator.send_signal(signal.SIGINT)
    try:
        emulator.wait(10)
    except subprocess.TimeoutExpired:
        emulator.kill()
        emulator.wait()


def emulator_port(emulator: subprocess.Popen[bytes], log: Path) -> int:
    """The port the emulator listens on, from its log."""
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and emulator.poll() is None:
        match = _LISTENING.search(log.read_text(encoding="utf-8", errors="replace"))
        if match:
            return int(match.group(1))
        time.sleep(0.02)
    raise BenchError(f"crmform emulator did not start:\n{log.read_text(errors='replace')}")


def _check_remote(port: int, schema_set: generate.SchemaSet) -> None:
    """After the runs the emulator must hold exactly the desired fields (direct GETs)."""
    auth = base64.b64encode(f"{ACCESS_KEY}:{SECRET}".encode()).decode()
    for obj in schema_set.desired:
        key, kind = obj.key, obj.key.object_type.value
        url = f"http://127.0.0.1:{port}/v2/crm/entity-schema?integrationId="
        url += f"{key.integration_id}&objectType={kind}"
        request = urllib.request.Request(url, headers={"Authorization": f"Basic {auth}"})
        with urllib.request.urlopen(request, timeout=60) as response:
            listing = json.load(response)["objectTypeToSelectedFields"][kind]
        remote = {(f.get("uniqueName") or f["name"], f["label"], f["type"]) for f in listing}
        wanted = {(f.unique_name, f.label, f.type.value) for f in obj.fields}
        if remote != wanted:
            raise BenchError(
                f"after apply, the emulator's {kind} schema differs from the files in "
                f"{len(remote ^ wanted)} field(s)"
            )

"""crmform's benchmark (issue 6): start-up, plan at scale against fair baselines, and apply.

    python benchmarks/run.py [--sizes 100,1000,10000,50000] [--runs 5] [--json out.json]

Every time is the median wall time of several runs, each in a fresh process started with the
same interpreter in the same way, `python -c CODE ARGS`. crmform runs as
`python -c "from crmform.cli import main; main()" ARGS`, the installed console script's own
body, so interpreter start-up is identical for crmform and for every baseline. Runs are
interleaved (crmform, each baseline, then again) so a noisy machine slows all of them alike.
Generated files live in a temporary directory removed at the end; only --json writes
elsewhere. What each row measures, and why the baselines are fair: benchmarks/README.md.

Targets come from issue 6 and are printed as PASS/MISS with their ratios; the exit code only
says whether the benchmark itself worked. `--sizes 20 --runs 1` runs in CI to keep it working.
"""

from __future__ import annotations

import argparse
import base64
import itertools
import json
import os
import platform
import re
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import BinaryIO

sys.path.insert(0, str(Path(__file__).resolve().parent))

import generate  # a sibling file; benchmarks/ is not a package

from crmform.engine.config import schema_text

QUICKSTART = Path(__file__).resolve().parent.parent / "examples" / "quickstart"
DEFAULT_SIZES = (100, 1000, 10_000, 50_000)
APPLY_FIELDS = 10_000  # the 4 object types x 2,500 fields
NAIVE_MAX_FIELDS = 10_000  # naive takes ~18 s at 10,000 fields here, and ~5x that at 50,000
NAIVE_MAX_RUNS = 3
CHILD_TIMEOUT = 900.0
CRMFORM = (sys.executable, "-c", "from crmform.cli import main; main()")
# Under SIGINT the emulator says how many requests it served (a cross-check of our count);
# a parent shell may have started us with SIGINT ignored, which children would inherit.
EMULATOR = (
    sys.executable,
    "-c",
    "import signal; signal.signal(signal.SIGINT, signal.default_int_handler); "
    "from crmform.cli import main; main()",
)
IMPORT_ALL = "import click, yaml, jsonschema"
IMPORT_CLICK = "import click"

# Starts and times one measured child. ru_maxrss counts the memory of the process a child
# was forked from, so forking from this large process would inflate it; this launcher's own
# ~11 MB is the floor instead, below every measured command.
LAUNCHER = """
import os, sys, time
started = time.perf_counter()
pid = os.posix_spawn(sys.argv[2], sys.argv[2:], os.environ)
_, status, usage = os.wait4(pid, 0)
seconds = time.perf_counter() - started
code = os.waitstatus_to_exitcode(status)
with open(sys.argv[1], "w", encoding="ascii") as out:
    out.write(f"{seconds!r} {usage.ru_maxrss} {code}")
"""

# A plain parse of what `crmform plan` reads: every desired file (json.loads, or PyYAML with
# libyaml's CSafeLoader) and the state (json.loads); given a schema file, it also validates
# each desired document with jsonschema against crmform's shipped schema.
PARSE_CODE = """
import json, sys
from pathlib import Path
directory, state_path, schema_path = sys.argv[1], sys.argv[2], sys.argv[3:]
validate = None
if schema_path:
    import jsonschema
    schema = json.loads(Path(schema_path[0]).read_text(encoding="utf-8"))
    validate = jsonschema.validators.validator_for(schema)(schema).validate
count = 0
for path in sorted(Path(directory).iterdir()):
    text = path.read_text(encoding="utf-8")
    if path.suffix == ".json":
        doc = json.loads(text)
    else:
        import yaml
        doc = yaml.load(text, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
    if validate is not None:
        validate(doc)
    count += len(doc["fields"])
json.loads(Path(state_path).read_text(encoding="utf-8"))
print(count)
"""

# What a user might script instead: load both sides, validate every desired document with
# jsonschema, DeepDiff the whole documents. Fields are keyed by uniqueName and the state's
# bookkeeping (lastModified, protect's default) is dropped, or the diff would be wrong. It
# prints how many fields differ, which must equal the number of changes in crmform's plan.
NAIVE_CODE = """
import json, sys
from pathlib import Path
import jsonschema, yaml
from deepdiff import DeepDiff
directory, state_path, schema_path, mode = sys.argv[1:5]
def load(path):
    text = path.read_text(encoding="utf-8")
    return json.loads(text) if mode == "json.loads" else yaml.safe_load(text)
schema = json.loads(Path(schema_path).read_text(encoding="utf-8"))
validator = jsonschema.validators.validator_for(schema)(schema)
desired = {}
for path in sorted(Path(directory).iterdir()):
    doc = load(path)
    validator.validate(doc)
    address = f"gong/{doc['integrationId']}/{doc['objectType']}"
    desired[address] = {f["uniqueName"]: {"protect": False, **f} for f in doc["fields"]}
state = load(Path(state_path))
applied = {
    address: {
        f["uniqueName"]: {k: v for k, v in f.items() if k != "lastModified"}
        for f in body["fields"]
    }
    for address, body in state["objects"].items()
}
diff = DeepDiff(applied, desired)
print(len({tuple(level.path(output_format="list")[:2]) for levels in diff.tree.values()
           for level in levels}))
"""


# -- children ------------------------------------------------------------------------------


class BenchError(Exception):
    """A measured command did not do what it should; the benchmark stops with this message."""


@dataclass(frozen=True, slots=True)
class Sample:
    seconds: float
    rss_mb: float
    code: int
    stdout: str
    stderr: str


def spawn(argv: Sequence[str], cwd: Path, env: dict[str, str]) -> Sample:
    """Run one child to completion: wall time, its own peak RSS, exit code and output."""
    with tempfile.TemporaryDirectory(prefix="child-") as scratch:
        result, out_path, err_path = (Path(scratch) / name for name in ("result", "out", "err"))
        with out_path.open("wb") as out, err_path.open("wb") as err:
            launcher = subprocess.Popen(
                (sys.executable, "-I", "-S", "-c", LAUNCHER, str(result), *argv),
                cwd=cwd,
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=err,
                start_new_session=True,  # a timeout kills the child along with the launcher
            )
            try:
                launcher.wait(CHILD_TIMEOUT)
            except subprocess.TimeoutExpired:
                os.killpg(launcher.pid, signal.SIGKILL)
                launcher.wait()
                raise BenchError(f"{argv[3:]}: still running after {CHILD_TIMEOUT} s") from None
        seconds, maxrss, code = result.read_text(encoding="ascii").split()
        stdout = out_path.read_text(encoding="utf-8", errors="replace")
        stderr = err_path.read_text(encoding="utf-8", errors="replace")
    rss_mb = int(maxrss) / (1024 * 1024 if sys.platform == "darwin" else 1024)  # bytes or KB
    return Sample(float(seconds), rss_mb, int(code), stdout, stderr)


def child_env(**extra: str) -> dict[str, str]:
    """The caller's environment without crmform's and Gong's own settings, and no colour."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("CRMFORM_", "GONG_"))}
    return {**env, "NO_COLOR": "1", **extra}


Check = Callable[[Sample], "str | None"]  # what is wrong with a run's outcome, or None


def prints(code: int, text: str = "") -> Check:
    def check(s: Sample) -> str | None:
        if s.code != code:
            return f"expected exit {code}"
        return None if text in s.stdout else f"expected {text!r} in the output"

    return check


@dataclass
class Probe:
    """One command measured several times; `check` rejects a run that did the wrong thing."""

    name: str
    argv: tuple[str, ...]
    check: Check
    runs: int
    warm_up: bool = True  # False for baselines that run for many seconds anyway
    samples: list[Sample] = field(default_factory=list)
    # apply only: the requests the emulator received during each run, and how many POSTs
    requests: list[list[tuple[str, str]]] = field(default_factory=list)
    expect_posts: int = 0

    @property
    def seconds(self) -> float:
        return statistics.median(s.seconds for s in self.samples)

    @property
    def rss_mb(self) -> float:
        return statistics.median(s.rss_mb for s in self.samples)

    def count(self, method: str) -> list[int]:
        return [sum(m == method for m, _ in run) for run in self.requests]

    def run_once(self, cwd: Path, env: dict[str, str]) -> Sample:
        sample = spawn(self.argv, cwd, env)
        problem = self.check(sample)
        if problem:
            tail = (sample.stderr.strip() or sample.stdout.strip())[-2000:]
            raise BenchError(f"{self.name}: {problem} (exit {sample.code}).\n{tail}")
        return sample

    def summary(self) -> dict[str, object]:
        out: dict[str, object] = {
            "command": list(self.argv[3:]) if self.argv[:3] == CRMFORM[:3] else self.name,
            "median_s": round(self.seconds, 4),
            "rss_mb": round(self.rss_mb, 1),
            "runs_s": [round(s.seconds, 4) for s in self.samples],
        }
        if self.requests:
            out.update(posts=self.count("POST"), gets=self.count("GET"))
            out["expected_posts"] = self.expect_posts
        return out


def measure(probes: Sequence[Probe], cwd: Path, env: dict[str, str], *, warm_up: bool) -> None:
    """Interleaved runs of every probe, after a warm-up run (compiles .pyc, fills caches)."""
    for probe in probes:
        if warm_up and probe.warm_up:
            probe.run_once(cwd, env)
    for run in range(max(p.runs for p in probes)):
        for probe in probes:
            if run < probe.runs:
                probe.samples.append(probe.run_once(cwd, env))


# -- apply against `crmform emulator` --------------------------------------------------------


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
_STOPPED = re.compile(r"stopped after (\d+) request")


def apply_probes(workdir: Path, fields: int, runs: int) -> tuple[list[Probe], list[str]]:
    """Per run, against a fresh emulator: apply the "before" schema (every field created),
    then the changed schema (a few percent changed in each of the four object types), then
    the same again (no changes). Returns the three steps and notes from the cross-checks."""
    schema_set = generate.build(fields)
    before_dir, after_dir = workdir / "before", workdir / "after"
    generate.write_schema_dir(generate.before_objects(schema_set), before_dir, "yaml")
    generate.write_schema_dir(schema_set.desired, after_dir, "yaml")
    flags = ("--auto-approve", "--allow-destroy", "--no-color")

    def step(name: str, directory: Path, text: str, posts: int) -> Probe:
        argv = (*CRMFORM, "apply", str(directory), *flags)
        return Probe(f"apply ({name})", argv, prints(0, text), runs, expect_posts=posts)

    # The generator changes every object type (a smoke test holds it to that): one POST each.
    steps = [
        step("create", before_dir, "Plan: ", len(schema_set.before)),
        step("change", after_dir, schema_set.expected.summary_line(), len(schema_set.desired)),
        step("unchanged", after_dir, "No changes.", 0),
    ]
    notes: list[str] = []
    warm_up = runs > 1  # a first, discarded run, as measure() does
    for run in range(runs + warm_up):
        run_dir = workdir / f"run{run}"
        run_dir.mkdir()
        notes += _apply_run(steps, schema_set, run_dir, keep=run >= warm_up)
    return steps, notes


def _apply_run(
    steps: Sequence[Probe], schema_set: generate.SchemaSet, run_dir: Path, *, keep: bool
) -> list[str]:
    log = run_dir / "emulator.log"
    bound = ("--max-seconds", str(CHILD_TIMEOUT))  # and we stop it ourselves below
    auth = ("--access-key", ACCESS_KEY, "--secret", SECRET)
    with log.open("wb") as log_file:
        emulator = subprocess.Popen(
            (*EMULATOR, "emulator", "--port", "0", *bound, *auth),
            cwd=run_dir,
            env=child_env(),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=log_file,
        )
    counter = None
    sent = 0
    try:
        port = _emulator_port(emulator, log)
        counter = RequestCounter(port)
        env = child_env(
            GONG_BASE_URL=f"http://127.0.0.1:{counter.port}",
            GONG_ACCESS_KEY=ACCESS_KEY,
            GONG_ACCESS_KEY_SECRET=SECRET,
            GONG_RATE_LIMIT="1000",  # pacing must not be the limit
        )
        for probe in steps:
            state = ("--state", str(run_dir / "crmform.state.json"))
            sample = Probe(probe.name, (*probe.argv, *state), probe.check, 1).run_once(run_dir, env)
            requests = counter.take()
            sent += len(requests)
            if keep:
                probe.samples.append(sample)
                probe.requests.append(requests)
        _check_remote(port, schema_set)
    finally:
        if counter is not None:
            counter.close()
        emulator.send_signal(signal.SIGINT)
        try:
            emulator.wait(10)
        except subprocess.TimeoutExpired:
            emulator.kill()
            emulator.wait()
    served = _STOPPED.search(log.read_text(encoding="utf-8", errors="replace"))
    ours = len(schema_set.desired)  # _check_remote's GETs
    if served is None:
        return ["the emulator did not report how many requests it served"]
    if int(served.group(1)) != sent + ours:
        return [f"the emulator served {served.group(1)} requests; the relay saw {sent} + {ours}"]
    return []


def _emulator_port(emulator: subprocess.Popen[bytes], log: Path) -> int:
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


# -- plan ----------------------------------------------------------------------------------


def plan_probes(
    work: generate.Workload, fmt: str, schema_path: Path, runs: int, naive: bool
) -> dict[str, Probe]:
    directory = str(work.yaml_dir if fmt == "yaml" else work.json_dir)
    files, what = (directory, str(work.state_path)), f"({work.fields} fields, {fmt})"
    py = (sys.executable, "-c")
    plan = (*CRMFORM, "plan", directory, "--state", files[1], "--detailed-exitcode")
    probes = {
        "crmform": Probe(
            f"crmform plan {what}", plan, prints(2, work.expected.summary_line()), runs
        ),
        "parse": Probe(
            f"parse {what}", (*py, PARSE_CODE, *files), prints(0, str(work.fields)), runs
        ),
        "parse_validate": Probe(
            f"parse+validate {what}",
            (*py, PARSE_CODE, *files, str(schema_path)),
            prints(0, str(work.fields)),
            runs,
        ),
    }
    for mode in ("yaml.safe_load", "json.loads") if naive else ():
        if mode == "json.loads" and fmt != "json":
            continue
        probes["naive" if mode == "yaml.safe_load" else "naive_json"] = Probe(
            f"naive with {mode} {what}",
            (*py, NAIVE_CODE, *files, str(schema_path), mode),
            prints(0, str(work.expected.total)),
            min(runs, NAIVE_MAX_RUNS),
            warm_up=False,
        )
    return probes


# -- targets and the table -----------------------------------------------------------------


@dataclass
class Results:
    startup: dict[str, Probe]
    plans: dict[tuple[int, str], dict[str, Probe]]
    apply: list[Probe]
    apply_fields: int
    notes: list[str]
    tmp: str  # the temporary directory, shown as <tmp> in the JSON report


@dataclass(frozen=True, slots=True)
class Target:
    status: str  # PASS, MISS or n/a
    name: str
    measured: str


def _target(name: str, ok: bool, measured: str) -> Target:
    return Target("PASS" if ok else "MISS", name, measured)


def _ratio(name: str, a: Probe, b: Probe, limit: float, unit: str = "s") -> Target:
    x, y = (a.seconds, b.seconds) if unit == "s" else (a.rss_mb, b.rss_mb)
    return _target(name, x / y <= limit, f"{x:.3f} / {y:.3f} {unit} = {x / y:.2f}x")


def targets(r: Results) -> list[Target]:
    s = r.startup
    out = [
        _ratio(
            "start-up: `crmform plan examples/quickstart` <= 1.2x `import click, yaml, jsonschema`",
            s["plan_quickstart"],
            s["import_all"],
            1.2,
        ),
        _ratio(
            "start-up: `crmform --help` <= 1.5x `import click`", s["help"], s["import_click"], 1.5
        ),
    ]
    at10k = r.plans.get((10_000, "json"), {})
    for key, how in (
        ("naive", "yaml.safe_load, as the issue words it"),
        ("naive_json", "json.loads"),
    ):
        name = f"scale: plan 10,000 JSON >= 3x faster than naive ({how})"
        if key not in at10k:
            out.append(Target("n/a", name, "not measured (needs size 10000)"))
            continue
        naive, plan = at10k[key].seconds, at10k["crmform"].seconds
        out.append(
            _target(name, naive / plan >= 3, f"{naive:.2f} / {plan:.3f} s = {naive / plan:.1f}x")
        )
    if at10k:
        plan = at10k["crmform"].seconds
        out.append(_target("scale: plan 10,000 JSON <= 1.0 s wall", plan <= 1, f"{plan:.3f} s"))
    for (size, fmt), p in sorted(r.plans.items()):
        if fmt == "yaml":
            name = f"scale: plan {size:,} YAML <= 1.5x (CSafeLoader parse + jsonschema validation)"
            out.append(_ratio(name, p["crmform"], p["parse_validate"], 1.5))
    sizes = sorted({size for size, _ in r.plans if size >= 1000})
    for (small, big), fmt, unit in itertools.product(
        itertools.pairwise(sizes), ("json", "yaml"), ("s", "MB")
    ):
        limit = 1.1 * big / small
        what = "time" if unit == "s" else "peak RSS"
        name = f"scale: {what} {small:,} -> {big:,} fields {fmt.upper()} grows <= {limit:.1f}x"
        out.append(
            _ratio(
                name, r.plans[(big, fmt)]["crmform"], r.plans[(small, fmt)]["crmform"], limit, unit
            )
        )
    for fmt in ("json", "yaml"):
        if (50_000, fmt) in r.plans:
            rss = r.plans[(50_000, fmt)]["crmform"].rss_mb
            name = f"scale: plan 50,000 {fmt.upper()} peak RSS <= 250 MB"
            out.append(_target(name, rss <= 250, f"{rss:.0f} MB"))
    if r.apply:
        exact = all(n == p.expect_posts for p in r.apply for n in p.count("POST"))
        counts = "; ".join(
            f"{p.name}: {p.count('POST')} (expected {p.expect_posts})" for p in r.apply
        )
        out.append(
            _target(
                "apply: one POST per changed object type, none when unchanged",
                exact,
                f"POSTs per run: {counts}",
            )
        )
        for step in r.apply[:2]:
            name = f"{step.name}: 4 object types x {r.apply_fields // 4:,} fields <= 2 s"
            took = f"{step.seconds:.3f} s"
            if r.apply_fields == APPLY_FIELDS:
                out.append(_target(name, step.seconds <= 2, took))
            else:
                out.append(Target("n/a", name, f"{took} (the issue's size is 4 x 2,500)"))
    return out


def _cell(probe: Probe | None, crmform: float, *, faster: bool = False) -> str:
    if probe is None:
        return ""
    ratio = probe.seconds / crmform if faster else crmform / probe.seconds
    return f"{probe.seconds:.3f} ({ratio:.2f}x)"


def table(r: Results) -> str:
    head = (
        "row",
        "crmform s",
        "RSS MB",
        "imports s (x)",
        "parse s (x)",
        "parse+valid s (x)",
        "naive s (naive/crm)",
        "notes",
    )
    s = r.startup
    Row = tuple[str, Probe, Probe | None, dict[str, Probe], str]
    rows: list[Row] = [
        ("crmform --help", s["help"], s["import_click"], {}, "imports: `import click`"),
        (
            "crmform plan examples/quickstart",
            s["plan_quickstart"],
            s["import_all"],
            {},
            "imports: `import click, yaml, jsonschema`",
        ),
    ]
    for (size, fmt), probes in sorted(r.plans.items()):
        note = ""
        if "naive_json" in probes:
            nj = probes["naive_json"].seconds
            note = f"naive with json.loads: {nj:.2f} s ({nj / probes['crmform'].seconds:.1f}x)"
        name = f"plan {size:,} fields {fmt.upper()}"
        rows.append((name, probes["crmform"], s["import_all"], probes, note))
    for step in r.apply:
        note = f"POSTs per run {step.count('POST')}, GETs {step.count('GET')}"
        rows.append((f"{step.name}, 4 x {r.apply_fields // 4:,} fields", step, None, {}, note))
    cells = [head]
    for name, probe, imports, baselines, note in rows:
        t = probe.seconds
        cells.append(
            (
                name,
                f"{t:.3f}",
                f"{probe.rss_mb:.0f}",
                _cell(imports, t),
                _cell(baselines.get("parse"), t),
                _cell(baselines.get("parse_validate"), t),
                _cell(baselines.get("naive"), t, faster=True),
                note,
            )
        )
    widths = [max(len(row[i]) for row in cells) for i in range(len(head))]
    lines = [
        "  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip() for row in cells
    ]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)


# -- main ----------------------------------------------------------------------------------


def machine() -> dict[str, object]:
    import yaml

    cpu = platform.processor() or platform.machine()
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.is_file():
        names = [line for line in cpuinfo.read_text().splitlines() if line.startswith("model name")]
        cpu = names[0].split(":", 1)[1].strip() if names else cpu
    return {
        "cpus": os.cpu_count(),
        "cpu": cpu,
        "python": platform.python_version(),
        "platform": platform.platform(),
        "libyaml": bool(getattr(yaml, "__with_libyaml__", False)),
    }


def bench(tmp: Path, sizes: Sequence[int], runs: int, apply_fields: int, naive_max: int) -> Results:
    env = child_env()
    schema_path = tmp / "crmform.schema.json"
    schema_path.write_text(schema_text(), encoding="utf-8")
    py = (sys.executable, "-c")
    startup = {
        "help": Probe("crmform --help", (*CRMFORM, "--help"), prints(0, "Usage:"), runs),
        "plan_quickstart": Probe(
            "crmform plan examples/quickstart",
            (*CRMFORM, "plan", str(QUICKSTART)),
            prints(0, "Plan: "),
            runs,
        ),
        "import_all": Probe(IMPORT_ALL, (*py, IMPORT_ALL), prints(0), runs),
        "import_click": Probe(IMPORT_CLICK, (*py, IMPORT_CLICK), prints(0), runs),
    }
    _progress(f"start-up, {runs} run(s) each")
    measure(list(startup.values()), tmp, env, warm_up=True)  # cold runs would time compiling
    plans: dict[tuple[int, str], dict[str, Probe]] = {}
    for size in sizes:
        _progress(f"plan, {size:,} fields")
        work = generate.write_workload(tmp / f"fields{size}", size)
        for fmt in ("json", "yaml"):
            plans[(size, fmt)] = plan_probes(work, fmt, schema_path, runs, size <= naive_max)
        probes = [p for fmt in ("json", "yaml") for p in plans[(size, fmt)].values()]
        measure(probes, tmp, env, warm_up=runs > 1)
    steps: list[Probe] = []
    notes: list[str] = []
    if apply_fields:
        _progress(f"apply, 4 x {apply_fields // 4:,} fields, against crmform emulator")
        (tmp / "apply").mkdir()
        steps, notes = apply_probes(tmp / "apply", apply_fields, runs)
    return Results(startup, plans, steps, apply_fields, notes, str(tmp))


def _progress(message: str) -> None:
    print(f"... {message}", file=sys.stderr, flush=True)


def _sizes(text: str) -> tuple[int, ...]:
    try:
        sizes = {int(part) for part in text.split(",") if part.strip()}
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected integers such as 100,1000, not {text!r}"
        ) from None
    if not sizes or min(sizes) < 8:
        raise argparse.ArgumentTypeError("each size must be at least 8 fields (2 per object type)")
    return tuple(sorted(sizes))


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="crmform's benchmark (issue 6).")
    parser.add_argument(
        "--sizes",
        type=_sizes,
        default=DEFAULT_SIZES,
        help="total fields per schema set (default 100,1000,10000,50000)",
    )
    parser.add_argument(
        "--runs", type=int, default=5, help="fresh-process runs per median (default 5)"
    )
    parser.add_argument("--json", type=Path, help="also write the results to this file")
    parser.add_argument(
        "--apply-fields",
        type=int,
        help="fields for apply (default 10000, or the largest size if smaller; 0 skips)",
    )
    parser.add_argument(
        "--naive-max-fields",
        type=int,
        default=NAIVE_MAX_FIELDS,
        help="largest size to run the slow naive baseline at (default %(default)s)",
    )
    args = parser.parse_args(argv)
    if args.runs < 1:
        parser.error("--runs must be at least 1")
    apply_fields = (
        min(APPLY_FIELDS, max(args.sizes)) if args.apply_fields is None else args.apply_fields
    )
    if 0 < apply_fields < 8:
        parser.error("--apply-fields must be 0 or at least 8")
    command = " ".join(["python benchmarks/run.py", *(sys.argv[1:] if argv is None else argv)])
    started = time.monotonic()
    try:
        with tempfile.TemporaryDirectory(prefix="crmform-bench-") as tmp:
            results = bench(Path(tmp), args.sizes, args.runs, apply_fields, args.naive_max_fields)
    except BenchError as error:
        print(f"Benchmark failed: {error}", file=sys.stderr)
        return 1
    verdicts, info = targets(results), machine()
    print(
        f"crmform benchmark on {info['cpus']} CPU(s), {info['cpu']}, Python {info['python']}, "
        f"libyaml {'yes' if info['libyaml'] else 'no'}: median wall time of {args.runs} run(s) "
        f"(naive: {min(args.runs, NAIVE_MAX_RUNS)}) in fresh processes\ncommand: {command}\n"
    )
    print(table(results))
    print("\nx = crmform / baseline (lower is better); naive/crm = naive / crmform (higher is")
    print("better). Targets (issue 6):")
    for v in verdicts:
        print(f"  {v.status:<4}  {v.name}: {v.measured}")
    for note in results.notes:
        print(f"  note: {note}")
    print(f"(took {time.monotonic() - started:.0f} s)")
    if args.json is not None:
        report = {
            "command": command,
            "machine": info,
            "runs": args.runs,
            "startup": {k: p.summary() for k, p in results.startup.items()},
            "plans": [
                {"fields": size, "format": fmt, **{k: p.summary() for k, p in probes.items()}}
                for (size, fmt), probes in sorted(results.plans.items())
            ],
            "apply": {"fields": results.apply_fields, "notes": results.notes}
            | {p.name: p.summary() for p in results.apply},
            "targets": [asdict(v) for v in verdicts],
        }
        args.json.parent.mkdir(parents=True, exist_ok=True)
        text = json.dumps(report, indent=2).replace(results.tmp, "<tmp>")
        args.json.write_text(text + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())

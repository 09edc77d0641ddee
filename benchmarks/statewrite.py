"""Issue 14's state-write row, measured in-process: run as a child by run.py,

    python benchmarks/statewrite.py FIELDS RUNS

it builds the benchmark's schema set of FIELDS fields (generate.build: 4 object types), has
`LocalState` write its "before" state to a file in a temporary folder, then per run, with
gc off (as `crmform` runs):

- the row: a fresh handle reads the file (as every command does), then writes 4 times,
  each write changing one object type to what applying the set's desired object records
  (`payload.build`: lastModified stamped on the fields that changed);
- the apply: a fresh handle reads the file again and the real applier
  (`engine.applier.apply`) carries out the real plan of the set, writing the state once
  per upload and once more (the first pending record before its POST, then per upload the
  applied object, with the next upload's pending record while one follows), to a provider
  that accepts every upload in memory (no HTTP; verify off, which changes no write);
- the floor: one full encode of the state the row wrote last, `state_to_json` + C
  `json.dumps` (ensure_ascii=False, as the file holds text) + UTF-8, no layout.

Only `LocalState.write` is timed (atomic replace, backup and fsyncs included). It prints
one JSON line: each time's median over RUNS (wall and CPU), and the ratios.
"""

from __future__ import annotations

import gc
import json
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import generate  # a sibling file; benchmarks/ is not a package

from crmform.engine import applier, payload, planner
from crmform.engine.formats.codec import state_to_json
from crmform.engine.model import Desired, ObjectType, State
from crmform.engine.ports import FieldWrite, RemoteSchema, WriteResult
from crmform.state.local import LocalState

NOW = "2026-02-01T12:00:00Z"


class Accepting:
    """A provider that accepts every upload (the writes it causes are what is measured)."""

    name = "gong"

    def read_schema(
        self, integration_id: int, object_type: ObjectType | None = None
    ) -> dict[ObjectType, RemoteSchema]:
        raise AssertionError("verify is off: the applier reads nothing")

    def write_schema(
        self, integration_id: int, object_type: ObjectType, writes: Sequence[FieldWrite]
    ) -> WriteResult:
        return WriteResult(201, f"bench-{object_type}")


class Timed:
    """`LocalState` with the wall and CPU time of each `write` added up."""

    def __init__(self, backend: LocalState) -> None:
        self.backend = backend
        self.wall = self.cpu = 0.0
        self.writes = 0

    @property
    def location(self) -> str:
        return self.backend.location

    def read(self) -> State:
        return self.backend.read()

    def write(self, state: State) -> State:
        wall, cpu = time.perf_counter(), time.process_time()
        try:
            return self.backend.write(state)
        finally:
            self.wall += time.perf_counter() - wall
            self.cpu += time.process_time() - cpu
            self.writes += 1


def _timed(action: Callable[[], object]) -> tuple[float, float, object]:
    wall, cpu = time.perf_counter(), time.process_time()
    out = action()
    return time.perf_counter() - wall, time.process_time() - cpu, out


def run_once(schema_set: generate.SchemaSet, path: Path, original: bytes) -> dict[str, float]:
    # the row: read, then 4 writes changing one object type each to what an apply records
    # (payload.build: the desired fields, lastModified stamped where they changed)
    row = Timed(LocalState(path))
    state = row.read()
    for obj in schema_set.desired:
        after = payload.build(obj.key, obj, state.get(obj.key), NOW).after
        state = row.write(state.with_object(after))
    # the apply: the real applier's writes (pending, applied), from the same state read
    path.write_bytes(original)
    apply_backend = Timed(LocalState(path))
    start = apply_backend.read()
    plan = planner.plan(Desired(schema_set.desired), start)
    result = applier.apply(plan, Accepting(), apply_backend, now=NOW, verify=False)  # type: ignore[arg-type]
    if not result.ok:
        raise SystemExit(f"the apply did not complete: {result.results}")
    # the floor: one full encode of the state as the row left it
    encode_wall, encode_cpu, _ = _timed(
        lambda: json.dumps(state_to_json(state), ensure_ascii=False).encode("utf-8")
    )
    return {
        "row_wall": row.wall,
        "row_cpu": row.cpu,
        "row_writes": row.writes,
        "apply_wall": apply_backend.wall,
        "apply_cpu": apply_backend.cpu,
        "apply_writes": apply_backend.writes,
        "encode_wall": encode_wall,
        "encode_cpu": encode_cpu,
    }


def main(argv: Sequence[str]) -> int:
    fields, runs = int(argv[0]), int(argv[1])
    schema_set = generate.build(fields)
    gc.disable()
    samples = []
    with tempfile.TemporaryDirectory(prefix="crmform-statewrite-") as tmp:
        path = Path(tmp) / "crmform.state.json"
        LocalState(path).write(State(objects=schema_set.before))
        original = path.read_bytes()
        for _ in range(runs):
            path.write_bytes(original)
            samples.append(run_once(schema_set, path, original))
            gc.collect()
    out: dict[str, object] = {"fields": fields, "runs": runs, "state_bytes": len(original)}
    for name in samples[0]:
        out[name] = round(statistics.median(s[name] for s in samples), 4)
    for what in ("row", "apply"):
        for clock in ("wall", "cpu"):
            floor = out[f"encode_{clock}"]
            assert isinstance(floor, float)
            out[f"{what}_ratio_{clock}"] = round(float(out[f"{what}_{clock}"]) / floor, 2)  # type: ignore[arg-type]
    print(json.dumps(out))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

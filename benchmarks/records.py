"""crmform's record-check benchmark (issue 15): `check-records` against `json.loads`.

    python benchmarks/records.py [--sizes 10000,100000,1000000] [--runs 3] [--json out.json]

Throughput is the product: the target is crmform's check within 2x of the floor, a plain
`json.loads` of every line of the same file (nothing can check a record it has not parsed),
in constant memory (peak RSS independent of the file's size). Both run the same way, in fresh
processes (`python -c CODE ARGS`, the child runner of benchmarks/children.py: wall time from
posix_spawn to wait4 and the child's own peak RSS), with the cycle collector off as the CLI
runs it (crmform.cli.main disables it), interleaved, median of --runs.

Two ratios are reported: `x` is end to end (interpreter start-up, imports, reading the state
included), and `net x` subtracts each side's start-up, measured on a one-record file (for
crmform: click, the engine and the state; for the floor: `import json`). At 10,000 records
start-up is most of the time, so `net x` is the throughput the target is about; at 1,000,000
the two agree. One more row checks a file where 1 % of the records have a problem, to show
the problem path is not a cliff (its exit code and error count are checked).

The files are generated, deterministically, in a temporary directory removed at the end: an
ACCOUNT schema of ten custom fields of mixed types (as a crmform state file), and records of
14 keys, about 420 bytes each. 1,000,000 of them are about 420 MB, over the 200 MB Gong
takes in one upload, so that run also reports `file-too-large` (and is checked to).
"""

from __future__ import annotations

import argparse
import json
import math
import random
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

# sibling files; benchmarks/ is not a package
from children import CRMFORM, BenchError, Probe, Sample, child_env, measure
from generate import INTEGRATION_ID, write_state
from report import machine

from crmform.engine.model import Field, FieldType, ObjectKey, ObjectSchema, ObjectType, State
from crmform.engine.records.files import MAX_UPLOAD_BYTES, MAX_UPLOAD_BYTES_DECIMAL

DEFAULT_SIZES = (10_000, 100_000, 1_000_000)
BAD_EVERY = 100  # one record in this many has a problem, in the "1 % bad" row
TARGET_RATIO = 2.0
TARGET_RSS_GROWTH_MB = 5.0  # "independent of size": within a few MB, smallest to largest
MIN_NET_S = 0.02  # the floor's time net of start-up below which no ratio is reported

# The floor: what any checker must do at least, the way crmform's CLI runs (gc off).
FLOOR = """
import gc, json, sys
gc.disable()
n = 0
with open(sys.argv[1], "rb") as f:
    for line in f:
        json.loads(line)
        n += 1
print(n)
"""

TIERS = ("Bronze", "Silver", "Gold", "Platinum")
INDUSTRIES = ("Software", "Retail", "Finance", "Health", "Energy", "Media", "Logistics")
FIELDS = (
    Field("industry", "Industry", FieldType.STRING),
    Field("tier", "Tier", FieldType.PICKLIST, ordered_value_list=TIERS),
    Field("annualRevenue", "Annual Revenue", FieldType.CURRENCY),
    Field("employees", "Employees", FieldType.NUMBER),
    Field("churnRisk", "Churn Risk", FieldType.PERCENT),
    Field("renewalDate", "Renewal Date", FieldType.DATE),
    Field("lastActivityAt", "Last Activity", FieldType.DATETIME),
    Field("isCustomer", "Customer", FieldType.BOOLEAN),
    Field("website", "Website", FieldType.URL),
    Field("parentAccount", "Parent", FieldType.REFERENCE, reference_to="ACCOUNT"),
)


def record(rng: random.Random, i: int) -> dict[str, object]:
    return {
        "objectId": f"acc-{i:09d}",
        "modifiedDate": f"2026-03-{1 + i % 28:02d}T{i % 24:02d}:{i % 60:02d}:{(i * 7) % 60:02d}Z",
        "url": f"https://crm.example.com/accounts/{i}",
        "name": f"Company {i}",
        "industry": rng.choice(INDUSTRIES),
        "tier": rng.choice(TIERS),
        "annualRevenue": round(rng.uniform(1e4, 1e8), 2),
        "employees": rng.randrange(1, 100_000),
        "churnRisk": rng.randrange(0, 101),
        "renewalDate": f"{2026 + i % 3}-{1 + i % 12:02d}-{1 + i % 28:02d}",
        "lastActivityAt": f"2026-02-{1 + i % 28:02d}T10:{i % 60:02d}:00+01:00",
        "isCustomer": i % 3 != 0,
        "website": f"https://company{i}.example",
        "parentAccount": f"acc-{i // 50:09d}",
    }


def _bad(rec: dict[str, object], i: int) -> None:
    """One error per bad record, of a few kinds (each one an error, so the count is exact)."""
    kind = (i // BAD_EVERY) % 4
    if kind == 0:
        rec["tier"] = "gold"  # invalid-choice
    elif kind == 1:
        rec["annualRevenue"] = "12,000"  # wrong-type
    elif kind == 2:
        rec["tierr"] = "Gold"  # unknown-key
    else:
        rec["modifiedDate"] = "2026-03-01T09:30:00.000Z"  # invalid-datetime


def write_records(path: Path, count: int, *, bad: bool = False, seed: int = 15) -> int:
    """Write `count` records; return how many have a problem."""
    rng = random.Random(seed)
    problems = 0
    with path.open("w", encoding="utf-8") as out:
        batch: list[str] = []
        for i in range(count):
            rec = record(rng, i)
            if bad and i % BAD_EVERY == BAD_EVERY - 1:
                _bad(rec, i)
                problems += 1
            batch.append(json.dumps(rec))
            if len(batch) == 10_000:
                out.write("\n".join(batch) + "\n")
                batch = []
        if batch:
            out.write("\n".join(batch) + "\n")
    return problems


def _expect(code: int, tail: str):
    def check(s: Sample) -> str | None:
        if s.code != code:
            return f"expected exit {code}"
        return None if s.stdout.rstrip().endswith(tail) else f"expected {tail!r} at the end"

    return check


def _plural(n: int, noun: str) -> str:
    return f"{n:,} {noun}{'' if n == 1 else 's'}"


def _summary(count: int, errors: int, warnings: int) -> str:
    """check-records' last line (crmform/views/records.py) for a file of `count` records."""
    head = f"Checked 1 file, {_plural(count, 'record')}"
    if not errors and not warnings:
        return f"{head}: no problems found."
    tail = "" if errors else " (warnings only: the records would be accepted)"
    return f"{head}: {_plural(errors, 'error')}, {_plural(warnings, 'warning')}{tail}."


def probes_for(name: str, path: Path, state: Path, count: int, errors: int, runs: int):
    size = path.stat().st_size
    errors += size > MAX_UPLOAD_BYTES  # file-too-large
    warnings = int(MAX_UPLOAD_BYTES_DECIMAL < size <= MAX_UPLOAD_BYTES)  # file-size-uncertain
    crm = Probe(
        f"check-records {name}",
        (*CRMFORM, "check-records", str(path), "--state", str(state), "--max-problems", "5"),
        _expect(1 if errors else 0, _summary(count, errors, warnings)),
        runs,
    )
    floor = Probe(
        f"json.loads per line {name}",
        (sys.executable, "-c", FLOOR, str(path)),
        _expect(0, str(count)),
        runs,
    )
    return crm, floor


def bench(tmp: Path, sizes: Sequence[int], runs: int) -> list[dict[str, object]]:
    env = child_env()
    state = tmp / "crmform.state.json"
    key = ObjectKey("gong", INTEGRATION_ID, ObjectType.ACCOUNT)
    write_state(State("bench-lineage", 1, (ObjectSchema(key, FIELDS),)), state)
    one = tmp / "accounts-1.ldjson"
    write_records(one, 1)
    startup = probes_for("1 record", one, state, 1, 0, runs)
    _progress(f"start-up, {runs} run(s)")
    measure(startup, tmp, env, warm_up=True)
    rows: list[dict[str, object]] = []
    plan = [(n, False) for n in sizes] + [(min(max(sizes), 100_000), True)]
    for count, bad in plan:
        path = tmp / f"accounts-{count}{'-bad' if bad else ''}.ldjson"
        _progress(f"{count:,} records{' (1 % bad)' if bad else ''}: writing")
        errors = write_records(path, count, bad=bad)
        crm, floor = probes_for(f"{count:,}", path, state, count, errors, runs)
        _progress(f"{count:,} records: {runs} run(s) each")
        measure([crm, floor], tmp, env, warm_up=False)
        net_crm = crm.seconds - startup[0].seconds
        net_floor = floor.seconds - startup[1].seconds
        rows.append(
            {
                "records": count,
                "bad": bad,
                "errors": errors,
                "mb": path.stat().st_size / 1e6,
                "crmform": crm,
                "floor": floor,
                "x": crm.seconds / floor.seconds,
                # Under MIN_NET_S of parsing, start-up noise is larger than what is measured.
                "net_x": net_crm / net_floor if net_floor >= MIN_NET_S else float("nan"),
                "records_per_s": count / net_crm if net_crm > 0 else float("nan"),
            }
        )
        path.unlink()
    rows.insert(0, {"startup": startup})
    return rows


def _progress(message: str) -> None:
    print(f"... {message}", file=sys.stderr, flush=True)


def table(rows: Sequence[dict[str, object]]) -> str:
    start_crm, start_floor = rows[0]["startup"]  # type: ignore[misc]
    head = (
        f"{'records':<22} {'MB':>7} {'crmform s':>10} {'floor s':>8} {'x':>6} {'net x':>6} "
        f"{'records/s':>10} {'RSS MB crm':>10} {'RSS floor':>9}"
    )
    lines = [head, "-" * len(head)]
    lines.append(
        f"{'start-up (1 record)':<22} {'':>7} {start_crm.seconds:>10.3f} "
        f"{start_floor.seconds:>8.3f} {start_crm.seconds / start_floor.seconds:>5.2f}x "
        f"{'':>6} {'':>10} {start_crm.rss_mb:>10.0f} {start_floor.rss_mb:>9.0f}"
    )
    for row in rows[1:]:
        crm, floor = row["crmform"], row["floor"]
        assert isinstance(crm, Probe)
        assert isinstance(floor, Probe)
        label = f"{row['records']:,}" + (" (1 % bad)" if row["bad"] else "")
        lines.append(
            f"{label:<22} {row['mb']:>7.1f} {crm.seconds:>10.3f} {floor.seconds:>8.3f} "
            f"{row['x']:>5.2f}x {row['net_x']:>5.2f}x {row['records_per_s']:>10,.0f} "
            f"{crm.rss_mb:>10.0f} {floor.rss_mb:>9.0f}"
        )
    return "\n".join(lines)


def targets(rows: Sequence[dict[str, object]]) -> list[str]:
    measured = [r for r in rows[1:] if not r["bad"]]
    out = []
    for row in measured:
        net = float(row["net_x"])  # type: ignore[arg-type]
        if math.isnan(net):  # start-up is all of it: a tiny (smoke) size
            out.append(
                f"n/a   {row['records']:,} records: too few to tell the check from start-up "
                f"(end to end {row['x']:.2f}x)"
            )
            continue
        ok = net <= TARGET_RATIO
        out.append(
            f"{'PASS' if ok else 'MISS'}  {row['records']:,} records: net {row['net_x']:.2f}x "
            f"json.loads (end to end {row['x']:.2f}x) <= {TARGET_RATIO}x"
        )
    rss = [r["crmform"].rss_mb for r in measured]  # type: ignore[union-attr]
    growth = max(rss) - min(rss)
    out.append(
        f"{'PASS' if growth <= TARGET_RSS_GROWTH_MB else 'MISS'}  peak RSS "
        f"{min(rss):.0f} -> {max(rss):.0f} MB from {measured[0]['records']:,} to "
        f"{measured[-1]['records']:,} records (+{growth:.1f} MB, <= {TARGET_RSS_GROWTH_MB})"
    )
    return out


def write_json(path: Path, rows: Sequence[dict[str, object]], runs: int, command: str) -> None:
    start_crm, start_floor = rows[0]["startup"]  # type: ignore[misc]
    doc = {
        "command": command,
        "machine": machine(),
        "runs": runs,
        "startup": {"crmform": start_crm.summary(), "floor": start_floor.summary()},
        "sizes": [
            {
                **{k: v for k, v in row.items() if k not in ("crmform", "floor")},
                "crmform": row["crmform"].summary(),  # type: ignore[union-attr]
                "floor": row["floor"].summary(),  # type: ignore[union-attr]
            }
            for row in rows[1:]
        ],
        "targets": targets(rows),
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    text = json.dumps(doc, indent=2)
    path.write_text(text + "\n", encoding="utf-8")


def _sizes(text: str) -> tuple[int, ...]:
    try:
        sizes = {int(part) for part in text.split(",") if part.strip()}
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected integers such as 10000, not {text!r}") from None
    if not sizes or min(sizes) < 100:
        raise argparse.ArgumentTypeError("each size must be at least 100 records")
    return tuple(sorted(sizes))


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="crmform's record-check benchmark (issue 15).")
    parser.add_argument("--sizes", type=_sizes, default=DEFAULT_SIZES, help="records per file")
    parser.add_argument("--runs", type=int, default=3, help="runs per median (default 3)")
    parser.add_argument("--json", type=Path, help="also write the results to this file")
    args = parser.parse_args(argv)
    if args.runs < 1:
        parser.error("--runs must be at least 1")
    command = " ".join(["python benchmarks/records.py", *(sys.argv[1:] if argv is None else argv)])
    started = time.monotonic()
    try:
        with tempfile.TemporaryDirectory(prefix="crmform-records-") as tmp:
            rows = bench(Path(tmp), args.sizes, args.runs)
    except BenchError as error:
        print(f"Benchmark failed: {error}", file=sys.stderr)
        return 1
    info = machine()
    print(
        f"crmform check-records benchmark on {info['cpus']} CPU(s), {info['cpu']}, Python "
        f"{info['python']}: median wall time of {args.runs} run(s) in fresh processes\n"
        f"command: {command}\n"
    )
    print(table(rows))
    print("\nx = crmform / floor end to end; net x = the same without each side's start-up")
    print("(the 1-record row). Targets (issue 15):")
    for line in targets(rows):
        print(f"  {line}")
    print(f"(took {time.monotonic() - started:.0f} s)")
    if args.json is not None:
        write_json(args.json, rows, args.runs, command)
    return 0


if __name__ == "__main__":
    sys.exit(main())

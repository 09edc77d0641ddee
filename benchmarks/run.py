"""crmform's benchmark (issues 6 and 14): start-up, plan at scale against fair baselines, and apply.

    python benchmarks/run.py [--sizes 100,1000,10000,50000,100000] [--runs 5] [--json out.json]

Every time is the median wall time of several runs, each in a fresh process started with the
same interpreter in the same way, `python -c CODE ARGS`. crmform runs as
`python -c "from crmform.cli import main; main()" ARGS`, the installed console script's own
body, so interpreter start-up is identical for crmform and for every baseline. Runs are
interleaved (crmform, each baseline, then again) so a noisy machine slows all of them alike.
Generated files live in a temporary directory removed at the end; only --json writes
elsewhere. What each row measures, and why the baselines are fair: benchmarks/README.md.

Targets come from issues 6 and 14 and are printed as PASS/MISS with their ratios; the exit code only
says whether the benchmark itself worked. `--sizes 20 --runs 1` runs in CI to keep it working.

The code, one role per module beside this entry point (benchmarks/ is not a package, so this
file puts its own folder on sys.path): generate.py (the inputs), children.py (fresh processes
timed from posix_spawn to wait4, their peak RSS), baselines.py (what plan is measured
against), apply_harness.py (the emulator and the request-counting relay), statewrite.py (the
state writes of an apply, timed in-process), retained.py (the live memory at each upload of
an in-process apply) and report.py (the table, the targets, the JSON).
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

# sibling files; benchmarks/ is not a package
import generate
from apply_harness import APPLY_FIELDS, apply_probes
from baselines import IMPORT_ALL, IMPORT_CLICK, STARTUP_MIN_RUNS, plan_probes
from children import CRMFORM, BenchError, Probe, child_env, measure, prints
from report import Results, machine, print_report, targets, write_json

from crmform.engine.config.loader import schema_text

QUICKSTART = Path(__file__).resolve().parent.parent / "examples" / "quickstart"
DEFAULT_SIZES = (100, 1000, 10_000, 50_000, 100_000)
STATEWRITE = Path(__file__).resolve().parent / "statewrite.py"
RETAINED = Path(__file__).resolve().parent / "retained.py"
NAIVE_MAX_FIELDS = 10_000  # naive takes ~18 s at 10,000 fields here, and ~5x that at 50,000


def bench(
    tmp: Path,
    sizes: Sequence[int],
    runs: int,
    apply_fields: int,
    naive_max: int,
    rss_fields: int = 0,
) -> Results:
    env = child_env()
    schema_path = tmp / "crmform.schema.json"
    schema_path.write_text(schema_text(), encoding="utf-8")
    py = (sys.executable, "-c")
    quick = max(runs, STARTUP_MIN_RUNS)
    startup = {
        "help": Probe("crmform --help", (*CRMFORM, "--help"), prints(0, "Usage:"), quick),
        "plan_quickstart": Probe(
            "crmform plan examples/quickstart",
            (*CRMFORM, "plan", str(QUICKSTART)),
            prints(0, "Plan: "),
            quick,
        ),
        "import_all": Probe(IMPORT_ALL, (*py, IMPORT_ALL), prints(0), quick),
        "import_click": Probe(IMPORT_CLICK, (*py, IMPORT_CLICK), prints(0), quick),
    }
    _progress(f"start-up, {quick} run(s) each")
    measure(list(startup.values()), tmp, env, warm_up=True)  # cold runs would time compiling
    plans: dict[tuple[int, str], dict[str, Probe]] = {}
    for size in sizes:
        _progress(f"plan, {size:,} fields")
        work = generate.write_workload(tmp / f"fields{size}", size)
        for fmt in ("json", "yaml"):
            outputs = size == max(sizes)  # --format json/markdown against text, all creates
            plans[(size, fmt)] = plan_probes(
                work, fmt, schema_path, runs, size <= naive_max, outputs
            )
        probes = [p for fmt in ("json", "yaml") for p in plans[(size, fmt)].values()]
        measure(probes, tmp, env, warm_up=runs > 1)
    steps: list[Probe] = []
    notes: list[str] = []
    writes: dict[str, object] = {}
    retained: dict[str, object] = {}
    if apply_fields:
        _progress(f"apply, 4 x {apply_fields // 4:,} fields, against crmform emulator")
        (tmp / "apply").mkdir()
        steps, notes = apply_probes(tmp / "apply", apply_fields, runs)
        _progress(f"state writes, 4 x {apply_fields // 4:,} fields, in-process")
        writes = state_writes(tmp, env, apply_fields, runs)
        _progress(f"memory across uploads, 4 x {apply_fields // 4:,} fields, in-process")
        retained = retained_across_uploads(tmp, env, apply_fields)
    rss_steps: list[Probe] = []
    if rss_fields:
        # Memory, once (peak RSS hardly varies): create and change, unpaced.
        _progress(f"apply peak RSS, 4 x {rss_fields // 4:,} fields")
        (tmp / "apply-rss").mkdir()
        rss_steps, rss_notes = apply_probes(tmp / "apply-rss", rss_fields, 1, paced=False)
        rss_steps = [p for p in rss_steps if p.name != "apply (unchanged)"]
        notes += rss_notes
    return Results(
        startup,
        plans,
        steps,
        apply_fields,
        notes,
        str(tmp),
        writes=writes,
        retained=retained,
        apply_rss=rss_steps,
        apply_rss_fields=rss_fields,
    )


def json_child(
    tmp: Path, env: dict[str, str], name: str, script: Path, *args: object, key: str
) -> dict[str, object]:
    """An in-process measurement run in a child of its own: the JSON object of the last line
    it prints (which must hold `key`), and the child's peak RSS."""
    argv = (sys.executable, str(script), *map(str, args))
    sample = Probe(name, argv, prints(0, f'"{key}"'), 1).run_once(tmp, env)
    measured: dict[str, object] = json.loads(sample.stdout.strip().splitlines()[-1])
    return {**measured, "child_rss_mb": round(sample.rss_mb, 1)}


def state_writes(tmp: Path, env: dict[str, str], fields: int, runs: int) -> dict[str, object]:
    """statewrite.py's times of the state writes (see its docstring)."""
    name = "state writes (in-process)"
    return json_child(tmp, env, name, STATEWRITE, fields, runs, key="row_ratio_cpu")


def retained_across_uploads(tmp: Path, env: dict[str, str], fields: int) -> dict[str, object]:
    """retained.py's live memory at each upload's start (see its docstring)."""
    name = "memory across uploads (in-process)"
    return json_child(tmp, env, name, RETAINED, fields, key="blocks")


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
    parser = argparse.ArgumentParser(description="crmform's benchmark (issues 6 and 14).")
    parser.add_argument(
        "--sizes",
        type=_sizes,
        default=DEFAULT_SIZES,
        help="total fields per schema set (default 100,1000,10000,50000,100000)",
    )
    parser.add_argument(
        "--runs", type=int, default=5, help="fresh-process runs per median (default 5)"
    )
    parser.add_argument("--json", type=Path, help="also write the results to this file")
    parser.add_argument(
        "--apply-fields",
        type=int,
        help="fields for apply (default 40000, or the largest size if smaller; 0 skips)",
    )
    parser.add_argument(
        "--apply-rss-fields",
        type=int,
        help="fields for one more apply that reports peak RSS (default 100000 when apply runs "
        "at 40000 fields, else 0: skipped)",
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
    rss_fields = args.apply_rss_fields
    if rss_fields is None:
        rss_fields = 100_000 if apply_fields == APPLY_FIELDS else 0
    if 0 < rss_fields < 8:
        parser.error("--apply-rss-fields must be 0 or at least 8")
    command = " ".join(["python benchmarks/run.py", *(sys.argv[1:] if argv is None else argv)])
    started = time.monotonic()
    try:
        with tempfile.TemporaryDirectory(prefix="crmform-bench-") as tmp:
            results = bench(
                Path(tmp), args.sizes, args.runs, apply_fields, args.naive_max_fields, rss_fields
            )
    except BenchError as error:
        print(f"Benchmark failed: {error}", file=sys.stderr)
        return 1
    verdicts, info = targets(results), machine()
    print_report(results, verdicts, info, args.runs, command)
    print(f"(took {time.monotonic() - started:.0f} s)")
    if args.json is not None:
        write_json(args.json, results, verdicts, info, args.runs, command)
    return 0


if __name__ == "__main__":
    sys.exit(main())

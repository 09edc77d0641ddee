"""The report: the results table, the issue's targets as PASS/MISS with their ratios, and the
JSON file written by --json."""

from __future__ import annotations

import itertools
import json
import os
import platform
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

from apply_harness import APPLY_FIELDS
from baselines import NAIVE_MAX_RUNS
from children import Probe


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


def print_report(
    results: Results, verdicts: Sequence[Target], info: dict[str, object], runs: int, command: str
) -> None:
    """The header naming the machine, the table, then every target's verdict and the notes."""
    print(
        f"crmform benchmark on {info['cpus']} CPU(s), {info['cpu']}, Python {info['python']}, "
        f"libyaml {'yes' if info['libyaml'] else 'no'}: median wall time of {runs} run(s) "
        f"(naive: {min(runs, NAIVE_MAX_RUNS)}) in fresh processes\ncommand: {command}\n"
    )
    print(table(results))
    print("\nx = crmform / baseline (lower is better); naive/crm = naive / crmform (higher is")
    print("better). Targets (issue 6):")
    for v in verdicts:
        print(f"  {v.status:<4}  {v.name}: {v.measured}")
    for note in results.notes:
        print(f"  note: {note}")


def write_json(
    path: Path,
    results: Results,
    verdicts: Sequence[Target],
    info: dict[str, object],
    runs: int,
    command: str,
) -> None:
    """Every run's time and each target, with the temporary directory shown as <tmp>."""
    report = {
        "command": command,
        "machine": info,
        "runs": runs,
        "startup": {k: p.summary() for k, p in results.startup.items()},
        "plans": [
            {"fields": size, "format": fmt, **{k: p.summary() for k, p in probes.items()}}
            for (size, fmt), probes in sorted(results.plans.items())
        ],
        "apply": {"fields": results.apply_fields, "notes": results.notes}
        | {p.name: p.summary() for p in results.apply},
        "targets": [asdict(v) for v in verdicts],
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    text = json.dumps(report, indent=2).replace(results.tmp, "<tmp>")
    path.write_text(text + "\n", encoding="utf-8")

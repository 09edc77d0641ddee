"""The report: the results table, the issue's targets as PASS/MISS with their ratios, and the
JSON file written by --json."""

from __future__ import annotations

import itertools
import json
import os
import platform
import statistics
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path

from apply_harness import APPLY_FIELDS, PACE_FROM, PACED, PACED_RATE
from baselines import NAIVE_MAX_RUNS, STARTUP_MIN_RUNS
from children import Probe


@dataclass
class Results:
    startup: dict[str, Probe]
    plans: dict[tuple[int, str], dict[str, Probe]]
    apply: list[Probe]
    apply_fields: int
    notes: list[str]
    tmp: str  # the temporary directory, shown as <tmp> in the JSON report
    writes: dict[str, object] = field(default_factory=dict)  # statewrite.py's line, if run
    retained: dict[str, object] = field(default_factory=dict)  # retained.py's line, if run
    # apply at --apply-rss-fields (100,000 by default in a full run): its peak RSS
    apply_rss: list[Probe] = field(default_factory=list)
    apply_rss_fields: int = 0


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


def _na(name: str, why: str) -> Target:
    return Target("n/a", name, why)


def _at(r: Results, size: int, fmt: str) -> dict[str, Probe]:
    return r.plans.get((size, fmt), {})


def targets(r: Results) -> list[Target]:
    """Issue 14's targets, each a ratio against a floor measured in the same run."""
    s = r.startup
    out = [
        _ratio(
            "start-up: `crmform --help` <= 1.2x `import click`", s["help"], s["import_click"], 1.2
        ),
        _ratio(
            "start-up: `crmform plan examples/quickstart` <= 1.1x `import click, yaml`",
            s["plan_quickstart"],
            s["import_all"],
            1.1,
        ),
    ]
    for fmt, limit in (("json", 1.5), ("yaml", 1.1)):
        name = (
            f"plan {fmt.upper()} 50,000 fields <= {limit}x the parse floor (files + state, gc off)"
        )
        p = _at(r, 50_000, fmt)
        out.append(
            _ratio(name, p["crmform"], p["parse"], limit) if p else _na(name, "needs size 50000")
        )
    for fmt in ("json", "yaml"):
        name = f"validate {fmt.upper()} 50,000 fields <= 1.3x the parse floor of the files alone"
        p = _at(r, 50_000, fmt)
        out.append(
            _ratio(name, p["validate"], p["parse_desired"], 1.3)
            if p
            else _na(name, "needs size 50000")
        )
    largest = max((size for size, fmt in r.plans if fmt == "json"), default=0)
    p = _at(r, largest, "json")
    if "out_text" in p:
        for fmt, unit in itertools.product(("json", "markdown"), ("s", "MB")):
            what = "time" if unit == "s" else "peak RSS"
            name = f"`plan --format {fmt}` {what} <= 1.1x text ({largest:,} creates)"
            out.append(_ratio(name, p[f"out_{fmt}"], p["out_text"], 1.1, unit))
    p = _at(r, 100_000, "json")
    name = "plan JSON 100,000 fields peak RSS <= 200 MB"
    out.append(
        _target(name, p["crmform"].rss_mb <= 200, f"{p['crmform'].rss_mb:.0f} MB")
        if p
        else _na(name, "needs size 100000")
    )
    out += _scaling(r)
    out += _apply_targets(r)
    return out


def _scaling(r: Results) -> list[Target]:
    """Time net of the start-up floor, and peak RSS, per 1k fields: flat when linear."""
    out = []
    sizes = sorted({size for size, _ in r.plans if size >= 1000})
    for fmt, unit in itertools.product(("json", "yaml"), ("s", "MB")):
        start = r.startup["import_click" if fmt == "json" else "import_all"].seconds
        per = []
        for size in sizes:
            probe = r.plans[(size, fmt)]["crmform"]
            value = probe.seconds - start if unit == "s" else probe.rss_mb
            per.append(value / (size / 1000))
        shown = ", ".join(f"{size // 1000}k: {v:.4f}" for size, v in zip(sizes, per, strict=True))
        what = "time (net of start-up)" if unit == "s" else "peak RSS"
        name = f"linear: {what} per 1k fields, {fmt.upper()}, never grows with size (<= 1.1x)"
        if len(per) < 2:
            out.append(_na(name, "needs two sizes >= 1000"))
            continue
        ok = all(b <= 1.1 * a for a, b in itertools.pairwise(per))
        out.append(_target(name, ok, f"{unit} per 1k fields: {shown}"))
    return out


def _apply_targets(r: Results) -> list[Target]:
    if not r.apply:
        return [_na("apply", "not measured (--apply-fields 0)")]
    exact = all(n == p.expect_posts for p in r.apply for n in p.count("POST"))
    counts = "; ".join(f"{p.name}: {p.count('POST')} (expected {p.expect_posts})" for p in r.apply)
    out = [_target("apply: one POST per changed object type, none when unchanged", exact, counts)]
    size = f"4 x {r.apply_fields // 4:,}"
    issue = r.apply_fields == APPLY_FIELDS
    change = next(p for p in r.apply if p.name == "apply (change)")
    name = f"apply (change) {size}: client CPU <= 1.5 s"
    cpu = f"{change.cpu:.2f} s user+system"
    out.append(
        _target(name, change.cpu <= 1.5, cpu) if issue else _na(name, cpu + " (not 4 x 10,000)")
    )
    name = f"apply (change) {size}: wall <= pacing floor + 0.5 s, (requests - 1) / {PACED_RATE} s"
    paced = next((p for p in r.apply if p.name == f"apply ({PACED})"), None)
    if paced is not None:
        requests = statistics.median(len(run) for run in paced.requests)
        floor = (requests - 1) / PACED_RATE
        measured = f"{paced.seconds:.2f} s vs floor {floor:.2f} s ({requests:g} requests)"
        out.append(_target(name, paced.seconds <= floor + 0.5, measured))
    else:
        out.append(_na(name, f"not paced below {PACE_FROM:,} fields"))
    name = "apply peak RSS <= 300 MB at 100,000 fields"
    if r.apply_fields >= 100_000 or r.apply_rss_fields >= 100_000:
        steps, at = (
            (r.apply, r.apply_fields)
            if r.apply_fields >= 100_000
            else (
                r.apply_rss,
                r.apply_rss_fields,
            )
        )
        peak = max(p.rss_mb for p in steps)
        worst = max(steps, key=lambda p: p.rss_mb).name
        out.append(_target(name, peak <= 300, f"{peak:.0f} MB ({worst}, {at:,} fields)"))
    else:
        peak = max(p.rss_mb for p in r.apply)
        why = f"{peak:.0f} MB at {r.apply_fields:,} fields (--apply-rss-fields 100000)"
        out.append(_na(name, why))
    out += _write_targets(r, size, issue)
    out.append(_retained_target(r, size, issue))
    return out


def _retained_target(r: Results, size: str, issue: bool) -> Target:
    """retained.py's live memory blocks at each upload's start. An upload whose exchange
    stayed alive would keep at least a block per field it sent or read back (each Field
    is one, each parsed field of a GET answer several); under one per 10 fields, no
    upload's fields, bodies or answers outlived it. The first upload is left out: it makes what
    lives for the whole network phase (the connection pool, the first lazy imports)."""
    name = (
        f"apply {size}: nothing retained across uploads (live memory blocks at each "
        "upload's start, from the 2nd on: growth per upload <= 1 per 10 fields uploaded)"
    )
    m = r.retained
    blocks = m.get("blocks")
    if not isinstance(blocks, list) or len(blocks) < 3 or m.get("code") != 0:
        return _na(name, f"not measured ({m or 'no apply'})")
    per_upload = (blocks[-1] - blocks[1]) / (len(blocks) - 2)
    fields = int(m["fields_per_upload"])  # type: ignore[call-overload]
    measured = (
        f"{per_upload:.0f} blocks per upload of {fields:,} fields (blocks: {blocks}; "
        f"tracked objects: {m['tracked_objects']}; RSS MB: {m['rss_mb']})"
    )
    if not issue:
        return _na(name, measured + " (not 4 x 10,000)")
    return _target(name, per_upload <= fields / 10, measured)


def _write_targets(r: Results, size: str, issue: bool) -> list[Target]:
    """statewrite.py's ratios: the CPU time of the state writes against one full encode."""
    w = r.writes
    rows = (
        ("row", "4 writes, each changing one object type, after a read"),
        ("apply", "the applier's writes: a pending record, then the result per upload"),
    )
    out = []
    for what, how in rows:
        name = f"apply {size}: state writes <= 1.5x one full encode of the state ({how}; CPU)"
        if not w:
            out.append(_na(name, "not measured"))
            continue
        ratio = float(w[f"{what}_ratio_cpu"])  # type: ignore[arg-type]
        measured = (
            f"{w[f'{what}_cpu']} s / {w['encode_cpu']} s = {ratio:.2f}x for "
            f"{w[f'{what}_writes']} writes (wall {w[f'{what}_wall']} s / {w['encode_wall']} s, "
            "fsyncs included)"
        )
        out.append(
            _target(name, ratio <= 1.5, measured)
            if issue
            else _na(name, measured + " (not 4 x 10,000)")
        )
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
        "CPU s",
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
            "imports: `import click, yaml`",
        ),
    ]
    for (size, fmt), probes in sorted(r.plans.items()):
        note = ""
        if "naive_json" in probes:
            nj = probes["naive_json"].seconds
            note = f"naive with json.loads: {nj:.2f} s ({nj / probes['crmform'].seconds:.1f}x)"
        name = f"plan {size:,} fields {fmt.upper()}"
        imports = s["import_all"] if fmt == "yaml" else s["import_click"]
        rows.append((name, probes["crmform"], imports, probes, note))
        if "validate" in probes:
            rows.append(
                (
                    f"validate {size:,} fields {fmt.upper()}",
                    probes["validate"],
                    imports,
                    {"parse": probes["parse_desired"]},
                    "parse: the files alone",
                )
            )
        for out in ("text", "json", "markdown"):
            if f"out_{out}" in probes:
                rows.append(
                    (
                        f"plan --format {out}, {size:,} creates",
                        probes[f"out_{out}"],
                        imports,
                        {},
                        "",
                    )
                )
    for steps, fields in ((r.apply, r.apply_fields), (r.apply_rss, r.apply_rss_fields)):
        for step in steps:
            note = f"POSTs per run {step.count('POST')}, GETs {step.count('GET')}"
            if step.name == f"apply ({PACED})":
                note += f", at {PACED_RATE} requests/s"
            rows.append((f"{step.name}, 4 x {fields // 4:,} fields", step, None, {}, note))
    cells = [head]
    for name, probe, imports, baselines, note in rows:
        t = probe.seconds
        cells.append(
            (
                name,
                f"{t:.3f}",
                f"{probe.rss_mb:.0f}",
                f"{probe.cpu:.2f}",
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
        "crmform": install(),
    }


def install() -> str:
    """How the crmform the children import is installed: "normal" (`pip install .`, what
    users have), "editable" (`pip install -e .`) or "source" (not installed, found on
    sys.path). An editable install's finder is a .pth hook that imports pathlib and about
    35 more modules when any interpreter starts, so it slows every floor too and flatters
    the start-up ratios (see benchmarks/README.md)."""
    import json
    from importlib import metadata

    try:
        dist = metadata.distribution("crmform")
    except metadata.PackageNotFoundError:
        return "source"
    direct = json.loads(dist.read_text("direct_url.json") or "{}")
    return "editable" if direct.get("dir_info", {}).get("editable") else "normal"


_INSTALLS = {"editable": "an editable install", "source": "crmform run from source"}


def print_report(
    results: Results, verdicts: Sequence[Target], info: dict[str, object], runs: int, command: str
) -> None:
    """The header naming the machine, the table, then every target's verdict and the notes."""
    print(
        f"crmform benchmark on {info['cpus']} CPU(s), {info['cpu']}, Python {info['python']}, "
        f"libyaml {'yes' if info['libyaml'] else 'no'}, crmform {info['crmform']} install: "
        f"median wall time of {runs} run(s) (naive: {min(runs, NAIVE_MAX_RUNS)}, start-up: "
        f"{max(runs, STARTUP_MIN_RUNS)}) in fresh "
        f"processes\ncommand: {command}\n"
    )
    if info["crmform"] != "normal":
        print(
            f"Note: {_INSTALLS.get(str(info['crmform']), info['crmform'])}, not the normal "
            "install users have: the start-up rows and their floors differ from a `pip install .` "
            "(benchmarks/README.md).\n"
        )
    print(table(results))
    print("\nx = crmform / baseline (lower is better); naive/crm = naive / crmform (higher is")
    print(
        "better). Every floor runs with gc off and only the imports its step needs.\n"
        "Targets (issue 14):"
    )
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
        "state_writes": results.writes,
        "retained": results.retained,
        "apply_rss": {"fields": results.apply_rss_fields}
        | {p.name: p.summary() for p in results.apply_rss},
        "targets": [asdict(v) for v in verdicts],
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    text = json.dumps(report, indent=2).replace(results.tmp, "<tmp>")
    path.write_text(text + "\n", encoding="utf-8")

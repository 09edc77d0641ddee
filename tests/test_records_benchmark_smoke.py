"""benchmarks/records.py: its records are what it claims (valid, or with exactly the problems
it counts), and it runs end to end at a tiny size. Timings are never asserted here."""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
from pathlib import Path
from types import ModuleType

import pytest

from crmform.engine.model import ObjectKey, ObjectType
from crmform.engine.records import CheckRequest, RecordSchema, check_files

BENCHMARKS = Path(__file__).resolve().parent.parent / "benchmarks"


def _load() -> ModuleType:
    sys.path.insert(0, str(BENCHMARKS))  # records.py imports its siblings
    try:
        spec = importlib.util.spec_from_file_location("bench_records", BENCHMARKS / "records.py")
        assert spec is not None
        assert spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        return module
    finally:
        while str(BENCHMARKS) in sys.path:  # records.py adds its folder too
            sys.path.remove(str(BENCHMARKS))


records = _load()


def test_generated_records_are_valid_or_have_exactly_the_problems_counted(tmp_path: Path):
    schema = RecordSchema(ObjectKey("gong", 1, ObjectType.ACCOUNT), records.FIELDS)
    good, bad = tmp_path / "good.ldjson", tmp_path / "bad.ldjson"
    assert records.write_records(good, 500) == 0
    assert records.write_records(bad, 500, bad=True) == 5
    clean = check_files(CheckRequest((good,), (schema,), "the state", 50))
    assert (clean.errors, clean.warnings, clean.records) == (0, 0, 500)
    broken = check_files(CheckRequest((bad,), (schema,), "the state", 50))
    assert (broken.errors, broken.warnings) == (5, 0)
    assert len({p.code for p in broken.problems}) == 4
    again = tmp_path / "again.ldjson"
    records.write_records(again, 500)
    assert again.read_bytes() == good.read_bytes()  # deterministic


@pytest.mark.slow
def test_the_records_benchmark_runs_end_to_end_at_a_tiny_size(tmp_path: Path):
    scratch = tmp_path / "tmp"
    scratch.mkdir()
    out = tmp_path / "out.json"
    done = subprocess.run(
        [sys.executable, BENCHMARKS / "records.py", "--sizes", "200", "--runs", "1", "--json", out],
        cwd=tmp_path,
        env={**os.environ, "TMPDIR": str(scratch)},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert "Targets (issue 15):" in done.stdout
    report = json.loads(out.read_text(encoding="utf-8"))
    assert [(s["records"], s["bad"]) for s in report["sizes"]] == [(200, False), (200, True)]
    assert report["sizes"][1]["errors"] == 2
    assert all(t.startswith(("PASS", "MISS", "n/a")) for t in report["targets"])
    assert list(scratch.iterdir()) == []  # its temporary files are gone

"""Any fault leaves a state that a re-run converges from (issue 11), seeded and bounded.

Each case applies a random schema, then a random change of it while Gong fails the upload in
a random way (refused, failed before applying, applied but answered with an error), then
runs apply again with Gong healthy. Whatever happened, after that one clean re-run Gong has
exactly the files' fields, the state records exactly Gong's, nothing is pending, and planning
again shows no changes.
"""

from __future__ import annotations

import json
import random
from pathlib import Path

import pytest
from emulated import ID, Gong, field

from crmform.providers.gong.settings import DEFAULT_MAX_ATTEMPTS

CASES = 40
TYPES = ("STRING", "NUMBER", "DATE", "BOOLEAN")
FAULTS = (
    ("refused", 400, False),
    ("failed before applying", 500, False),
    ("applied, then 500", 500, True),
    ("applied, then 502", 502, True),
)


def schema(rnd: random.Random) -> dict[str, dict[str, str]]:
    names = rnd.sample([f"f{i}" for i in range(8)], rnd.randint(1, 5))
    return {n: {"type": rnd.choice(TYPES), "label": f"L{rnd.randint(0, 2)}"} for n in names}


def write(gong: Gong, fields: dict[str, dict[str, str]]) -> None:
    gong.write("ACCOUNT", *(field(n, f["type"], label=f["label"]) for n, f in fields.items()))


@pytest.mark.parametrize("seed", range(CASES))
def test_a_rerun_after_any_fault_converges(tmp_path: Path, monkeypatch, seed: int):
    monkeypatch.chdir(tmp_path)
    rnd = random.Random(seed)
    gong = Gong(tmp_path)
    write(gong, schema(rnd))
    assert gong.apply("--auto-approve").code == 0

    wanted = schema(rnd)
    write(gong, wanted)
    name, status, after_apply = rnd.choice(FAULTS)
    times = 1 if status == 400 else DEFAULT_MAX_ATTEMPTS
    gong.emulator.fail_next(status, times, method="POST", after_apply=after_apply)
    faulted = gong.apply("--auto-approve", "--allow-destroy")
    assert faulted.code in (0, 1), (name, faulted.stderr)

    again = gong.apply("--auto-approve", "--allow-destroy")
    assert again.code == 0, (seed, name, again.stderr)
    remote = {f["uniqueName"]: (f["type"], f["label"]) for f in gong.emulator.schema(ID, "ACCOUNT")}
    assert remote == {n: (f["type"], f["label"]) for n, f in wanted.items()}, (seed, name)
    stored = json.loads(Path("crmform.state.json").read_text(encoding="utf-8"))
    assert "pending" not in stored
    recorded = stored["objects"][f"gong/{ID}/ACCOUNT"]["fields"]
    assert {f["uniqueName"]: (f["type"], f["label"]) for f in recorded} == remote
    assert "No changes." in gong.cli("plan", gong.dir).stdout

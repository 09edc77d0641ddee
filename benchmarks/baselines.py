"""What crmform is measured against: the import baselines, and for each plan row a plain
parse, a parse plus jsonschema validation, and the naive script a user might write instead.

Why these baselines are fair: benchmarks/README.md.
"""

from __future__ import annotations

import sys
from pathlib import Path

import generate  # a sibling file; run.py puts benchmarks/ on sys.path
from children import CRMFORM, Probe, prints

NAIVE_MAX_RUNS = 3
# The start-up rows take ~50 ms a run, so a median of 3 swings by several per cent (one
# commit measured 1.08x and 1.12x of its floor that way); 15 runs of them cost ~3 s.
STARTUP_MIN_RUNS = 15
# The imports a command cannot avoid, with nothing else: `plan` of YAML files needs click
# and PyYAML (it never imports jsonschema); a JSON plan and `--help` need only click.
IMPORT_ALL = "import click, yaml"
IMPORT_CLICK = "import click"

# A plain parse of what `crmform plan` reads: every desired file (json.loads, or PyYAML with
# libyaml's CSafeLoader) and the state (json.loads); given a schema file, it also validates
# each desired document with jsonschema against crmform's shipped schema.
# The cycle collector is off, as in crmform's own run (cli.main), and only the parser the
# files need is imported: the best a Python program can do to read these bytes at all.
# A state path of "-" reads the desired files alone (the floor of `validate`).
PARSE_CODE = """
import gc
gc.disable()
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
if state_path != "-":
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


def plan_probes(
    work: generate.Workload,
    fmt: str,
    schema_path: Path,
    runs: int,
    naive: bool,
    outputs: bool = False,
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
        "validate": Probe(
            f"crmform validate {what}",
            (*CRMFORM, "validate", directory),
            prints(0, "Success:"),
            runs,
        ),
        "parse_desired": Probe(
            f"parse desired files {what}",
            (*py, PARSE_CODE, directory, "-"),
            prints(0, str(work.fields)),
            runs,
        ),
        "parse_validate": Probe(
            f"parse+validate {what}",
            (*py, PARSE_CODE, *files, str(schema_path)),
            prints(0, str(work.fields)),
            runs,
        ),
    }
    if fmt == "json" and outputs:
        # Every field a create: the plan's output is as large as it gets (no --state).
        for out in ("text", "json", "markdown"):
            probes[f"out_{out}"] = Probe(
                f"crmform plan --format {out} {what}, all creates",
                (
                    *CRMFORM,
                    "plan",
                    directory,
                    "--format",
                    out,
                    "--state",
                    str(work.json_dir.parent / "none.json"),
                ),
                prints(0, ""),
                runs,
            )
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

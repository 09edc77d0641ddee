"""`crmform fmt`: one canonical layout, comments kept, meaning never changed.

The properties: fmt never changes what the loader reads (the Desired of the files is the
same before and after), keeps every comment, and is idempotent; `import --write-config`
writes exactly fmt's layout.
"""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest
from emulated import ID, Gong, field
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from test_writer import TRICKY, remote_fields

from crmform.engine.config import loader as config
from crmform.engine.config.fmt import FormatProblem, format_text
from crmform.engine.config.writer import double_quoted, object_yaml, yaml_string
from crmform.engine.model import ObjectKey, ObjectSchema, ObjectType, replace

ROOT = Path(__file__).resolve().parent.parent

MESSY = """\
# header: the account fields
objectType: ACCOUNT   # aligned comment
integrationId: 2271307570613351879
provider: 'gong'
fields:
    # the first field
    - label: 'Main Account'  # eol
      uniqueName: parentAccount
      type: REFERENCE
      referenceTo: ACCOUNT
    - uniqueName: category
      label: "Category"
      type: PICKLIST
      orderedValueList: [Analyst, 'on', "12:30"]
      # about protect
      protect: yes
    - {uniqueName: x, type: STRING, label: "x: y"}
# the end
"""

CANONICAL = """\
# header: the account fields
provider: gong
integrationId: "2271307570613351879"
objectType: ACCOUNT   # aligned comment
fields:
    # the first field
  - uniqueName: parentAccount
    label: Main Account      # eol
    type: REFERENCE
    referenceTo: ACCOUNT
  - uniqueName: category
    label: Category
    type: PICKLIST
    orderedValueList:
      - Analyst
      - "on"
      - "12:30"
      # about protect
    protect: true
  - uniqueName: x
    label: "x: y"
    type: STRING
# the end
"""


def fmt(text: str, suffix: str = ".yaml") -> str:
    return format_text(text, is_json=suffix == ".json")


def desired_of(text: str, suffix: str = ".yaml") -> tuple:
    with tempfile.TemporaryDirectory() as folder:
        (Path(folder) / f"x{suffix}").write_text(text, encoding="utf-8")
        desired = config.load(Path(folder), {})
    return tuple((o.key, o.fields) for o in desired.objects)


def test_the_canonical_layout():
    assert fmt(MESSY) == CANONICAL
    assert fmt(CANONICAL) == CANONICAL
    assert desired_of(MESSY) == desired_of(CANONICAL)


def test_json_in_key_order_one_line_per_value_that_fits():
    text = json.dumps(
        {
            "fields": [
                {"type": "STRING", "uniqueName": "a", "label": "A"},
                {
                    "label": "Tier",
                    "uniqueName": "tier",
                    "type": "PICKLIST",
                    "orderedValueList": ["Gold", "Silver", "Bronze", "Iron", "Tin", "Lead", "Zinc"],
                },
            ],
            "objectType": "LEAD",
            "integrationId": 2271307570613351879,
        }
    )
    assert fmt(text, ".json") == (
        "{\n"
        '  "integrationId": "2271307570613351879",\n'
        '  "objectType": "LEAD",\n'
        '  "fields": [\n'
        '    { "uniqueName": "a", "label": "A", "type": "STRING" },\n'
        "    {\n"
        '      "uniqueName": "tier",\n'
        '      "label": "Tier",\n'
        '      "type": "PICKLIST",\n'
        '      "orderedValueList": ["Gold", "Silver", "Bronze", "Iron", "Tin", "Lead", "Zinc"]\n'
        "    }\n"
        "  ]\n"
        "}\n"
    )
    assert desired_of(text, ".json") == desired_of(fmt(text, ".json"), ".json")


def test_the_examples_are_formatted():
    for path in (ROOT / "examples" / "quickstart").iterdir():
        text = path.read_text(encoding="utf-8")
        assert fmt(text, path.suffix) == text, path.name


def test_unknown_keys_follow_the_known_ones_in_their_order():
    text = "zeta: 1\nfields: []\nalpha: 2\nobjectType: DEAL\nintegrationId: 1\n"
    assert fmt(text) == "integrationId: 1\nobjectType: DEAL\nfields: []\nzeta: 1\nalpha: 2\n"


def test_crlf_files_keep_crlf_and_a_bom_is_dropped():
    text = "\ufeffobjectType: DEAL\r\nintegrationId: 1\r\nfields: []\r\n"
    assert fmt(text) == "integrationId: 1\r\nobjectType: DEAL\r\nfields: []\r\n"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("a: [1\n", "invalid YAML"),
        ("", "the file is empty"),
        ("- a\n", "the top level is not a mapping"),
        ("objectType: DEAL\nobjectType: LEAD\n", "a key is given twice"),
        ("$schema: https://json-schema.org/draft/2020-12/schema\n", "this is a JSON Schema"),
    ],
)
def test_what_cannot_be_formatted_is_left_alone_with_a_reason(text, message):
    with pytest.raises(FormatProblem) as problem:
        fmt(text)
    assert message in problem.value.message


def test_invalid_values_keep_their_meaning():
    # YAML 1.1, as crmform reads it: `yes` is a boolean and `12:30` a number; fmt keeps both
    # (validation reports them), and quotes the strings that look like them.
    text = "objectType: DEAL\nfields:\n- {uniqueName: a, label: yes, type: 12:30}\n"
    out = fmt(text)
    assert out == ("objectType: DEAL\nfields:\n  - uniqueName: a\n    label: true\n    type: 750\n")


# --- properties -----------------------------------------------------------------------------

SAFE = st.sampled_from(
    [t for t in TRICKY if t and t == t.strip() and "\n" not in t and "\\" not in t]
    + ["Name", "Account Owner", "Ärger 😀", "v1.0", "a,b", "x-y"]
)
ANY_TEXT = st.one_of(SAFE, st.sampled_from(TRICKY).filter(bool), st.text(min_size=1, max_size=8))
COMMENT = st.text(
    alphabet=st.characters(codec="utf-8", exclude_categories=("Cc", "Cs", "Zl", "Zp")),
    max_size=12,
).map(lambda s: s.replace("\ufeff", ""))


@st.composite
def scalar(draw: st.DrawFn, text: str) -> str:
    styles = [double_quoted(text)]
    if yaml_string(text) == text:
        styles.append(text)
    if text.isprintable() and "\ufeff" not in text:
        styles.append("'" + text.replace("'", "''") + "'")
    return draw(st.sampled_from(styles))


@st.composite
def documents(draw: st.DrawFn) -> tuple[str, list[str]]:
    """A valid schema file in a random layout, with comments; and the comments' texts."""
    obj = ObjectSchema(
        ObjectKey("gong", draw(st.sampled_from([1, 6286478263646, 2**62])), ObjectType.DEAL),
        draw(remote_fields()),
    )
    comments: list[str] = []

    def comment() -> str:
        text = f"c{len(comments)}: {draw(COMMENT)}".rstrip()
        comments.append(text)
        return f"# {text}"

    def eol(line: str) -> str:
        return f"{line}  {comment()}" if draw(st.booleans()) else line

    def above(indent: int) -> list[str]:
        if draw(st.integers(0, 4)) != 0:
            return []
        return [" " * draw(st.integers(0, indent + 2)) + comment()]

    step = draw(st.sampled_from([2, 4]))
    dash = draw(st.sampled_from(["", " " * step]))  # list items indented under their key or not
    lines: list[str] = [comment()] if draw(st.booleans()) else []
    iid = str(obj.key.integration_id)
    written_id = draw(st.sampled_from([iid, '"' + iid + '"']))
    top = [
        ("provider", [eol("provider: gong")]),
        ("integrationId", [eol(f"integrationId: {written_id}")]),
        ("objectType", [eol("objectType: DEAL")]),
    ]
    body = ["fields: []"] if not obj.fields else [eol("fields:")]
    for f in obj.fields:
        entries = [
            ("uniqueName", draw(scalar(f.unique_name))),
            ("label", draw(scalar(f.label))),
            ("type", f.type.value),
        ]
        if f.reference_to is not None:
            entries.append(("referenceTo", f.reference_to))
        values = None
        if f.ordered_value_list is not None:
            values = [draw(scalar(v)) for v in f.ordered_value_list]
        if f.protect or draw(st.booleans()):
            spellings = ["true", "yes", "True"] if f.protect else ["false", "no"]
            entries.append(("protect", draw(st.sampled_from(spellings))))
        if values is not None:
            entries.append(("orderedValueList", "[" + ", ".join(values) + "]"))
        entries = draw(st.permutations(entries))
        key_col = len(dash) + 2
        item: list[str] = []
        for i, (key, value) in enumerate(entries):
            lead = dash + "- " if i == 0 else " " * key_col
            if key == "orderedValueList" and draw(st.booleans()):
                item += above(key_col)
                item.append(eol(f"{lead}orderedValueList:"))
                for v in values or ():
                    item += above(key_col + step)
                    item.append(eol(f"{' ' * (key_col + step)}- {v}"))
                continue
            if i:
                item += above(key_col)
            item.append(eol(f"{lead}{key}: {value}"))
        body += above(len(dash)) + item
    order = draw(st.permutations([*top, ("fields", body)]))
    for _, chunk in order:
        lines += above(0) + chunk
    if draw(st.booleans()):
        lines.append(comment())
    return "\n".join(lines) + "\n", comments


# No explain phase: its tracing makes shrinking a ruamel-heavy case take minutes.
SHRINK = [Phase.explicit, Phase.reuse, Phase.generate, Phase.target, Phase.shrink]


@settings(
    max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow], phases=SHRINK
)
@given(documents())
def test_fmt_keeps_the_meaning_and_every_comment_and_is_idempotent(case):
    text, comments = case
    out = fmt(text)
    assert desired_of(out) == desired_of(text)
    for c in comments:
        assert out.count(f"# {c}") == 1, (c, repr(text), repr(out))
    assert fmt(out) == out


@settings(max_examples=100, deadline=None)
@given(
    fields=remote_fields(),
    object_type=st.sampled_from(list(ObjectType)),
    integration_id=st.sampled_from([6286478263646, 2**62]),
    unknown=st.booleans(),
)
def test_import_writes_exactly_fmts_layout(fields, object_type, integration_id, unknown):
    if unknown:  # picklists and references Gong left unknown: their TODO comments stay put
        fields = tuple(replace(f, reference_to=None, ordered_value_list=None) for f in fields)
    text = object_yaml(ObjectSchema(ObjectKey("gong", integration_id, object_type), fields))
    assert fmt(text) == text


# --- the command ----------------------------------------------------------------------------


@pytest.fixture
def schema(tmp_path: Path) -> Path:
    folder = tmp_path / "schema"
    folder.mkdir()
    (folder / "messy.yaml").write_text(MESSY, encoding="utf-8")
    (folder / "clean.yaml").write_text(CANONICAL.replace("ACCOUNT", "DEAL"), encoding="utf-8")
    (folder / "crmform.state.json").write_text("{not a schema file", encoding="utf-8")
    return folder


def test_check_lists_what_would_change_writes_nothing_and_exits_1(cli, schema):
    done = cli("fmt", "--check", "schema")
    assert done.code == 1
    assert done.stdout == "would reformat schema/messy.yaml\n"
    assert done.stderr == "1 file would be reformatted, 1 file already formatted.\n"
    assert (schema / "messy.yaml").read_text() == MESSY


def test_diff_prints_a_unified_diff_that_patch_applies(cli, schema, tmp_path):
    done = cli("fmt", "--diff", "schema/messy.yaml")
    assert done.code == 1
    assert done.stdout.startswith("--- schema/messy.yaml\n+++ schema/messy.yaml\n@@ ")
    assert "-provider: 'gong'\n" in done.stdout
    assert (schema / "messy.yaml").read_text() == MESSY
    patch = subprocess.run(
        ["patch", "-p0", "-s"], input=done.stdout, text=True, cwd=tmp_path, check=False
    )
    if patch.returncode == 0:  # patch(1) is optional on a developer's machine
        assert (schema / "messy.yaml").read_text() == CANONICAL


def test_fmt_rewrites_in_place_keeping_the_mode_and_then_check_passes(cli, schema):
    (schema / "messy.yaml").chmod(0o640)
    done = cli("fmt")  # default: the current directory, which has no schema files
    assert done.code == 1
    assert "no schema files" in done.stderr
    done = cli("fmt", "schema")
    assert done.code == 0, done.stderr
    assert done.stdout == "reformatted schema/messy.yaml\n"
    assert done.stderr == "1 file reformatted, 1 file left unchanged.\n"
    assert (schema / "messy.yaml").read_text() == CANONICAL
    assert stat.S_IMODE((schema / "messy.yaml").stat().st_mode) == 0o640
    assert cli("fmt", "--check", "schema").code == 0
    assert (schema / "crmform.state.json").read_text() == "{not a schema file"  # skipped


def test_a_file_that_cannot_be_formatted_is_reported_and_the_rest_are_done(cli, schema):
    (schema / "broken.yaml").write_text("fields: [\n", encoding="utf-8")
    done = cli("fmt", "schema", "schema/missing.yaml")
    assert done.code == 1
    assert done.stdout == "reformatted schema/messy.yaml\n"
    lines = done.stderr.splitlines()
    assert lines[0] == "1 file reformatted, 1 file left unchanged."
    assert lines[1] == "Error: 2 problems in the schema files:"
    assert lines[2].startswith("  schema/broken.yaml:2: invalid YAML")
    assert lines[3] == "  schema/missing.yaml: no such file or directory"


def test_a_symlinked_file_is_formatted_through_the_link(cli, schema):
    real = schema / "messy.yaml"
    link = schema.parent / "link.yaml"
    link.symlink_to(real)
    assert cli("fmt", "link.yaml").code == 0
    assert link.is_symlink()
    assert real.read_text() == CANONICAL


def test_flags_can_come_from_the_environment(cli, schema, monkeypatch):
    monkeypatch.setenv("CRMFORM_FMT_CHECK", "true")
    assert cli("fmt", "schema").code == 1
    assert (schema / "messy.yaml").read_text() == MESSY


def test_import_write_config_then_fmt_check_passes(gong: Gong):
    gong.emulator.seed(
        ID,
        "ACCOUNT",
        [
            field("tier", "PICKLIST", label="on", orderedValueList=["Gold", "1.0", "a: b"]),
            field("owner", "REFERENCE", referenceTo="USER"),
            field("score", "NUMBER", label="yes"),
            field("note", "STRING", label='say "hi"\tnow'),
        ],
    )
    imported = gong.cli("import", "--integration-id", ID, "--write-config", "adopted")
    assert imported.code == 0, imported.stderr
    checked = gong.cli("fmt", "--check", "adopted")
    assert checked.code == 0, checked.stdout
    assert checked.stderr == "1 file already formatted.\n"


def test_only_fmt_imports_ruamel():
    probe = (
        "import sys\nfrom crmform.cli import run\n"
        f"code = run(['validate', {str(ROOT / 'examples' / 'quickstart')!r}])\n"
        "print('RUAMEL', code, any(m.startswith('ruamel') for m in sys.modules), file=sys.stderr)"
    )
    done = subprocess.run(
        [sys.executable, "-c", probe],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        env={**os.environ, "PYTHONDONTWRITEBYTECODE": "1"},
    )
    assert "RUAMEL 0 False" in done.stderr, done.stderr

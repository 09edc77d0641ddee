"""Schema-file inputs that must be refused, quickly and in few words (issues 10 and 11).

Each case was reproduced on main 93de91d: accepted with another meaning, skipped silently,
crashed, hung, or quoted the file without limit.
"""

from __future__ import annotations

import json
import os
import re
import textwrap
import time
from pathlib import Path

import pytest
import yaml

from crmform.engine.config import loader as config
from crmform.engine.config import schema_check
from crmform.engine.errors import ConfigError

HEAD = "integrationId: 1\nobjectType: LEAD\nfields:\n"  # fields start on line 4
VALID = "integrationId: 1\nobjectType: LEAD\nfields: []\n"

# Bounds on refusing bad input are CPU seconds (time.process_time): the bound is on the
# work done, and wall time swings with whatever else the machine runs.


@pytest.fixture
def schema_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    Path("schema").mkdir()
    return Path("schema")


def write(directory: Path, name: str, text: str) -> Path:
    path = directory / name
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


def refused(directory: Path, env: dict[str, str] | None = None) -> ConfigError:
    with pytest.raises(ConfigError) as caught:
        config.load(directory, env or {})
    return caught.value


def problems(directory: Path, env: dict[str, str] | None = None) -> list[str]:
    return [str(d) for d in refused(directory, env).diagnostics]


# --- integrationId: only plain decimal digits ---------------------------------------------

PLAIN = "write the id in plain decimal digits (no leading zero, sign, underscore, colon or prefix)"
YAML_SPELLINGS = [
    ("017", "017 is read by YAML as 15, an octal number"),
    ("00", "00 is read by YAML as 0, an octal number"),
    ("1:30", "1:30 is read by YAML as 90, a base-60 number"),
    ("0x10", "0x10 is read by YAML as 16, a hexadecimal number"),
    ("0b101", "0b101 is read by YAML as 5, a binary number"),
    ("1_000", "1_000 is read by YAML as 1000"),
    ("+5", "+5 is read by YAML as 5"),
    ('!!int "017"', "017 is read by YAML as 15, an octal number"),
]


@pytest.mark.parametrize(("given", "read_as"), YAML_SPELLINGS, ids=[c[0] for c in YAML_SPELLINGS])
def test_yaml_integer_spellings_of_the_integration_id_are_refused(schema_dir, given, read_as):
    write(schema_dir, "x.yaml", f"objectType: LEAD\nintegrationId: {given}\nfields: []\n")
    assert problems(schema_dir) == [f"schema/x.yaml:2: integrationId: {read_as}; {PLAIN}"]


LEADING_ZERO = "has a leading zero; write the id in digits only, without leading zeros"


@pytest.mark.parametrize("suffix", ["yaml", "json"])
def test_a_quoted_id_with_a_leading_zero_is_refused(schema_dir, suffix):
    # Accepting '017' quoted while refusing it bare would let quotes change the target.
    if suffix == "yaml":
        write(schema_dir, "x.yaml", 'objectType: LEAD\nintegrationId: "017"\nfields: []\n')
    else:
        write(schema_dir, "x.json", '{"objectType": "LEAD",\n"integrationId": "017", "fields": []}')
    assert problems(schema_dir) == [f"schema/x.{suffix}:2: integrationId: '017' {LEADING_ZERO}"]


def test_an_id_from_the_environment_with_a_leading_zero_is_refused(schema_dir):
    write(schema_dir, "x.yaml", 'objectType: LEAD\nintegrationId: "${GONG_ID}"\nfields: []\n')
    assert problems(schema_dir, {"GONG_ID": "017"}) == [
        "schema/x.yaml:2: integrationId: environment variable GONG_ID must hold the integration "
        "id in digits only, without leading zeros"
    ]


@pytest.mark.parametrize("given", ["17", '"17"', "'17'"])
def test_plain_digits_bare_or_quoted_still_load(schema_dir, given):
    write(schema_dir, "x.yaml", f"objectType: LEAD\nintegrationId: {given}\nfields: []\n")
    assert config.load(schema_dir, {}).objects[0].key.integration_id == 17


# --- blank names, labels and values -------------------------------------------------------

BLANKS = [
    ('{uniqueName: " ", label: A, type: URL}', "fields[0]: uniqueName must not be blank"),
    ('{uniqueName: "\\t", label: A, type: URL}', "fields[0]: uniqueName must not be blank"),
    (
        '{uniqueName: " a", label: A, type: URL}',
        "fields[0] (' a'): uniqueName ' a' starts or ends with blank space; remove it",
    ),
    (
        '{uniqueName: "a\\n", label: A, type: URL}',
        "fields[0] ('a\\n'): uniqueName 'a\\n' starts or ends with blank space; remove it",
    ),
    ('{uniqueName: a, label: "  ", type: URL}', "fields[0] (a): label must not be blank"),
    (
        '{uniqueName: a, label: "Name ", type: URL}',
        "fields[0] (a): label 'Name ' starts or ends with blank space; remove it",
    ),
    (
        '{uniqueName: a, label: A, type: PICKLIST, orderedValueList: [x, ""]}',
        "fields[0] (a): orderedValueList[1] must not be empty",
    ),
    (
        '{uniqueName: a, label: A, type: PICKLIST, orderedValueList: [" ", x]}',
        "fields[0] (a): orderedValueList[0] must not be blank",
    ),
    (
        '{uniqueName: a, label: A, type: PICKLIST, orderedValueList: [x, " y"]}',
        "fields[0] (a): orderedValueList[1] ' y' starts or ends with blank space; remove it",
    ),
]


@pytest.mark.parametrize(("item", "expected"), BLANKS, ids=[c[1] for c in BLANKS])
def test_blank_names_labels_and_values_are_refused(schema_dir, item, expected):
    write(schema_dir, "lead.yaml", f"{HEAD}  - {item}\n")
    assert problems(schema_dir) == [f"schema/lead.yaml:4: {expected}"]


def test_a_block_scalar_label_with_its_trailing_newline_is_refused(schema_dir):
    write(
        schema_dir,
        "lead.yaml",
        f"{HEAD}  - uniqueName: a\n    label: |\n      Name\n    type: URL\n",
    )
    assert problems(schema_dir) == [
        "schema/lead.yaml:5: fields[0] (a): label 'Name\\n' starts or ends with blank space; "
        "remove it"
    ]


def test_blank_names_are_refused_in_json_too(schema_dir):
    write(
        schema_dir,
        "lead.json",
        '{"integrationId": 1, "objectType": "LEAD", "fields": [\n'
        '  {"uniqueName": "\\u00a0", "label": "A", "type": "URL"}]}',
    )
    assert problems(schema_dir) == ["schema/lead.json:2: fields[0]: uniqueName must not be blank"]


def test_inner_blanks_and_newlines_are_fine(schema_dir):
    write(
        schema_dir,
        "lead.yaml",
        f'{HEAD}  - {{uniqueName: a b, label: "Two\\nlines", type: PICKLIST,'
        ' orderedValueList: ["x y"]}\n',
    )
    (obj,) = config.load(schema_dir, {}).objects
    assert obj.fields[0].label == "Two\nlines"


# --- files that cannot be read are errors, never skipped ----------------------------------


def test_a_broken_symlink_is_an_error_not_a_removed_object(schema_dir):
    write(schema_dir, "lead.yaml", HEAD + "  - {uniqueName: a, label: A, type: URL}\n")
    (schema_dir / "account.yaml").symlink_to("gone/account.yaml")
    assert problems(schema_dir) == [
        "schema/account.yaml: the file is a symbolic link to 'gone/account.yaml', which does "
        "not exist; fix the link, or remove it to delete what it declared"
    ]


def test_a_symlink_loop_is_an_error(schema_dir):
    (schema_dir / "loop.yaml").symlink_to("loop.yaml")
    assert problems(schema_dir) == [
        "schema/loop.yaml: the file is a symbolic link that leads back to itself; fix the link "
        "or remove it"
    ]


def test_an_unreadable_file_is_an_error(schema_dir, monkeypatch):
    write(schema_dir, "lead.yaml", VALID)
    path = write(schema_dir, "secret.yaml", VALID.replace("LEAD", "DEAL"))
    if os.geteuid() == 0:  # root reads anything: refuse it the way the kernel would
        real_open = Path.open

        def denied(self, *args, **kwargs):
            if self.name == "secret.yaml":
                raise PermissionError(13, "Permission denied", str(self))
            return real_open(self, *args, **kwargs)

        monkeypatch.setattr(Path, "open", denied)
    else:
        path.chmod(0)
    assert problems(schema_dir) == [
        "schema/secret.yaml: the file cannot be read (Permission denied); give crmform read "
        "access, or move it out of the schema directory"
    ]


def test_a_named_pipe_is_refused_without_blocking_on_it(schema_dir):
    os.mkfifo(schema_dir / "pipe.yaml")
    assert problems(schema_dir) == [
        "schema/pipe.yaml: the file is not a regular file (a named pipe); move it out of the "
        "schema directory"
    ]


def test_a_directory_or_a_symlink_to_one_is_still_not_a_schema_file(schema_dir, tmp_path):
    write(schema_dir, "lead.yaml", VALID)
    (schema_dir / "old.yaml").mkdir()
    (schema_dir / "link.yaml").symlink_to(tmp_path)
    assert [o.source for o in config.load(schema_dir, {}).objects] == ["schema/lead.yaml"]


def test_a_file_over_the_size_limit_is_refused_before_parsing(schema_dir, monkeypatch):
    monkeypatch.setattr(config, "MAX_FILE_BYTES", 1000)
    write(schema_dir, "lead.yaml", HEAD + "  - {uniqueName: a, label: A, type: URL}\n" * 40)
    assert problems(schema_dir) == [
        "schema/lead.yaml: the file is larger than 1000 bytes, the limit for one schema file "
        "(enough for about 80,000 fields), so it is probably not a schema file; move it out "
        "of the schema directory"
    ]


@pytest.mark.parametrize("suffix", ["yaml", "json"])
def test_a_file_of_too_many_values_is_refused_without_describing_them(schema_dir, suffix):
    # 16 MB of `[a,a,a,...` would be 8 million YAML nodes: gigabytes.
    write(schema_dir, f"lead.{suffix}", '{"integrationId": 1, "objectType": "LEAD", "fields": []}')
    head = '{"integrationId": 1, "objectType": "DEAL", "fields": [], "x": ['
    write(schema_dir, f"x.{suffix}", head + '"a",' * 1_000_000 + '"a"]}')
    started = time.process_time()
    assert problems(schema_dir) == [
        f"schema/x.{suffix}: the file holds more than 1,000,000 keys and values, the limit for "
        "one schema file (enough for about 80,000 fields), so it is probably not a schema file; "
        "move it out of the schema directory"
    ]
    assert time.process_time() - started < 1


def test_the_limits_are_documented_and_far_above_real_files():
    assert (config.MAX_FILE_BYTES, config.MAX_FILE_VALUES) == (16 * 1024 * 1024, 1_000_000)
    readme = (Path(__file__).parents[1] / "README.md").read_text(encoding="utf-8")
    assert "over 16 MB or 1,000,000 keys and values (about 80,000 fields)" in readme


# --- inputs that used to hang or crash ----------------------------------------------------


def billion_laughs(levels: int = 9) -> str:
    lines = ["integrationId: 1", "objectType: LEAD", 'x0: &a0 ["lol","lol","lol","lol","lol"]']
    lines += [f"x{i}: &a{i} [{', '.join([f'*a{i - 1}'] * 9)}]" for i in range(1, levels)]
    lines.append(f"fields: [{{uniqueName: a, label: *a{levels - 1}, type: URL}}]")
    return "\n".join(lines) + "\n"


def test_a_yaml_alias_bomb_is_refused_in_bounded_time(schema_dir):
    write(schema_dir, "lead.yaml", billion_laughs())
    started = time.process_time()
    (message,) = problems(schema_dir)
    assert time.process_time() - started < 2
    assert message.startswith("schema/lead.yaml:")
    assert re.search(
        r"YAML aliases would expand this file to more than [0-9,]+ values; write the repeated "
        r"parts out \(aliases suit small repeated parts, such as `<<: \*base` in a field\)$",
        message,
    ), message


def test_an_alias_inside_its_own_anchor_is_refused(schema_dir):
    write(schema_dir, "lead.yaml", HEAD + "  - &b {uniqueName: b, label: B, type: URL, x: *b}\n")
    assert problems(schema_dir) == [
        "schema/lead.yaml:4: an alias refers to a node that contains it, which would make an "
        "endless value; write the value out instead"
    ]


def test_merge_keys_that_repeat_a_small_base_are_fine_at_scale(schema_dir):
    items = "".join(f"  - {{<<: *base, uniqueName: f{i}}}\n" for i in range(5000))
    write(
        schema_dir,
        "lead.yaml",
        "integrationId: 1\nobjectType: LEAD\nbase: &base {label: L, type: URL}\nfields:\n" + items,
    )
    (message,) = problems(schema_dir)  # only the helper key is wrong
    assert message.startswith("schema/lead.yaml:3: unknown key 'base'")


SURROGATE = "contains a lone surrogate ('\\ud800'), which is not a character; write the "
FIX = "character itself, or both halves of its \\u escape"


@pytest.mark.parametrize(
    ("field", "expected"),
    [
        (
            '"uniqueName": "a\\ud800", "label": "A", "type": "URL"',
            f"fields[0] ('a\\ud800'): uniqueName {SURROGATE}",
        ),
        (
            '"uniqueName": "a", "label": "\\ud800", "type": "URL"',
            f"fields[0] (a): label {SURROGATE}",
        ),
        (
            '"uniqueName": "a", "label": "A", "type": "PICKLIST", '
            '"orderedValueList": ["x", "\\ud800"]',
            f"fields[0] (a): orderedValueList[1] {SURROGATE}",
        ),
        (
            '"uniqueName": "a", "label": "A", "type": "URL", "\\ud800": 1',
            f"fields[0] (a): a key {SURROGATE}",
        ),
    ],
    ids=["uniqueName", "label", "value", "key"],
)
def test_a_lone_surrogate_is_refused_naming_the_line(schema_dir, field, expected):
    write(
        schema_dir,
        "lead.json",
        '{"integrationId": 1, "objectType": "LEAD", "fields": [\n  {' + field + "}]}",
    )
    messages = problems(schema_dir)
    assert f"schema/lead.json:2: {expected}{FIX}" in messages
    "\n".join(messages).encode("utf-8")  # printable: no surrogate reaches the terminal


def test_a_lone_surrogate_is_refused_by_the_pure_python_yaml_loader_too(schema_dir, monkeypatch):
    monkeypatch.delattr(yaml, "CSafeLoader", raising=False)
    write(schema_dir, "lead.yaml", HEAD + '  - {uniqueName: a, label: "\\ud800", type: URL}\n')
    assert problems(schema_dir) == [f"schema/lead.yaml:4: fields[0] (a): label {SURROGATE}{FIX}"]


def test_a_correct_surrogate_pair_escape_is_one_character(schema_dir):
    write(
        schema_dir,
        "lead.json",
        '{"integrationId": 1, "objectType": "LEAD", "fields": [\n'
        '  {"uniqueName": "a", "label": "\\ud83d\\ude00", "type": "URL"}]}',
    )
    assert config.load(schema_dir, {}).objects[0].fields[0].label == "\U0001f600"


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("2001-02-30", "invalid YAML: '2001-02-30' cannot be read as a date; put it in quotes"),
        ("!!int abc", "invalid YAML: 'abc' cannot be read as an integer; put it in quotes"),
        ("!!bool abc", "invalid YAML: 'abc' cannot be read as a boolean; put it in quotes"),
        ("!!timestamp x", "invalid YAML: 'x' cannot be read as a date; put it in quotes"),
        ("!!int", "invalid YAML: '' cannot be read as an integer; put it in quotes"),
        (
            "1" * 5000,
            f"invalid YAML: '{'1' * 60}…' cannot be read as an integer; put it in quotes",
        ),
    ],
    ids=["no such day", "!!int", "!!bool", "!!timestamp", "empty !!int", "5000 digits"],
)
def test_scalars_that_python_cannot_convert_are_yaml_errors(schema_dir, value, expected):
    write(schema_dir, "lead.yaml", f"{VALID}protect: {value}\n")
    assert problems(schema_dir) == [f"schema/lead.yaml:4: {expected}"]


def test_a_json_number_of_too_many_digits_is_a_json_error(schema_dir):
    write(
        schema_dir,
        "lead.json",
        '{"integrationId": 1, "objectType": "LEAD",\n"x": ' + "1" * 5000 + "}",
    )
    assert problems(schema_dir) == [
        "schema/lead.json:2: invalid JSON: a number has more than 4,300 digits; put it in quotes"
    ]


@pytest.mark.parametrize("suffix", ["yaml", "json"])
def test_deep_nesting_is_refused_without_a_traceback(schema_dir, suffix):
    deep = "[" * 500 + "]" * 500
    if suffix == "yaml":  # with a repeated key, which walks the whole tree
        text = f"{HEAD}  - {{uniqueName: a, label: A, type: URL, type: URL, x: {deep}}}\n"
    else:
        text = (
            '{"integrationId": 1, "objectType": "LEAD", "fields": [\n'
            f'  {{"uniqueName": "a", "label": {deep}, "type": "URL"}}]}}'
        )
    write(schema_dir, f"lead.{suffix}", text)
    messages = problems(schema_dir)
    assert any("nests more than 32 levels deep" in m for m in messages), messages


# --- many problems: listed up to a cap, and the work past it skipped -------------------------


def many_bad_fields(count: int) -> str:
    return HEAD + "".join(f"  - {{uniqueName: f{i}, lable: L, type: URL}}\n" for i in range(count))


def test_many_problems_are_listed_up_to_a_cap_with_a_count_of_the_rest(schema_dir):
    write(schema_dir, "lead.yaml", many_bad_fields(250))
    error = refused(schema_dir)
    lines = str(error).splitlines()
    assert lines[0] == "at least 250 problems in the schema files; the first 100:"
    assert lines[1] == (
        "  schema/lead.yaml:4: fields[0] (f0): unknown key 'lable'; did you mean 'label'?"
    )
    assert lines[100].startswith("  schema/lead.yaml:103: fields[99] (f99): ")
    assert lines[101:] == [
        "  ...and at least 150 more; fix these and validate again to see the rest."
    ]
    assert len(error.diagnostics) == 100


def test_fields_past_the_cap_are_not_explained_one_by_one(schema_dir, monkeypatch):
    explained = []

    class Counting:
        def __init__(self, validator):
            self.validator = validator

        def iter_errors(self, instance):
            explained.append(instance)
            return self.validator.iter_errors(instance)

    document, field = schema_check.validators()
    monkeypatch.setattr(schema_check, "validators", lambda: (Counting(document), Counting(field)))
    write(schema_dir, "lead.yaml", many_bad_fields(5000))
    assert "at least 4900 more" in str(refused(schema_dir))
    assert len(explained) == 100  # one per listed problem


def test_one_field_of_many_bad_values_is_refused_fast(schema_dir):
    # jsonschema checks uniqueItems of unsortable values pair by pair: 20,000 values of
    # mixed types took minutes; each is also a problem of its own.
    values = [v for i in range(10_000) for v in (i, {"a": i})]
    field = {"uniqueName": "a", "label": "A", "type": "PICKLIST", "orderedValueList": values}
    doc = {"integrationId": 1, "objectType": "LEAD", "fields": [field]}
    write(schema_dir, "lead.json", json.dumps(doc))
    started = time.process_time()
    lines = str(refused(schema_dir)).splitlines()
    assert time.process_time() - started < 2
    assert lines[0] == "at least 101 problems in the schema files; the first 100:"
    assert lines[1] == (
        "  schema/lead.json:1: fields[0] (a): orderedValueList[0] must be a string, not a "
        "number (0)"
    )
    assert lines[-1] == "  ...and at least 1 more; fix these and validate again to see the rest."


def test_yaml_lines_read_off_the_nodes_match_the_position_tree():
    from crmform.engine.config.parse import parse_yaml
    from crmform.engine.config.positions import line_of, yaml_line, yaml_tree

    text = (
        "integrationId: 1\nobjectType: LEAD\nbase: &b {label: B, type: URL}\nfields:\n"
        "  - {<<: *b, uniqueName: a}\n  - uniqueName: c\n    label: C\n    label: D\n"
        "    type: PICKLIST\n    orderedValueList:\n      - x\n      - y\n"
        + "".join(f"k{i}: {i}\n" for i in range(40))
    )
    _, _, root = parse_yaml(text)
    locs = [(), ("nope",), ("k39",), ("fields", 5), ("fields", 1, "label", 3)]
    locs += [("fields", i, k) for i in (0, 1) for k in ("uniqueName", "label", "type", "<<")]
    locs += [("fields", 1, "orderedValueList", i) for i in range(3)] + [("base", "label")]
    tree = yaml_tree(root)
    assert [yaml_line(root, loc, {}) for loc in locs] == [line_of(tree, loc) for loc in locs]


def test_problems_found_past_the_cap_are_counted_exactly(schema_dir):
    values = ", ".join(f"v{i}, v{i}" for i in range(150))
    item = f"{{uniqueName: t, label: T, type: PICKLIST, orderedValueList: [{values}]}}"
    write(schema_dir, "lead.yaml", f"{HEAD}  - {item}\n")
    lines = str(refused(schema_dir)).splitlines()
    assert lines[0] == "150 problems in the schema files; the first 100:"
    assert lines[-1] == "  ...and 50 more; fix these and validate again to see the rest."


# --- inputs that used to crash ----------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "integrationId: 1\nobjectType: [LEAD]\nfields: []\n",
            "schema/x.yaml:2: objectType: must be one of ACCOUNT, CONTACT, DEAL, LEAD, not a list",
        ),
        (
            "integrationId: 1\nobjectType: {a: 1}\nfields: []\n",
            "schema/x.yaml:2: objectType: must be one of ACCOUNT, CONTACT, DEAL, LEAD, not a "
            "mapping",
        ),
        (
            "provider: [gong]\nintegrationId: 1\nobjectType: LEAD\nfields: []\n",
            "schema/x.yaml:1: provider: a list is not supported; the only provider is 'gong'",
        ),
    ],
    ids=["objectType list", "objectType mapping", "provider list"],
)
def test_unhashable_values_are_plain_errors(schema_dir, text, expected):
    write(schema_dir, "x.yaml", text)
    assert problems(schema_dir) == [expected]


# --- file contents are quoted short, secrets not at all -----------------------------------


def test_a_stray_token_file_is_refused_without_printing_the_token(schema_dir):
    secret = "ghp_" + "s3cr3tT0k3n" * 4
    write(schema_dir, "token.yaml", secret + "\n")
    (message,) = problems(schema_dir)
    assert secret[:8] not in message
    assert message == (
        "schema/token.yaml:1: the top level must be a mapping with integrationId, objectType "
        "and fields, not a string"
    )


def test_a_file_that_is_not_a_schema_file_gets_one_short_problem(schema_dir):
    write(
        schema_dir,
        "docker-compose.yml",
        "services:\n  db:\n    image: postgres\n    environment:\n      PASSWORD: hunter2\n",
    )
    assert problems(schema_dir) == [
        "schema/docker-compose.yml:1: this is not a schema file: it has none of the keys "
        "integrationId, objectType and fields; move it out of the schema directory"
    ]


def test_a_symlink_to_a_system_file_is_not_dumped(schema_dir, tmp_path):
    system = tmp_path / "passwd"
    system.write_text("".join(f"user{i}:x:{i}:{i}::/home/u{i}:/bin/sh\n" for i in range(500)))
    (schema_dir / "passwd.yaml").symlink_to(system)
    message = str(refused(schema_dir))
    assert len(message) < 300, message
    assert "user1:" not in message


def test_a_ten_megabyte_file_gives_a_short_error(schema_dir):
    big = "x" * (10 * 1024 * 1024)
    write(schema_dir, "a.yaml", big + "\n")
    write(schema_dir, "b.yaml", f"integrationId: 1\nobjectType: {big}\nfields: []\n")
    write(schema_dir, "c.json", json.dumps({"integrationId": big, "objectType": "LEAD"}))
    started = time.process_time()
    message = str(refused(schema_dir))
    assert time.process_time() - started < 5
    assert len(message) < 1000, message[:2000]


def test_quoted_values_are_cut_to_sixty_characters(schema_dir):
    write(schema_dir, "lead.yaml", f"integrationId: 1\nobjectType: {'X' * 200}\nfields: []\n")
    assert problems(schema_dir) == [
        f"schema/lead.yaml:2: objectType: '{'X' * 60}…' is not one of ACCOUNT, CONTACT, DEAL, "
        "LEAD (case-sensitive)"
    ]


def test_a_quoted_label_is_cut_to_sixty_characters(schema_dir):
    label = "L" * 200
    write(schema_dir, "lead.yaml", f"{HEAD}  - {{uniqueName: a, label: '{label} ', type: URL}}\n")
    (message,) = problems(schema_dir)
    assert message == (
        f"schema/lead.yaml:4: fields[0] (a): label '{'L' * 60}…' starts or ends with blank "
        "space; remove it"
    )


def test_a_long_integration_id_string_is_not_quoted_at_all(schema_dir):
    # An id has at most 19 digits; anything much longer is more likely a pasted access key.
    key = "Z3JlYXRzZWNyZXQ6a2V5"
    write(schema_dir, "x.yaml", f"objectType: LEAD\nintegrationId: {key}\nfields: []\n")
    assert problems(schema_dir) == [
        "schema/x.yaml:2: integrationId: a string of 20 characters is neither a string of "
        'digits nor exactly "${NAME}" naming an environment variable'
    ]


def test_control_characters_in_a_name_are_escaped_in_the_path(schema_dir):
    write(
        schema_dir,
        "lead.yaml",
        f'{HEAD}  - {{uniqueName: "\\e[2Jx", label: A, type: URL, colour: red}}\n',
    )
    (message,) = problems(schema_dir)
    assert "\x1b" not in message
    assert message.startswith("schema/lead.yaml:4: fields[0] ('\\x1b[2Jx'): unknown key 'colour'")


# --- through the command line: what reaches the terminal ----------------------------------


@pytest.mark.parametrize("command", ["validate", "plan"])
def test_a_lone_surrogate_is_refused_by_validate_and_plan_not_crashed_on(cli, command):
    Path("schema").mkdir()
    Path("schema/lead.json").write_text(
        '{"integrationId": 1, "objectType": "LEAD", "fields": [\n'
        '  {"uniqueName": "a\\ud800", "label": "A", "type": "URL"}]}'
    )
    result = cli(command, "schema")
    assert result.code == 1
    assert "unexpected" not in result.stderr
    assert "schema/lead.json:2: fields[0] ('a\\ud800'): uniqueName contains a lone" in result.stderr


def test_validate_prints_no_secret_from_a_stray_file(cli):
    Path("schema").mkdir()
    secret = "xoxb-" + "9" * 12 + "-s3cr3tValue"
    Path("schema/token.yaml").write_text(secret + "\n")
    Path("schema/creds.json").write_text(json.dumps({"password": secret, "token": secret}))
    Path("schema/id.yaml").write_text(f"integrationId: {secret}\nobjectType: LEAD\nfields: []\n")
    result = cli("validate", "schema")
    assert result.code == 1
    assert "s3cr3t" not in result.stdout + result.stderr
    assert result.stderr.count("\n") == 4, result.stderr  # the head and three short problems


def test_files_without_anchors_or_escapes_skip_the_alias_and_surrogate_walks():
    import subprocess
    import sys

    quickstart = Path(__file__).resolve().parent.parent / "examples" / "quickstart"
    code = (
        "import sys\nfrom pathlib import Path\nimport crmform.engine.config.loader as c\n"
        f"c.load(Path({str(quickstart)!r}), {{}})\n"
        "walks = ('crmform.engine.config.aliases', 'crmform.engine.config.walks')\n"
        "print(sorted(m for m in sys.modules if m in walks))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == "[]"

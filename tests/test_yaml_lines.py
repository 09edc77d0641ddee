"""The line reader (engine/config/yaml_lines.py, issue 14) builds exactly what PyYAML builds,
or declines.

For generated texts in and around its subset (block mappings and sequences at assorted
indentations, awkward YAML 1.1 plain scalars, both quoting styles with escapes, flow lists
with odd items, comments, and near misses made by mutating such texts: tabs, odd indents,
markers, anchors, tags, block scalars, continuation lines, repeated keys, CR, BOM, stray
indicators), `load` returns None or exactly what yaml.load(text, CSafeLoader) returns, types
included; it never accepts a text PyYAML refuses. What schema files are (the benchmark's
generated files, examples/, `crmform import --write-config` and `crmform fmt` output) it
accepts.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from test_yaml_events import AWKWARD, REFUSED, outcome, same

from crmform.engine.config.parse import _parse_yaml_nodes, parse_yaml
from crmform.engine.config.yaml_events import Composed, fast_load
from crmform.engine.config.yaml_lines import load
from crmform.engine.model import Field, FieldType, ObjectKey, ObjectSchema, ObjectType

pytestmark = pytest.mark.skipif(not yaml.__with_libyaml__, reason="compared with libyaml")

ROOT = Path(__file__).resolve().parent.parent


def pyyaml(text: str) -> Any:
    try:
        return yaml.load(text, Loader=yaml.CSafeLoader)
    except (yaml.YAMLError, ValueError, RecursionError):
        return REFUSED


def check(text: str) -> Any:
    """`load`'s answer, after asserting that it is None or PyYAML's own document (and the
    integer texts yaml_events.py would note)."""
    mine = load(text)
    if mine is None:
        return None
    expected = pyyaml(text)
    assert expected is not REFUSED, text
    doc, repeated, int_texts = mine
    assert same(doc, expected), (text, doc, expected)
    assert repeated is False
    events = fast_load(text)
    assert events is not None, text
    assert int_texts == events[2], text
    return mine


# Plain scalars that are near YAML's edges: indicators inside and first, `#` and `:`, spaces.
EDGY = [
    *("a#b", "a #b", "a:b", "a: b", "a:", ":a", "?a", "? a", "-a", "- a", "-", "--", "---"),
    *("...", "a ...", "%a", "@a", "`a", "&a", "*a", "!a", "|a", ">a", "a|", "a>", "a&b *c"),
    *("a,b", "a, b", ",a", "a]", "a[b", "[a", "]a", "a{b}", "{a", "}a", "a'b", 'a"b', "'a"),
    *('"a', "a\\b", "a\\n", "a  b", " a", "a ", "\xa0a", "a\xa0", "a\u200db", "é", "😀"),
    *("Trade Show", "Not Started", "In Progress", "North America", "Mid-Market", "x-y"),
    *("http://x.y/z?q=1#f", "12:30:00", "1:2", "0.", "._", "-.5", "+", "+1", "~a", "=a"),
    *("a\tb", "a\x07b", "a\x85b", "a\u2028b", "a\ufeffb", "a\rb", "\x7f"),
]
WORDS = ["Gold", "Trade Show", "In Progress", "account_Phone_00006__c", "STRING", "x"]
# Mostly what schema files hold, so that many texts are taken and compared.
SCALARS = st.one_of(st.sampled_from(WORDS), st.sampled_from(AWKWARD), st.sampled_from(WORDS + EDGY))
GOOD_KEYS = ["uniqueName", "label", "type", "fields", "orderedValueList", "protect", "a", "b"]
ODD_KEYS = [
    *("$schema", "x-y", "a.b", "Ärger", "a b", "_", "-a", "c", "d", "referenceTo"),
    *("yes", "on", "null", "~", "1", "1.5", "<<", "=", "a#b", "a:b", "y", "2001-12-14"),
]
KEYS = st.one_of(st.sampled_from(GOOD_KEYS), st.sampled_from(GOOD_KEYS + ODD_KEYS))


def _double(value: str, ascii_only: bool) -> str:
    if not ascii_only:
        return json.dumps(value, ensure_ascii=False)
    # \uXXXX escapes; libyaml refuses JSON's surrogate pairs, which \U would write.
    if any(ord(c) > 0xFFFF for c in value):
        return json.dumps(value, ensure_ascii=False)
    return json.dumps(value)


@st.composite
def scalar_text(draw: st.DrawFn, flow: bool = False) -> str:
    value = draw(SCALARS)
    style = draw(st.integers(0, 12))
    if style <= 7:
        return value
    if style <= 9:
        return _double(value, draw(st.booleans()))
    if style <= 11:
        return "'" + value.replace("'", "''") + "'"
    # Escapes beyond the reader's few, and odd quoting.
    return draw(
        st.sampled_from(
            [
                '"\\x41\\u00e9\\/"',
                '"\\a\\e\\N\\_\\L\\P\\ "',
                '"\\U0001F600"',
                '"\\ud83d"',
                '"a\\\\"',
                '"\\"',
                "'a''b'",
                "'a'b'",
                '"a" b',
                "''",
                '""',
                '"#"',
                "'# x'",
            ]
        )
    )


# A document as a tree: ("map", [(key, node)]), ("seq", [node]), ("scalar", text),
# ("flow", [text]).
LEAVES = st.one_of(
    scalar_text().map(lambda s: ("scalar", s)),
    st.lists(scalar_text(flow=True), max_size=4).map(lambda items: ("flow", items)),
)
TREES = st.recursive(
    LEAVES,
    lambda inner: st.one_of(
        st.lists(st.tuples(KEYS, inner), min_size=1, max_size=4, unique_by=lambda p: p[0]).map(
            lambda p: ("map", p)
        ),
        st.lists(inner, min_size=1, max_size=4).map(lambda items: ("seq", items)),
    ),
    max_leaves=14,
)
COMMENTS = st.sampled_from(["", "", "", " # c", "  #c", " #", "#c", " # a: b", " # [x"])


@st.composite
def flow_text(draw: st.DrawFn, items: list[str]) -> str:
    separators = st.sampled_from([", ", ", ", ",", " , ", ",  "])
    inner = ""
    for i, item in enumerate(items):
        inner += (draw(separators) if i else "") + item
    if draw(st.integers(0, 12)) == 0:
        inner += draw(st.sampled_from([",", ", ", ",,", ", []", ", {}", ", [a]"]))
    pad = draw(st.sampled_from(["", "", " "]))
    return "[" + pad + inner + pad + "]"


@st.composite
def block(draw: st.DrawFn, tree: Any, indent: int) -> list[str]:
    """The lines of `tree` as a block collection at column `indent` (a scalar: one line's
    value, returned as a one-item list without indentation)."""
    kind, body = tree
    if kind == "scalar":
        return [body]
    if kind == "flow":
        return [draw(flow_text(body))]
    pad = " " * indent
    lines: list[str] = []
    for entry in body:
        key, value = entry if kind == "map" else (None, entry)
        head = pad + ("- " if key is None else key + ":")
        if value[0] in ("scalar", "flow"):
            text = draw(block(value, 0))[0]
            sep = draw(st.sampled_from([" ", " ", "  "]))
            lines.append(head.rstrip() + sep + text + draw(COMMENTS))
            continue
        step = draw(st.sampled_from([2, 2, 2, 4, 1, 3]))
        if key is None and value[0] == "map" and draw(st.booleans()):
            # Compact: `- key: value` then the others at the key's column.
            inner = draw(block(value, indent + 2))
            lines.append(pad + "- " + inner[0][indent + 2 :])
            lines.extend(inner[1:])
            continue
        # A sequence under a key may sit at the key's own column.
        child = indent if key is not None and value[0] == "seq" and step == 1 else indent + step
        lines.append(head.rstrip() + draw(COMMENTS))
        lines.extend(draw(block(value, child)))
    return lines


MUTATIONS = [
    "\t",
    " ",
    "  ",
    "\r",
    "\r\n",
    "\ufeff",
    "#",
    " #",
    ":",
    ": ",
    "- ",
    "-",
    "---\n",
    "...\n",
    "&a ",
    "*a",
    "!!str ",
    "? ",
    "|\n",
    ">-\n",
    "{",
    "}",
    "[",
    "]",
    ",",
    "'",
    '"',
    "\\",
    "%YAML 1.1\n",
    "\n",
    "\xa0",
    "\x85",
    "\u2028",
]


@st.composite
def documents(draw: st.DrawFn) -> str:
    tree = draw(TREES)
    if tree[0] in ("scalar", "flow"):
        tree = ("map", [("a", tree)])
    lines = draw(block(tree, draw(st.sampled_from([0, 0, 0, 1, 2]))))
    # Comment and blank lines anywhere, at any column.
    for _ in range(draw(st.integers(0, 2))):
        spot = draw(st.integers(0, len(lines)))
        lines.insert(spot, draw(st.sampled_from(["", "  ", "# note", "    # note", " #"])))
    text = "\n".join(lines) + draw(st.sampled_from(["\n", "\n", "", "\n\n", "\n# end\n"]))
    # Near misses: a few edits anywhere (repeating a line repeats its key).
    for _ in range(draw(st.sampled_from([0, 0, 0, 1, 1, 2, 3]))):
        how = draw(st.integers(0, 3))
        at = draw(st.integers(0, len(text)))
        if how == 0:
            text = text[:at] + draw(st.sampled_from(MUTATIONS)) + text[at:]
        elif how == 1:
            text = text[:at] + text[at + 1 :]
        else:
            all_lines = text.split("\n")
            i = draw(st.integers(0, len(all_lines) - 1))
            if how == 2:
                all_lines.insert(i, all_lines[i])
            else:
                all_lines[i] = " " * draw(st.integers(0, 3)) + all_lines[i].lstrip(" ")
            text = "\n".join(all_lines)
    return text


@settings(max_examples=1000, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(documents())
@example("a: 1\nb:\n- x\n- y\nc: [p, q]\n")
@example("a:\n  - b: 1\n    c: 'x'\n  -\n  - - d\n")
@example("a: x\n  # deeper comment\nb: y\n")
def test_the_line_reader_builds_what_pyyaml_builds_or_declines(text):
    check(text)


# (text, whether the reader must take it)
CASES = [
    ("", True),
    ("# only a comment\n", True),
    ("a: 1\r\nb: [x, y]\r\n", True),  # CRLF reads as LF
    ("a: 1\rb: 2\n", False),  # a lone CR breaks a line in YAML
    ("\ufeffa: 1\n", False),
    ("a:\tb\n", False),
    ("a: b\t\n", False),
    ("a: &x 1\nb: *x\n", False),
    ("a: !!str 1\n", False),
    ("? a\n: 1\n", False),
    ("a: |\n  text\n", False),
    ("a: >\n  text\n", False),
    ("a: {b: 1}\n", False),
    ("a: [b, [c]]\n", False),
    ("a: [b,\n  c]\n", False),
    ("a: multi\n  line\n", False),
    ("a: 'multi\n  line'\n", False),
    ("a: 1\na: 2\n", False),  # repeated: yaml_events.py notes it
    ("---\na: 1\n", False),
    ("a: 1\n...\n", False),
    ("%YAML 1.1\n---\na: 1\n", False),
    ("a: b: c\n", False),
    ("a: b:\n", False),
    ("yes: 1\n", False),  # a key YAML reads as a boolean
    ("1: one\n", False),
    ("a:\n  b: 1\n c: 2\n", False),
    ("a:\n    b: 1\n  c: 2\n", False),
    ("- a\nb: 1\n", False),
    ("a: 1\n- b\n", False),
    ("a: 2001-02-30\n", False),  # PyYAML cannot make the date
    ("a: =\n", False),
    ("just a scalar\n", False),
    ("a: " + "b" * 5000 + "\n", True),
    ("k" * 1100 + ": 1\n", False),
    ("a: x#y\nb: x # y\nc: 'x # y'\nd: \"x\\ty\\u00e9\"\n", True),
    ('a: [ Gold , \'Sil, ver\', "Br\\"onze", yes, 1, ~ ]\n', True),
    ("a: []\nb: [ ]\nc:\nd: ~\n", True),
    ("a:\n- x\n-\n- - y\n", False),  # `- - y`: a compact nested sequence
    ("a:#c\n", False),  # `a:#c` is a plain scalar, not a key
    ("a : 1\n", False),
    ("a: b   \nc:   \n   \nd: [x, x ,x]  # c\n", True),  # trailing and blank spaces
    ("a: \xa0b\nc: d\xa0\n", True),  # no-break spaces are no YAML whitespace
    ("a:\n  -\n    - y\n", True),
]


@pytest.mark.parametrize(("text", "taken"), CASES)
def test_what_the_line_reader_takes_and_what_it_leaves(text, taken):
    assert (check(text) is not None) == taken, text
    # Taken or not, parse_yaml reads it (or words its problem) as PyYAML's route does.
    mine, theirs = outcome(parse_yaml, text), outcome(_parse_yaml_nodes, text)
    if mine[0] == "refused" or theirs[0] == "refused":
        assert mine == theirs
    else:
        assert same(mine[0], theirs[0])
        assert mine[1] == theirs[1]


def test_integers_at_the_top_keep_their_text():
    mine = check("integrationId: 0x1F\nother: 1_000\nnested:\n  n: 5\nq: '7'\nb: yes\n")
    assert mine is not None
    assert mine[2] == {"integrationId": "0x1F", "other": "1_000"}


def test_the_benchmarks_files_are_taken(tmp_path):
    from test_benchmark_smoke import generate

    schema_set = generate.build(400)
    generate.write_schema_dir(schema_set.desired, tmp_path / "after", "yaml")
    generate.write_schema_dir(generate.before_objects(schema_set), tmp_path / "before", "yaml")
    paths = sorted(tmp_path.glob("*/*.yaml"))
    assert len(paths) == 8
    for path in paths:
        assert check(path.read_text(encoding="utf-8")) is not None, path


def test_the_examples_are_taken():
    paths = sorted((ROOT / "examples").rglob("*.yaml"))
    assert paths
    for path in paths:
        text = path.read_text(encoding="utf-8")
        if "fields" in text:  # the schema files; CI examples are other YAML
            assert check(text) is not None, path


def test_what_crmform_writes_is_taken():
    from crmform.engine.config.fmt import format_text
    from crmform.engine.config.writer import object_yaml

    key = ObjectKey("gong", 2**60, ObjectType.ACCOUNT)
    fields = (
        Field("a", "yes", FieldType.PICKLIST, ordered_value_list=("On", "1.0", 'say "hi"')),
        Field("b", "12:30 # not a comment", FieldType.REFERENCE, reference_to="USER"),
        Field("c", "tab\there, é 😀 \x07", FieldType.PICKLIST, protect=True),
        Field("d", "D", FieldType.REFERENCE),
    )
    written = object_yaml(ObjectSchema(key, fields))
    assert check(written) is not None, written
    for path in sorted((ROOT / "examples" / "quickstart").glob("*.yaml")):
        formatted = format_text(path.read_text(encoding="utf-8"), is_json=False)
        assert check(formatted) is not None, formatted


def test_parse_yaml_reads_through_the_line_reader(monkeypatch):
    import crmform.engine.config.parse as parse
    import crmform.engine.config.yaml_events as events

    def refuse(text: str) -> Any:
        raise AssertionError("took the event route")

    monkeypatch.setattr(events, "fast_load", refuse)
    monkeypatch.setattr(parse, "_events_left", 0)  # past the first texts of a run
    doc, repeated, root = parse_yaml("integrationId: 12\nfields:\n  - uniqueName: a\n")
    assert doc == {"integrationId": 12, "fields": [{"uniqueName": "a"}]}
    assert repeated is False
    assert isinstance(root, Composed)
    assert root.int_texts == {"integrationId": "12"}


def test_the_first_small_texts_of_a_run_take_the_event_route(monkeypatch):
    # Compiling the line reader's pattern costs more than the event route's extra work on
    # small texts: until _EVENTS_FIRST characters were read that way, it is not used.
    import crmform.engine.config.parse as parse
    import crmform.engine.config.yaml_lines as lines

    def refuse(text: str) -> Any:
        raise AssertionError("took the line route")

    monkeypatch.setattr(lines, "load", refuse)
    monkeypatch.setattr(parse, "_events_left", parse._EVENTS_FIRST)
    text = "integrationId: 12\nfields:\n  - uniqueName: a\n"
    doc, _, root = parse_yaml(text)
    assert doc == {"integrationId": 12, "fields": [{"uniqueName": "a"}]}
    assert isinstance(root, Composed)
    assert parse._events_left == parse._EVENTS_FIRST - len(text)
    # A text longer than what is left takes the line reader (which declines here).
    long_text = "a: " + "b" * parse._EVENTS_FIRST + "\n"
    with pytest.raises(AssertionError, match="took the line route"):
        parse_yaml(long_text)

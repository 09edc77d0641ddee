"""The YAML fast path (engine/config/yaml_events.py, issue 14) builds exactly what PyYAML
builds, or steps aside.

For generated documents (awkward YAML 1.1 scalars, every quoting style, multi-line scalars,
block and flow collections, repeated keys, and the features left to PyYAML: anchors,
aliases, tags, merge keys), the fast path's document equals yaml.load(text, CSafeLoader)
exactly (types included) or it returns None; and parse_yaml as a whole (document, repeated
keys, errors, integrationId's spelling, line numbers) gives what PyYAML's route gives.
"""

from __future__ import annotations

import datetime
import json
import math
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from crmform.engine.config import loader as config
from crmform.engine.config.parse import ParseError, _parse_yaml_nodes, int_text, parse_yaml
from crmform.engine.config.positions import yaml_line, yaml_tree
from crmform.engine.config.yaml_events import Composed, fast_load
from crmform.engine.errors import ConfigError

pytestmark = pytest.mark.skipif(not yaml.__with_libyaml__, reason="the fast path needs libyaml")

EXAMPLES = Path(__file__).resolve().parent.parent / "examples" / "quickstart"
REFUSED = object()

# Plain scalars YAML 1.1 reads as other than strings, or nearly does.
AWKWARD = [
    *("yes", "no", "on", "off", "y", "n", "Y", "True", "FALSE", "tRUE", "Off"),
    *("0x1F", "0o17", "017", "09", "0b101", "1_000", "1:30", "+5", "-0", "0", "1" * 40),
    *(".inf", "-.inf", "+.INF", ".nan", ".NaN", "1e3", "1.5", "6.02e+23", "1_0.5", "-1.5e-3"),
    *("~", "null", "Null", "NULL", "", "2001-12-14", "2001-12-14t21:59:43.10-05:00"),
    *("2001-12-14 21:59:43.10 -5", "2001-02-30", "1" * 5000, "=", "<<"),
    *("STRING", "PICKLIST", "Outbound", "x", "a b", "é", "😀", "nul", "yes!", "0x", "1.2.3"),
]
WORDS = ["Gold", "Silver", "lead", "Trade Show", "é", "😀", "yes", "1", "x#y", "a'b", 'a"b']
STRING_KEYS = ["uniqueName", "label", "type", "fields", "integrationId", "a", "b", "Ärger"]
KEYS = [*STRING_KEYS * 3, "yes", "1", "null", "~", "=", "1.5", "2001-12-14"]  # and others


def key_texts(key: str) -> st.SearchStrategy[str]:
    quoted = "'" + key.replace("'", "''") + "'"
    return st.sampled_from([key, key, json.dumps(key, ensure_ascii=False), quoted])


def scalar_texts(value: str, indent: int, flow: bool) -> st.SearchStrategy[str]:
    """`value` written in each style YAML allows where it goes (some make invalid YAML)."""
    styles = [
        st.just(value),
        st.just(json.dumps(value, ensure_ascii=False)),
        # Escapes (\u00e9); libyaml refuses JSON's surrogate pairs.
        st.just(json.dumps(value) if value.isascii() or max(value) < "\ud800" else value),
        st.just("'" + value.replace("'", "''") + "'"),
    ]
    words = value.split(" ")
    pad = "\n" + " " * (indent + 2)
    if len(words) > 1:  # multi-line: folded where a line breaks
        styles += [st.just(pad.join(words)), st.just('"' + pad.join(words) + '"')]
    if not flow:
        styles += [
            st.sampled_from(["|", "|-", "|+", ">", ">-"]).map(
                lambda head: head + pad + pad.join(words) + "\n"
            )
        ]
    return st.one_of(styles)


# A document as a tree: ("map", [(key, node)]), ("seq", [node]), ("scalar", text).
LEAVES = st.one_of(st.sampled_from(AWKWARD), st.sampled_from(WORDS))
TREES = st.recursive(
    LEAVES.map(lambda s: ("scalar", s)),
    lambda inner: st.one_of(
        st.lists(st.tuples(st.sampled_from(KEYS), inner), max_size=5).map(lambda p: ("map", p)),
        st.lists(inner, max_size=5).map(lambda items: ("seq", items)),
    ),
    max_leaves=25,
)


@st.composite
def render(draw: st.DrawFn, tree: Any, indent: int = 0, flow: bool = False) -> str:
    """YAML text of `tree`: block (at `indent`) or flow, with anchors, aliases, tags and
    merge keys now and then."""
    kind, body = tree
    prefix = ""
    if draw(st.integers(0, 60)) == 60:  # most documents use none of these
        prefix = draw(st.sampled_from(["&a ", "!!str ", "!!int ", "!x "]))
    if kind == "scalar":
        if prefix == "" and draw(st.integers(0, 80)) == 80:
            return "*a"
        text = draw(scalar_texts(body, indent, flow))
        return prefix + text if not text.startswith(("|", ">")) else text
    prefix = prefix if prefix in ("", "&a ") else ""
    if flow or not body or draw(st.booleans()):
        if kind == "seq":
            parts = [draw(render(item, indent, True)) for item in body]
            return prefix + "[" + ", ".join(parts) + "]"
        parts = [f"{draw(key_texts(key))}: {draw(render(v, indent, True))}" for key, v in body]
        if draw(st.integers(0, 40)) == 40:
            parts.insert(0, "<<: {b: 1}")
        return prefix + "{" + ", ".join(parts) + "}"
    pad = " " * indent
    lines = []
    if kind == "seq":
        for item in body:
            text = draw(render(item, indent + 2))
            if text.startswith(" "):  # a block collection, compact: `- key: value`
                lines.append(pad + "- " + text[indent + 2 :])
            else:
                lines.append(pad + "- " + text.strip("\n"))
    else:
        for key, value in body:
            head = pad + draw(key_texts(key)) + ":"
            text = draw(render(value, indent + 2))
            lines.append(head + ("\n" + text if text.startswith(" ") else " " + text.strip("\n")))
    return (prefix.strip() + "\n" if prefix else "") + "\n".join(lines) + "\n"


DOCUMENTS = TREES.flatmap(lambda tree: render(tree))


def same(a: Any, b: Any) -> bool:
    """Equal, and of the same types all the way down (True is not 1, 1.0 is not 1), with
    keys in the same order; NaN equals NaN."""
    if type(a) is not type(b):
        return False
    if isinstance(a, dict):
        return list(a) == list(b) and all(same(a[k], b[k]) for k in a)
    if isinstance(a, list):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, float) and math.isnan(a):
        return math.isnan(b)
    return bool(a == b)


def pyyaml(text: str) -> Any:
    try:
        return yaml.load(text, Loader=yaml.CSafeLoader)
    except (yaml.YAMLError, ValueError, IndexError, RecursionError):  # IndexError: an empty !!int
        return REFUSED


def outcome(parse: Any, text: str) -> tuple[Any, ...]:
    try:
        doc, repeated, root = parse(text)
    except ParseError as exc:
        return ("refused", exc.line, exc.message, exc.column)
    return doc, repeated, root


def locations(doc: Any, limit: int = 40) -> list[tuple[Any, ...]]:
    """Paths into `doc`, and a few that lead nowhere."""
    found: list[tuple[Any, ...]] = [(), ("nope",), (0,)]
    todo: list[tuple[tuple[Any, ...], Any]] = [((), doc)]
    while todo and len(found) < limit:
        loc, value = todo.pop()
        steps: list[Any] = []
        if isinstance(value, (dict, list)):
            steps = list(value) if isinstance(value, dict) else list(range(len(value)))
        for step in steps:
            found.append((*loc, step))
            todo.append(((*loc, step), value[step]))
    return found


@settings(max_examples=500, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(DOCUMENTS)
def test_the_fast_path_builds_what_pyyaml_builds_or_steps_aside(text):
    fast = fast_load(text)
    expected = pyyaml(text)
    if fast is not None:
        assert expected is not REFUSED, text
        assert same(fast[0], expected), text
    mine, theirs = outcome(parse_yaml, text), outcome(_parse_yaml_nodes, text)
    if mine[0] == "refused" or theirs[0] == "refused":
        assert mine == theirs, text
        return
    (doc, repeated, root), (old_doc, old_repeated, old_root) = mine, theirs
    assert same(doc, old_doc), text
    assert repeated == old_repeated, text
    assert isinstance(root, Composed) == (fast is not None)
    for key in {*KEYS, *(old_doc if isinstance(old_doc, dict) else ())}:
        if isinstance(key, str):
            assert int_text(root, key) == int_text(old_root, key), (key, text)
    locs = locations(old_doc)
    assert [yaml_line(root, loc, {}) for loc in locs] == [
        yaml_line(old_root, loc, {}) for loc in locs
    ], text
    assert yaml_tree(root) == yaml_tree(old_root), text


@pytest.mark.parametrize("value", AWKWARD)
@pytest.mark.parametrize("quote", ["", "'", '"'])
def test_each_awkward_scalar_loads_as_pyyaml_loads_it(value, quote):
    text = f"integrationId: {quote}{value}{quote}\nlist: [{quote}{value}{quote}]\n"
    expected = pyyaml(text)
    fast = fast_load(text)
    # A date that does not exist, 5,000 digits, and two tags without a constructor.
    left = not quote and value in ("2001-02-30", "1" * 5000, "=", "<<")
    assert (fast is None) == left
    if left:
        assert expected is REFUSED
        return
    assert fast is not None
    assert same(fast[0], expected)
    plain_int = type(expected["integrationId"]) is int
    assert int_text(parse_yaml(text)[2], "integrationId") == (value if plain_int else None)


def test_what_schema_files_use_takes_the_fast_path():
    texts = [path.read_text(encoding="utf-8") for path in sorted(EXAMPLES.glob("*.yaml"))]
    texts.append(
        "provider: gong\nintegrationId: 0x1F\nobjectType: LEAD\nfields:\n"
        "  - uniqueName: a\n    label: 'A: quoted'\n    type: PICKLIST\n"
        '    orderedValueList: [Gold, "Silver", yes, 1, ~]\n    protect: true\n'
        "  - uniqueName: b\n    label: |\n      two\n      lines\n    type: STRING\n"
        '  - {uniqueName: c, label: "C \\u00e9\n      folded", type: URL}\n'
    )
    assert texts[:-1]
    for text in texts:
        fast = fast_load(text)
        assert fast is not None, text
        assert same(fast[0], yaml.load(text, Loader=yaml.CSafeLoader))
    assert fast is not None
    assert fast[2] == {"integrationId": "0x1F"}


@pytest.mark.parametrize(
    "text",
    [
        "a: &x 1\nb: *x\n",  # anchors and aliases: bounded by aliases.py
        "a: !!str 1\n",  # an explicit tag
        "base: {x: 1}\nfield:\n  <<: {x: 2}\n  y: 3\n",  # a merge key
        "'<<': 1\n",  # a key written like one
        "? [a]\n: 1\n",  # a key that is a sequence
        "1: one\n",  # a key YAML reads as an integer
        "a: 1\n---\nb: 2\n",  # a second document
        "a: " + "[" * 40 + "]" * 40 + "\n",  # deeper than any schema file
        "a: [1\n",  # not YAML
        "a: 2001-02-30\n",  # a date PyYAML cannot make
        "a: =\n",  # a value PyYAML has no constructor for
    ],
)
def test_what_the_fast_path_leaves_to_pyyaml(text):
    assert fast_load(text) is None
    assert not isinstance(outcome(parse_yaml, text)[-1], Composed)


def test_the_nodes_are_composed_only_when_a_line_is_asked_for():
    composed: list[str] = []

    def compose(text: str) -> Any:
        composed.append(text)
        return yaml.compose(text, Loader=yaml.CSafeLoader)

    fast = fast_load("a: 1\nb:\n  - c\n")
    assert fast is not None
    root = Composed("a: 1\nb:\n  - c\n", compose, fast[2])
    assert composed == []
    assert yaml_line(root, ("b", 0), {}) == 3
    assert yaml_line(root, ("a",), {}) == 1
    assert len(composed) == 1


def test_a_valid_yaml_file_loads_without_composing_nodes(tmp_path, monkeypatch):
    import crmform.engine.config.parse as parse

    def refuse(text: str) -> Any:
        raise AssertionError("composed the nodes of a valid file")

    monkeypatch.setattr(parse, "_compose", refuse)
    (tmp_path / "lead.yaml").write_text(
        "integrationId: 1\nobjectType: LEAD\nfields:\n  - {uniqueName: a, label: A, type: URL}\n",
        encoding="utf-8",
    )
    desired = config.load(tmp_path, {})
    assert [f.unique_name for f in desired.objects[0].fields] == ["a"]


def test_problems_in_a_fast_path_file_name_their_lines(tmp_path):
    (tmp_path / "lead.yaml").write_text(
        "integrationId: 0x1F\nobjectType: LEAD\nfields:\n"
        "  - {uniqueName: a, label: A, type: URL}\n"
        "  - uniqueName: a\n    label: B\n    label: C\n    type: NOPE\n",
        encoding="utf-8",
    )
    assert fast_load((tmp_path / "lead.yaml").read_text(encoding="utf-8")) is not None
    with pytest.raises(ConfigError) as caught:
        config.load(tmp_path, {})
    lines = {(d.line, d.message.split(";")[0][:40]) for d in caught.value.diagnostics}
    where = {line for line, _ in lines}
    assert {1, 5, 7, 8} <= where, lines


def test_dates_and_numbers_are_pyyamls_own():
    fast = fast_load("a: 2001-12-14\nb: 1.5\nc: .inf\nd: 1:30\n")
    assert fast is not None
    assert fast[0] == {"a": datetime.date(2001, 12, 14), "b": 1.5, "c": math.inf, "d": 90}

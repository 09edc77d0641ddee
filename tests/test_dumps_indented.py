"""codec.dumps_indented is json.dumps(indent=2), byte for byte, for every JSON document."""

from __future__ import annotations

import json
from pathlib import Path

from hypothesis import given
from hypothesis import strategies as st

from crmform.engine.formats.codec import dumps_indented

GOLDEN = Path(__file__).resolve().parent / "golden"

scalars = st.none() | st.booleans() | st.integers() | st.floats() | st.text()
documents = st.recursive(
    scalars,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4),
    max_leaves=30,
)


@given(documents)
def test_any_document_encodes_exactly_as_json_dumps_indent_2(doc: object):
    assert dumps_indented(doc) == json.dumps(doc, indent=2)


def test_a_string_equal_to_the_placeholder_still_encodes_exactly():
    doc = {"a": "\x00", "b": [1, {"c": "\x00"}], "d": ["\x00", [2]]}
    assert dumps_indented(doc) == json.dumps(doc, indent=2)


def test_the_golden_plans_encode_exactly():
    for path in sorted(GOLDEN.glob("*.json")):
        text = path.read_text(encoding="utf-8")
        assert dumps_indented(json.loads(text)) + "\n" == text, path.name

"""Read the desired-state files of one directory into a Desired, or fail with every problem.

Per file: read (bounded) -> parse (YAML or JSON; aliases bounded) -> validate against
schema.json -> resolve integrationId -> check uniqueNames; then across files: one file per
object type. Problems are collected, never raised one at a time, and get line numbers only
when there are some; past the first 100 (errors.PROBLEMS_SHOWN) they are counted, not
described, so that a bad file is refused as fast as a good one is read.

Start-up time is a product requirement: jsonschema and yaml are imported only when used,
and a valid document never reaches jsonschema at all: its Fields are built while it is
checked, in one pass (schema_check.checked_fields), and a JSON one is parsed by json.loads
without a Python hook (_parse_json). Only a file that pass doubts takes the slow path
(quick_check, jsonschema, _repeated_names), which words every problem as before.

Helpers, each in its own module: files (discovery, bounded reads), parse (text to
document), aliases (their expansion, bounded), schema_check (the quick check, jsonschema),
ids (integrationId), walks (repeated keys, surrogates), messages (problems in
words, quoting), positions (line numbers).
"""

from __future__ import annotations

import codecs
from collections.abc import Collection, Iterable, Iterator, Mapping
from pathlib import Path
from typing import Any

from crmform.engine.config import schema_check
from crmform.engine.config.files import (
    STATE_FILE_PATTERN,
    SUFFIXES,
    discover,
    read_bytes,
    too_many_values,
)
from crmform.engine.config.ids import integration_id, yaml_spelling
from crmform.engine.config.jsonschema_file import json_schema_message
from crmform.engine.config.keys import FIELD_KEYS, TOP_KEYS, schema_text
from crmform.engine.config.messages import (
    Problem,
    describe,
    display_path,
    quote,
    unrelated,
)
from crmform.engine.config.parse import ParseError, int_text, parse_json, parse_yaml
from crmform.engine.config.positions import Loc, Pos, line_of, yaml_line, yaml_tree

# Kept under its private name here: tests replace config._json_tree to make positions fail.
from crmform.engine.config.positions import json_tree as _json_tree
from crmform.engine.errors import PROBLEMS_SHOWN, ConfigError, Diagnostic
from crmform.engine.model import (
    DEFAULT_PROVIDER,
    INTEGRATION_ID_MAX,
    Desired,
    Field,
    FieldType,
    ObjectKey,
    ObjectSchema,
)

__all__ = [
    "FIELD_KEYS",
    "INTEGRATION_ID_MAX",
    "MAX_FILE_BYTES",
    "MAX_FILE_VALUES",
    "STATE_FILE_PATTERN",
    "SUFFIXES",
    "TOP_KEYS",
    "load",
    "schema_text",
    "warnings",
]

# Per file, documented in the README: far above any real object (each allows ~80,000
# fields), and low enough that the largest file allowed parses within ~0.5 GB and seconds.
MAX_FILE_BYTES = 16 * 1024 * 1024
MAX_FILE_VALUES = 1_000_000

_MESSAGE_LIMIT = 400  # a backstop: every quote in a message is already cut short


def load(directory: Path, env: Mapping[str, str], exclude: Collection[Path] = ()) -> Desired:
    """Every schema file directly in `directory`, validated, as one Desired.

    Raises ConfigError carrying every problem of every file, sorted by file and line.
    """
    diagnostics: list[Diagnostic] = []
    unlisted, exact = 0, True
    objects: list[ObjectSchema] = []
    first_file: dict[ObjectKey, str] = {}
    for path in discover(directory, exclude):
        source = _Source.read(path, str(directory / path.name))
        if isinstance(source, Diagnostic):
            diagnostics.append(source)
            continue
        # Files are read in the order their problems are listed in: past the cap, problems
        # are only counted, and the work of describing them (jsonschema, lines) is skipped.
        budget = max(PROBLEMS_SHOWN - len(diagnostics), 0)
        doc, problems, unexplained, key, fields = _check(source, env, budget)
        if key is not None and key in first_file:
            message = (
                f"{key.address} is also declared in {first_file[key]}; declare each object "
                "type of an integration in one file only"
            )
            problems.append(Problem(("objectType",), ("objectType",), message))
        elif key is not None:
            first_file[key] = source.display
        if problems or unexplained:
            shown, more = _first(problems, budget)
            diagnostics.extend(source.diagnostics(doc, shown))
            unlisted += more + unexplained
            exact = exact and not unexplained
        elif key is not None:
            built = fields if fields is not None else _fields(doc["fields"])
            objects.append(ObjectSchema(key, built, source.display))
        # Not kept while the next file is parsed: a lower peak (the Fields hold what counts).
        del doc, source
    if diagnostics or unlisted:
        raise ConfigError(diagnostics, unlisted, exact)
    return Desired(tuple(sorted(objects, key=lambda o: o.key)))


def _first(problems: list[Problem], count: int) -> tuple[list[Problem], int]:
    """The first `count` problems roughly by line (top level, then by field), and how many
    more there are."""

    def field_index(p: Problem) -> int:
        owner = p.owner
        return owner[1] if len(owner) > 1 and owner[0] == "fields" else -1

    unique = sorted(dict.fromkeys(problems), key=field_index)
    return unique[:count], max(len(unique) - count, 0)


def warnings(desired: Desired) -> tuple[str, ...]:
    """Things that are valid but probably mistakes; the CLI prints them on stderr."""
    sources: dict[int, list[str]] = {}
    for obj in desired.objects:
        sources.setdefault(obj.key.integration_id, []).append(obj.source or obj.key.address)
    if len(sources) < 2:
        return ()
    listed = "; ".join(f"{iid} in {', '.join(files)}" for iid, files in sorted(sources.items()))
    return (
        f"The schema files use {len(sources)} different integrationIds ({listed}). Gong allows "
        "one generic CRM integration per company, so all but one are probably typos; check "
        "integrationId in each file.",
    )


class _Source:
    def __init__(self, display: str, text: str, is_yaml: bool) -> None:
        self.display, self.text, self.is_yaml = display, text, is_yaml
        self.yaml_root: Any = None  # parse_yaml's nodes (maybe composed on demand): for lines
        self._tree: Pos | None = None
        self._tree_built = False
        self._indexes: dict[int, dict[Any, int]] = {}

    @classmethod
    def read(cls, path: Path, display: str) -> _Source | Diagnostic:
        raw = read_bytes(path, MAX_FILE_BYTES)
        if isinstance(raw, str):
            return Diagnostic(display, None, "", raw)
        try:
            # utf-8-sig's decoding (a leading BOM dropped) without its codec's module.
            text = (raw[3:] if raw.startswith(codecs.BOM_UTF8) else raw).decode("utf-8")
            is_yaml = path.suffix != ".json"
        except UnicodeDecodeError as exc:
            line = raw.count(b"\n", 0, exc.start) + 1
            return Diagnostic(display, line, "", "the file is not UTF-8 text; save it as UTF-8")
        # YAML's parse costs ~500 bytes a value, so it is bounded before parsing; JSON's is
        # cheap, and its count waits until a problem makes describing it costly (_check).
        refusal = too_many_values(raw, is_yaml, MAX_FILE_VALUES) if is_yaml else None
        if refusal is not None:
            return Diagnostic(display, None, "", refusal)
        return cls(display, text, is_yaml)

    @property
    def tree(self) -> Pos | None:
        # Positions cost a second parse: built once, and only for files with problems.
        if not self._tree_built:
            self._tree_built = True
            self._tree = _position_tree(self)
        return self._tree

    def line(self, loc: Loc) -> int | None:
        if not self.is_yaml or self._tree_built:
            return line_of(self.tree, loc)
        try:  # a courtesy, as in _position_tree
            return yaml_line(self.yaml_root, loc, self._indexes)
        except Exception:
            return None

    def diagnostics(self, doc: Any, problems: Iterable[Problem]) -> Iterator[Diagnostic]:
        for p in dict.fromkeys(problems):
            line, column = (p.line, p.column) if p.at is None else (self.line(p.at), None)
            message = p.message
            if len(message) > _MESSAGE_LIMIT:
                message = message[:_MESSAGE_LIMIT] + "…"
            yield Diagnostic(self.display, line, display_path(doc, p.owner), message, column)


def _check(
    source: _Source, env: Mapping[str, str], budget: int
) -> tuple[Any, list[Problem], int, ObjectKey | None, tuple[Field, ...] | None]:
    """The parsed document, its problems, how many parts it did not explain (each holds
    at least one more problem; see `budget`), its address when that much is valid, and
    its Fields when the fast path built them (None: build them with `_fields`, if valid).

    A valid `fields` list is checked once, while its Fields are built
    (schema_check.checked_fields); only when that doubts an item does the slow path walk
    it again (quick_check, jsonschema, _repeated_names) to find and word every problem."""
    fields: tuple[Field, ...] | None = None
    try:
        if source.is_yaml:
            doc, has_repeated_keys, source.yaml_root = parse_yaml(source.text)
        else:
            doc, has_repeated_keys, fields = _parse_json(source.text)
    except ParseError as exc:
        return None, [Problem((), None, exc.message, exc.line, exc.column)], 0, None, None
    if doc is None:
        message = "the file is empty; write one mapping with integrationId, objectType and fields"
        return None, [Problem((), None, message)], 0, None, None
    if not isinstance(doc, dict):
        # Not even a short quote: a stray file may hold nothing but a token.
        message = (
            "the top level must be a mapping with integrationId, objectType and fields, "
            f"not {describe(doc, content=False)}"
        )
        return doc, [Problem((), (), message)], 0, None, None
    foreign = json_schema_message(doc)
    if foreign is not None:
        return doc, [Problem((), ("$schema",) if "$schema" in doc else (), foreign)], 0, None, None
    if unrelated(doc):
        message = (
            "this is not a schema file: it has none of the keys integrationId, objectType and "
            "fields; move it out of the schema directory"
        )
        return doc, [Problem((), (), message)], 0, None, None
    top_ok = schema_check.top_ok(doc)
    if source.is_yaml and top_ok:  # a JSON file's were tried by _parse_json already
        fields = schema_check.checked_fields(doc["fields"])
    # The slow walk, only for a file the fast path doubted (it then words every problem).
    bad = [] if fields is not None else schema_check.quick_check(doc)[1]
    problems: list[Problem] = []
    if source.text.find("\\") != -1:  # surrogates come from escapes only (memchr speed)
        from crmform.engine.config.walks import lone_surrogates

        problems += lone_surrogates(source.text, doc, source.is_yaml)
    if not source.is_yaml and (has_repeated_keys or problems or bad or not top_ok):
        # JSON parses cheaply, so its value count waits until describing problems (lines,
        # walks) could cost; YAML's was counted before parsing.
        refusal = too_many_values(source.text.encode(), is_yaml=False, limit=MAX_FILE_VALUES)
        if refusal is not None:
            return doc, [Problem((), None, refusal)], 0, None, None
    if has_repeated_keys:
        from crmform.engine.config.walks import repeated_keys

        problems += repeated_keys(source.tree)
    # Only YAML spells integers in other bases (and int_text imports yaml).
    spelling = (
        yaml_spelling(int_text(source.yaml_root, "integrationId"), doc.get("integrationId"))
        if source.is_yaml
        else None
    )
    unexplained = 0
    try:
        found, unexplained = schema_check.schema_problems(doc, source.is_yaml, top_ok, bad, budget)
        problems += found
    except RecursionError:  # a backstop: nesting is bounded before jsonschema sees it
        problems.append(Problem((), None, "the document nests too deeply to check"))
    if spelling is not None:  # what YAML made of it may be out of range too: one problem
        problems = [p for p in problems if p.owner != spelling.owner] + [spelling]
    iid = integration_id(doc.get("integrationId"), env, problems)
    if fields is None:  # checked_fields found no two names alike
        problems += _repeated_names(doc, source)
    provider, object_type = doc.get("provider", DEFAULT_PROVIDER), doc.get("objectType")
    if iid is None or provider != DEFAULT_PROVIDER or not schema_check.is_object_type(object_type):
        return doc, problems, unexplained, None, None
    return doc, problems, unexplained, ObjectKey(DEFAULT_PROVIDER, iid, object_type), fields


def _parse_json(text: str) -> tuple[Any, bool, tuple[Field, ...] | None]:
    """The document, whether an object in it repeats a key, and its Fields when the fast
    path built them.

    A valid file is parsed by json.loads alone (its dicts built in C, ~0.5 s a million
    fields faster than through a Python hook), and checked_fields builds its Fields. Every
    colon of a JSON text outside a string ends a key, so a text with no more colons than
    its document has keys repeats none. Anything else (a colon in a string, a problem, a
    text json.loads refuses) is parsed again by parse_json, which notes repeated keys and
    words parse errors; the document is the same (the last of a repeated key wins in both).
    """
    import json  # JSON files only: a YAML plan imports no json

    fields = None
    try:
        doc = json.loads(text)
    except (ValueError, RecursionError):
        pass
    else:
        if type(doc) is dict and schema_check.top_ok(doc):
            tally = [len(doc)]  # and checked_fields adds the keys of the fields
            fields = schema_check.checked_fields(doc["fields"], tally)
            # A valid document holds no mappings but itself and its fields.
            if fields is not None and text.count(":") == tally[0]:
                return doc, False, fields
    doc, repeated = parse_json(text)
    return doc, repeated, fields


def _fields(items: list[dict[str, Any]]) -> tuple[Field, ...]:
    return tuple(
        Field(
            unique_name=item["uniqueName"],
            label=item["label"],
            type=FieldType(item["type"]),
            reference_to=item.get("referenceTo"),
            ordered_value_list=(
                tuple(item["orderedValueList"]) if "orderedValueList" in item else None
            ),
            protect=item.get("protect", False),
        )
        for item in items
    )


def _repeated_names(doc: dict[Any, Any], source: _Source) -> list[Problem]:
    # Gong does not document whether uniqueName is case-sensitive. The CRMs it mirrors
    # (Salesforce API names) ignore case, and a case-insensitive store on Gong's side would
    # merge two fields silently; renaming one is cheap, an unnoticed merge is not.
    fields = doc.get("fields")
    if type(fields) is not list:
        return []
    seen: dict[str, int] = {}
    problems: list[Problem] = []
    for i, item in enumerate(fields):
        name = item.get("uniqueName") if type(item) is dict else None
        if type(name) is not str or not name or seen.setdefault(name.lower(), i) == i:
            continue
        first = seen[name.lower()]
        first_name, line = fields[first]["uniqueName"], source.line(("fields", first, "uniqueName"))
        where = f"fields[{first}]" + (f" at line {line}" if line is not None else "")
        if first_name == name:
            message = (
                f"uniqueName {quote(name)} is already used by {where}; give each field its own "
                "uniqueName"
            )
        else:
            message = (
                f"uniqueName {quote(name)} differs only in case from {quote(first_name)} "
                f"({where}); Gong may treat them as the same field, so rename one"
            )
        problems.append(Problem(("fields", i), ("fields", i, "uniqueName"), message))
    return problems


def _position_tree(source: _Source) -> Pos | None:
    # Line numbers are a courtesy: failing to find them must never hide the real problem.
    try:
        return yaml_tree(source.yaml_root) if source.is_yaml else _json_tree(source.text)
    except Exception:
        return None

"""Read the desired-state files of one directory into a Desired, or fail with every problem.

Per file: read -> parse (YAML or JSON) -> validate against schema.json -> resolve
integrationId -> check uniqueNames; then across files: one file per object type. Problems
are collected, never raised one at a time, and get line numbers only when there are some.

Start-up time is a product requirement: jsonschema and yaml are imported only when used,
and a valid document never reaches jsonschema at all (see `_quick_check`).
"""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Collection, Iterable, Iterator, Mapping
from dataclasses import dataclass
from fnmatch import fnmatch
from pathlib import Path
from typing import Any

from crmform.engine.errors import ConfigError, Diagnostic
from crmform.engine.model import (
    DEFAULT_PROVIDER,
    REFERENCE_TARGETS,
    Desired,
    Field,
    FieldType,
    ObjectKey,
    ObjectSchema,
    ObjectType,
)

SUFFIXES = (".yaml", ".yml", ".json")
STATE_FILE_PATTERN = "crmform.state.json*"
INT64_MAX = 2**63 - 1

Loc = tuple[Any, ...]  # a path into a document: mapping keys and list indices

_DIGITS = re.compile(r"[0-9]+")
_ENV_REF = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")
# In schema.json's order, which messages list them in (a test keeps the two equal).
TOP_KEYS = ("provider", "integrationId", "objectType", "fields")
FIELD_KEYS = ("uniqueName", "label", "type", "referenceTo", "orderedValueList", "protect")
_TOP_REQUIRED = ("integrationId", "objectType", "fields")
_TOP_KEY_SET, _FIELD_KEY_SET = frozenset(TOP_KEYS), frozenset(FIELD_KEYS)
_FIELD_TYPES = frozenset(t.value for t in FieldType)
_OBJECT_TYPES = frozenset(t.value for t in ObjectType)
_TARGETS = frozenset(REFERENCE_TARGETS)
# Keys that only one field type takes, and the type that needs them.
_ONLY_ON = {"orderedValueList": "PICKLIST", "referenceTo": "REFERENCE"}
_NEEDS = {
    "orderedValueList": "the list of its values in display order",
    "referenceTo": f"one of {', '.join(REFERENCE_TARGETS)}",
}
_HINTS = {
    "integrationId": 'the id of your Gong CRM integration, or "${ENV_VAR}"',
    "objectType": f"one of {', '.join(t.value for t in ObjectType)}",
    "fields": "the list of fields; write `fields: []` for none",
    "uniqueName": "the field's name in the CRM",
    "label": "the name Gong shows users",
    "type": f"one of {', '.join(t.value for t in FieldType)}",
}
_EXPECTED = {"string": "a string", "array": "a list", "boolean": "true or false"}


def load(directory: Path, env: Mapping[str, str], exclude: Collection[Path] = ()) -> Desired:
    """Every schema file directly in `directory`, validated, as one Desired.

    Raises ConfigError carrying every problem of every file, sorted by file and line.
    """
    diagnostics: list[Diagnostic] = []
    objects: list[ObjectSchema] = []
    first_file: dict[ObjectKey, str] = {}
    for path in _discover(directory, exclude):
        source = _Source.read(path, str(directory / path.name))
        if isinstance(source, Diagnostic):
            diagnostics.append(source)
            continue
        doc, problems, key = _check(source, env)
        if key is not None and key in first_file:
            message = (
                f"{key.address} is also declared in {first_file[key]}; declare each object "
                "type of an integration in one file only"
            )
            problems.append(_Problem(("objectType",), ("objectType",), message))
        elif key is not None:
            first_file[key] = source.display
        if problems:
            diagnostics.extend(source.diagnostics(doc, problems))
        elif key is not None:
            objects.append(ObjectSchema(key, _fields(doc["fields"]), source.display))
    if diagnostics:
        raise ConfigError(diagnostics)
    return Desired(tuple(sorted(objects, key=lambda o: o.key)))


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


@functools.cache
def schema_text() -> str:
    """The JSON Schema of one desired-state document, as shipped (for `crmform schema`)."""
    from importlib import resources

    return resources.files("crmform.engine").joinpath("schema.json").read_text(encoding="utf-8")


def _discover(directory: Path, exclude: Collection[Path]) -> list[Path]:
    def fail(message: str) -> ConfigError:
        return ConfigError([Diagnostic(str(directory), None, "", message)])

    if not directory.is_dir():
        what = "is not a directory" if directory.exists() else "does not exist"
        raise fail(f"the schema directory {what}; pass the directory that holds the schema files")
    skipped = {p.resolve() for p in exclude}
    try:
        found = [
            p
            for p in directory.iterdir()
            if p.suffix in SUFFIXES
            and not p.name.startswith(".")
            and not fnmatch(p.name, STATE_FILE_PATTERN)
            and p.is_file()
            and p.resolve() not in skipped
        ]
    except OSError as exc:
        raise fail(f"the schema directory cannot be listed ({exc.strerror})") from exc
    if not found:
        raise fail(
            "no schema files (*.yaml, *.yml or *.json) in this directory; write one file per "
            "object type, or pass the directory that holds them"
        )
    return sorted(found, key=lambda p: p.name)


@dataclass(frozen=True, slots=True)
class _Problem:
    owner: Loc  # the part of the document the message is about, shown as the path
    at: Loc | None  # the part whose line is reported; None: `line` is already known
    message: str
    line: int | None = None


class _Source:
    def __init__(self, display: str, text: str, is_yaml: bool) -> None:
        self.display, self.text, self.is_yaml = display, text, is_yaml
        self.yaml_root: Any = None  # the composed YAML, kept from parsing for line numbers
        self._tree: _Pos | None = None
        self._tree_built = False

    @classmethod
    def read(cls, path: Path, display: str) -> _Source | Diagnostic:
        try:
            raw = path.read_bytes()
        except OSError as exc:
            return Diagnostic(display, None, "", f"the file cannot be read ({exc.strerror})")
        try:
            return cls(display, raw.decode("utf-8-sig"), path.suffix != ".json")
        except UnicodeDecodeError as exc:
            line = raw.count(b"\n", 0, exc.start) + 1
            return Diagnostic(display, line, "", "the file is not UTF-8 text; save it as UTF-8")

    @property
    def tree(self) -> _Pos | None:
        # Positions cost a second parse: built once, and only for files with problems.
        if not self._tree_built:
            self._tree_built = True
            self._tree = _position_tree(self)
        return self._tree

    def line(self, loc: Loc) -> int | None:
        return _line_of(self.tree, loc)

    def diagnostics(self, doc: Any, problems: Iterable[_Problem]) -> Iterator[Diagnostic]:
        for p in dict.fromkeys(problems):
            line = p.line if p.at is None else self.line(p.at)
            yield Diagnostic(self.display, line, _display_path(doc, p.owner), p.message)


def _check(source: _Source, env: Mapping[str, str]) -> tuple[Any, list[_Problem], ObjectKey | None]:
    """The parsed document, its problems, and its address when that much is valid."""
    try:
        if source.is_yaml:
            doc, repeated_keys, source.yaml_root = _parse_yaml(source.text)
        else:
            doc, repeated_keys = _parse_json(source.text)
    except _ParseError as exc:
        return None, [_Problem((), None, exc.message, exc.line)], None
    if doc is None:
        message = "the file is empty; write one mapping with integrationId, objectType and fields"
        return None, [_Problem((), None, message)], None
    if not isinstance(doc, dict):
        message = (
            "the top level must be a mapping with integrationId, objectType and fields, "
            f"not {_describe(doc)}"
        )
        return doc, [_Problem((), (), message)], None
    problems = _repeated_keys(source) if repeated_keys else []
    try:
        problems += _schema_problems(doc, source.is_yaml)
    except RecursionError:  # YAML aliases can make a value contain itself
        problems.append(_Problem((), None, "the document refers to itself too deeply to check"))
    iid = _integration_id(doc.get("integrationId"), env, problems)
    problems += _repeated_names(doc, source)
    provider, object_type = doc.get("provider", DEFAULT_PROVIDER), doc.get("objectType")
    if iid is None or provider != DEFAULT_PROVIDER or object_type not in _OBJECT_TYPES:
        return doc, problems, None
    return doc, problems, ObjectKey(DEFAULT_PROVIDER, iid, object_type)


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


class _ParseError(Exception):
    def __init__(self, line: int | None, message: str) -> None:
        super().__init__(message)
        self.line, self.message = line, message


def _parse_json(text: str) -> tuple[Any, bool]:
    if not text.strip():
        return None, False
    repeated = False

    def pairs(items: list[tuple[str, Any]]) -> dict[str, Any]:
        nonlocal repeated
        mapping = dict(items)
        repeated = repeated or len(mapping) != len(items)
        return mapping

    try:
        doc = json.loads(text, object_pairs_hook=pairs)
    except json.JSONDecodeError as exc:
        raise _ParseError(exc.lineno, f"invalid JSON: {exc.msg} (column {exc.colno})") from exc
    except RecursionError as exc:
        raise _ParseError(None, "the document nests too deeply to read") from exc
    return doc, repeated


def _yaml_base() -> Any:
    import yaml

    # The C loader (libyaml) is several times faster; PyYAML built without libyaml lacks it.
    return getattr(yaml, "CSafeLoader", None) or yaml.SafeLoader


@functools.cache
def _loader_class(base: Any) -> Any:
    from yaml.nodes import MappingNode, ScalarNode

    class Loader(base):  # type: ignore[misc]
        """The safe loader, noting keys given twice in one mapping (YAML keeps only the last)."""

        repeated_keys = False

        def construct_mapping(self, node: Any, deep: bool = False) -> Any:
            if isinstance(node, MappingNode):
                keys = [k.value for k, _ in node.value if isinstance(k, ScalarNode)]
                if "<<" in keys:  # merging rewrites node.value; line numbers need the text's
                    node.unmerged = list(node.value)  # type: ignore[attr-defined]
                    keys = [k for k in keys if k != "<<"]
                self.repeated_keys = self.repeated_keys or len(set(keys)) != len(keys)
            return super().construct_mapping(node, deep)

    return Loader


def _parse_yaml(text: str) -> tuple[Any, bool, Any]:
    """The document, whether a mapping repeats a key, and the composed node tree."""
    import yaml

    loader = _loader_class(_yaml_base())(text)
    try:
        # yaml.load's own steps, keeping the nodes: line numbers need no second parse.
        root = loader.get_single_node()
        doc = loader.construct_document(root) if root is not None else None
        return doc, loader.repeated_keys, root
    except yaml.MarkedYAMLError as exc:
        raise _ParseError(*_yaml_message(exc, text)) from exc
    except yaml.YAMLError as exc:  # ReaderError: a character YAML does not allow
        position = getattr(exc, "position", None)
        line = text.count("\n", 0, position) + 1 if isinstance(position, int) else None
        raise _ParseError(line, f"invalid YAML: {str(exc).splitlines()[0]}") from exc
    except RecursionError as exc:
        raise _ParseError(None, "the document nests too deeply to read") from exc
    finally:
        loader.dispose()


def _yaml_message(exc: Any, text: str) -> tuple[int | None, str]:
    mark, context_mark = exc.problem_mark, exc.context_mark
    line = mark.line + 1 if mark is not None else None
    if exc.problem == "but found another document":
        return line, "a second YAML document starts here; keep one document per file"
    message = f"invalid YAML: {exc.problem or str(exc).splitlines()[0]}"
    if exc.context:
        where = ""
        if context_mark is not None and line is not None and context_mark.line + 1 != line:
            where = f" at line {context_mark.line + 1}"
        message += f" ({exc.context}{where})"
    lines = text.splitlines()
    if line is not None and line <= len(lines) and "\t" in lines[line - 1]:
        message += "; indent with spaces, as YAML does not allow tabs there"
    return line, message


def _quick_check(doc: dict[Any, Any]) -> tuple[bool, list[int]]:
    """Whether the top level is surely valid, and the indices of fields that may not be.

    jsonschema needs about 1.3 s for 10,000 fields, far over the load budget, so this check
    runs first. It must never accept what schema.json rejects (a test compares the two);
    whatever it doubts goes to jsonschema, which also writes the messages.
    """
    fields, iid = doc.get("fields"), doc.get("integrationId")
    provider, object_type = doc.get("provider", DEFAULT_PROVIDER), doc.get("objectType")
    top_ok = (
        doc.keys() <= _TOP_KEY_SET
        and all(k in doc for k in _TOP_REQUIRED)
        and provider == DEFAULT_PROVIDER
        and (
            (type(iid) is int and 1 <= iid <= INT64_MAX)
            or (type(iid) is str and bool(_DIGITS.fullmatch(iid) or _ENV_REF.fullmatch(iid)))
        )
        and type(object_type) is str
        and object_type in _OBJECT_TYPES
        and type(fields) is list
    )
    bad = [i for i, f in enumerate(fields) if not _field_ok(f)] if type(fields) is list else []
    return top_ok, bad


def _field_ok(item: Any) -> bool:
    if type(item) is not dict or not item.keys() <= _FIELD_KEY_SET:
        return False
    name, label, kind = item.get("uniqueName"), item.get("label"), item.get("type")
    if not (type(name) is str and name and type(label) is str and label and type(kind) is str):
        return False
    if kind not in _FIELD_TYPES or type(item.get("protect", False)) is not bool:
        return False
    if kind == "PICKLIST":
        values = item.get("orderedValueList")
        if type(values) is not list or not values or any(type(v) is not str for v in values):
            return False
        if len(set(values)) != len(values):
            return False
    elif "orderedValueList" in item:
        return False
    if kind == "REFERENCE":
        return type(item.get("referenceTo")) is str and item["referenceTo"] in _TARGETS
    return "referenceTo" not in item


@functools.cache
def _validators() -> tuple[Any, Any]:
    """The document validator and its field validator, built once per process."""
    import jsonschema

    base = jsonschema.Draft202012Validator
    # JSON Schema counts 1.0 as an integer; an id that went through a float may already
    # have lost digits (real ids exceed 2**53), so floats are refused.
    checker = base.TYPE_CHECKER.redefine(
        "integer", lambda _, v: isinstance(v, int) and not isinstance(v, bool)
    )
    schema = json.loads(schema_text())
    document = jsonschema.validators.extend(base, type_checker=checker)(schema)
    return document, document.evolve(schema=schema["$defs"]["field"])


def _schema_problems(doc: dict[Any, Any], is_yaml: bool) -> list[_Problem]:
    top_ok, bad = _quick_check(doc)
    if top_ok and not bad:
        return []
    document, field = _validators()
    fields = doc.get("fields")
    # Only the doubtful fields go to jsonschema; the top level is checked with none.
    top = {**doc, "fields": []} if type(fields) is list else doc
    errors: list[tuple[Loc, Any]] = [((), e) for e in document.iter_errors(top)]
    errors += [(("fields", i), e) for i in bad for e in field.iter_errors(doc["fields"][i])]
    return [p for prefix, e in errors for p in _explain((*prefix, *e.absolute_path), e, is_yaml)]


def _explain(path: Loc, error: Any, is_yaml: bool) -> Iterator[_Problem]:
    """One jsonschema error as friendly problems (several for several unknown keys)."""
    owner, subject = _split_path(path)
    lead = f"{subject} " if subject else ""
    keyword, value, inst = error.validator, error.validator_value, error.instance
    allowed = FIELD_KEYS if owner else TOP_KEYS
    if keyword == "additionalProperties" and isinstance(inst, dict):
        for key in (k for k in inst if k not in allowed):
            close = _suggest(key, allowed) if isinstance(key, str) else None
            tail = f"did you mean {close!r}?" if close else f"allowed keys: {', '.join(allowed)}"
            yield _Problem(owner, (*path, key), f"unknown key {key!r}; {tail}")
    elif keyword == "required" and isinstance(inst, dict):
        # A misspelt key is reported once, as unknown with its likely meaning.
        meant = {_suggest(k, allowed) for k in inst if isinstance(k, str) and k not in allowed}
        for key in (k for k in value if k not in inst and k not in meant):
            if key in _NEEDS:
                yield _Problem(owner, path, f"{inst.get('type')} needs {key}, {_NEEDS[key]}")
            else:
                hint = f" ({_HINTS[key]})" if key in _HINTS else ""
                yield _Problem(owner, path, f"missing required key {key!r}{hint}")
    elif keyword == "not" and isinstance(inst, dict) and value.get("required", [""])[0] in _ONLY_ON:
        key, kind = value["required"][0], inst.get("type")
        # With a missing or unknown type the else-branch fires too; that type error suffices.
        if isinstance(kind, str) and kind in _FIELD_TYPES:
            needed = _ONLY_ON[key]
            message = (
                f"{key} is only allowed on {needed} fields, not on {kind}; "
                f"remove it or set type: {needed}"
            )
            yield _Problem(owner, (*path, key), message)
    elif keyword == "enum" and path == ("provider",):
        yield _Problem(owner, path, f"{_show(inst)} is not supported; the only provider is 'gong'")
    elif keyword == "enum" and isinstance(inst, str):
        close = _suggest(inst, value)
        message = f"{lead}{inst!r} is not one of {', '.join(value)} (case-sensitive)"
        yield _Problem(owner, path, message + (f"; did you mean {close!r}?" if close else ""))
    elif keyword == "enum":
        yield _Problem(
            owner, path, f"{lead}must be one of {', '.join(value)}, not {_describe(inst)}"
        )
    elif keyword == "type":
        yield _Problem(owner, path, lead + _type_message(path, value, inst, is_yaml))
    elif keyword == "minLength":
        yield _Problem(owner, path, f"{lead}must not be empty")
    elif keyword == "minItems":
        yield _Problem(owner, path, f"{lead}must list at least one value")
    elif keyword == "uniqueItems" and isinstance(inst, list):
        places: dict[str, list[int]] = {}
        for i, item in enumerate(inst):
            places.setdefault(repr(item) if type(item) is str else _describe(item), []).append(i)
        for shown, where in places.items():
            if len(where) > 1:
                times = "twice" if len(where) == 2 else f"{len(where)} times"
                message = f"{lead}has {shown} {times}; list each value once"
                yield _Problem(owner, (*path, where[1]), message)
    elif keyword == "anyOf" and path == ("integrationId",):
        yield _Problem(owner, path, _id_message(inst))
    else:
        yield _Problem(owner, path, f"{lead}{error.message}")


def _type_message(path: Loc, expected: Any, value: Any, is_yaml: bool) -> str:
    if path == ("fields",):
        empty = "; write `fields: []` for none" if value is None else ""
        return f"must be a list of fields, not {_describe(value)}{empty}"
    if expected == "object":
        return f"must be a mapping with uniqueName, label and type, not {_describe(value)}"
    message = f"must be {_EXPECTED.get(expected, expected)}, not {_describe(value)}"
    if is_yaml and expected == "string" and isinstance(value, bool):
        message += "; put it in quotes, as YAML reads unquoted yes, no, on, off as booleans"
    elif is_yaml and expected == "string" and not isinstance(value, (list, dict, type(None))):
        message += "; put it in quotes"
    return message


def _id_message(value: Any) -> str:
    if isinstance(value, bool) or not isinstance(value, (int, float, str)):
        return f'must be a number, a string of digits or "${{NAME}}", not {_describe(value)}'
    if isinstance(value, float):
        return (
            f"must be a whole number, not {_describe(value)}; write the id without a decimal "
            "point or exponent, as decimals lose digits of ids above 2**53"
        )
    if isinstance(value, int):
        return f"{value} is out of range; a Gong integration id is between 1 and {INT64_MAX}"
    return (
        f'{value!r} is neither a string of digits nor exactly "${{NAME}}" naming an '
        "environment variable"
    )


def _integration_id(value: Any, env: Mapping[str, str], problems: list[_Problem]) -> int | None:
    """The id as an int, or None; adds the problems that the schema cannot see."""
    at: Loc = ("integrationId",)
    if type(value) is int:
        return value if 1 <= value <= INT64_MAX else None
    if type(value) is not str or any(p.owner == at for p in problems):
        return None
    ref = _ENV_REF.fullmatch(value)
    if ref:
        name = ref.group(1)
        if name not in env:
            message = (
                f"environment variable {name} is not set; set it to your Gong integration "
                "id, or write the id in the file"
            )
            problems.append(_Problem(at, at, message))
            return None
        # Never echo the value: a mistyped variable name could point at a secret.
        text, what = env[name], f"environment variable {name}"
    else:
        text, what = value, repr(value)
    if not _DIGITS.fullmatch(text):
        problems.append(_Problem(at, at, f"{what} must hold the integration id in digits only"))
        return None
    if not 1 <= int(text) <= INT64_MAX:
        message = f"{what} is out of range; a Gong integration id is between 1 and {INT64_MAX}"
        problems.append(_Problem(at, at, message))
        return None
    return int(text)


def _repeated_names(doc: dict[Any, Any], source: _Source) -> list[_Problem]:
    # Gong does not document whether uniqueName is case-sensitive. The CRMs it mirrors
    # (Salesforce API names) ignore case, and a case-insensitive store on Gong's side would
    # merge two fields silently; renaming one is cheap, an unnoticed merge is not.
    fields = doc.get("fields")
    if type(fields) is not list:
        return []
    seen: dict[str, int] = {}
    problems: list[_Problem] = []
    for i, item in enumerate(fields):
        name = item.get("uniqueName") if type(item) is dict else None
        if type(name) is not str or not name or seen.setdefault(name.lower(), i) == i:
            continue
        first = seen[name.lower()]
        first_name, line = fields[first]["uniqueName"], source.line(("fields", first, "uniqueName"))
        where = f"fields[{first}]" + (f" at line {line}" if line is not None else "")
        if first_name == name:
            message = (
                f"uniqueName {name!r} is already used by {where}; give each field its own "
                "uniqueName"
            )
        else:
            message = (
                f"uniqueName {name!r} differs only in case from {first_name!r} ({where}); Gong "
                "may treat them as the same field, so rename one"
            )
        problems.append(_Problem(("fields", i), ("fields", i, "uniqueName"), message))
    return problems


def _repeated_keys(source: _Source) -> list[_Problem]:
    problems: list[_Problem] = []
    visited: set[int] = set()  # YAML aliases share nodes and may even form cycles

    def walk(node: _Pos, loc: Loc) -> None:
        if id(node) in visited:
            return
        visited.add(id(node))
        first: dict[str | None, int] = {}
        for key, key_line, value in node.entries or ():
            if key in first and key != "<<":
                message = (
                    f"key {key!r} is given twice (first at line {first[key]}); only the last "
                    "would count, so remove one"
                )
                problems.append(_Problem(_split_path(loc)[0], None, message, key_line))
            first.setdefault(key, key_line)
            walk(value, (*loc, key))
        for i, item in enumerate(node.items or ()):
            walk(item, (*loc, i))

    if source.tree is not None:
        walk(source.tree, ())
    return problems


def _split_path(path: Loc) -> tuple[Loc, str]:
    """(the document part shown as the path, the rest spelled as the message's subject)."""
    cut = 2 if len(path) > 1 and path[0] == "fields" and isinstance(path[1], int) else 1
    rest = path[cut:]
    subject = "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in rest)
    return path[:cut], subject.removeprefix(".")


def _display_path(doc: Any, owner: Loc) -> str:
    if not owner:
        return ""
    if len(owner) == 1:
        return str(owner[0])
    # The document may differ from the text here: of repeated keys, only the last loads.
    fields = doc.get("fields") if isinstance(doc, dict) else None
    item = fields[owner[1]] if isinstance(fields, list) and owner[1] < len(fields) else None
    name = item.get("uniqueName") if isinstance(item, dict) else None
    return f"fields[{owner[1]}]" + (f" ({name})" if isinstance(name, str) and name else "")


def _describe(value: Any) -> str:
    if value is None:
        return "an empty value (null)"
    if isinstance(value, bool):
        return f"a boolean ({str(value).lower()})"
    if isinstance(value, int):
        return f"a number ({value})"
    if isinstance(value, float):
        return f"a decimal number ({value!r})"
    if isinstance(value, str):
        return f"a string ({value!r})"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "a mapping"
    return f"a {type(value).__name__} ({value})"  # YAML dates and timestamps


def _show(value: Any) -> str:
    return repr(value) if isinstance(value, str) else _describe(value)


def _suggest(word: str, choices: Iterable[str]) -> str | None:
    """The choice `word` was probably meant to be: the same ignoring case, else a close one."""
    import difflib

    options = list(choices)
    folded = {c.lower(): c for c in options}
    if word.lower() in folded:
        return folded[word.lower()]
    close = difflib.get_close_matches(word, options, n=1, cutoff=0.6)
    return close[0] if close else None


@dataclass(slots=True)
class _Pos:
    """Where a document part starts: a line, and the lines of what it contains."""

    line: int
    entries: list[tuple[str | None, int, _Pos]] | None = None  # mapping: key, key line, value
    items: list[_Pos] | None = None  # sequence


def _line_of(tree: _Pos | None, loc: Loc) -> int | None:
    """The line of the deepest part of `loc` found: a key's own line, or an item's first."""
    if tree is None:
        return None
    node, line = tree, tree.line
    for step in loc:
        if type(step) is int and node.items is not None and 0 <= step < len(node.items):
            node = node.items[step]
            line = node.line
            continue
        # The loaded value is the last of repeated keys; YAML keys may load as non-strings.
        text = step if isinstance(step, str) else str(step)
        entry = next((e for e in reversed(node.entries or ()) if e[0] == text), None)
        if entry is None:
            break
        line, node = entry[1], entry[2]
    return line


def _position_tree(source: _Source) -> _Pos | None:
    # Line numbers are a courtesy: failing to find them must never hide the real problem.
    try:
        return _yaml_tree(source.yaml_root) if source.is_yaml else _json_tree(source.text)
    except Exception:
        return None


def _yaml_tree(root: Any) -> _Pos | None:
    from yaml.nodes import MappingNode, ScalarNode, SequenceNode

    made: dict[int, _Pos] = {}  # aliases share nodes, and may even form cycles

    def convert(node: Any) -> _Pos:
        if id(node) in made:
            return made[id(node)]
        pos = made[id(node)] = _Pos(node.start_mark.line + 1)
        if isinstance(node, MappingNode):
            pos.entries = [
                (k.value if isinstance(k, ScalarNode) else None, k.start_mark.line + 1, convert(v))
                for k, v in getattr(node, "unmerged", None) or node.value or ()
            ]
        elif isinstance(node, SequenceNode):
            pos.items = [convert(v) for v in node.value or ()]
        return pos

    return convert(root) if root is not None else None


# JSON that json.loads accepted, as tokens: strings, punctuation, and bare words (numbers,
# true, false, null, NaN). Strict JSON strings hold no raw newline, so lines count simply.
_JSON_TOKEN = re.compile(r'"(?:[^"\\]|\\.)*"|[{}\[\]:,]|[^\s{}\[\]:,"]+')


def _json_tree(text: str) -> _Pos | None:
    root: _Pos | None = None
    open_nodes: list[_Pos] = []
    key: tuple[str, int] = ("", 0)
    want_key = False
    line, last = 1, 0
    for match in _JSON_TOKEN.finditer(text):
        token, start = match.group(), match.start()
        line += text.count("\n", last, start)
        last = start
        if token == ",":
            want_key = open_nodes[-1].entries is not None
        elif token in ("}", "]"):
            open_nodes.pop()
        elif want_key:
            key, want_key = (json.loads(token) if "\\" in token else token[1:-1], line), False
        elif token != ":":
            node = _Pos(line, [] if token == "{" else None, [] if token == "[" else None)
            parent = open_nodes[-1] if open_nodes else None
            if parent is None:
                root = node
            elif parent.entries is not None:
                parent.entries.append((*key, node))
            elif parent.items is not None:
                parent.items.append(node)
            if token in ("{", "["):
                open_nodes.append(node)
                want_key = token == "{"
    return root

"""Seeded, bounded fuzzing of the schema-file loader (issue 11: 604 fuzzed files found hangs
and crashes): every input ends in a Desired or a ConfigError, quickly, with a message that
a terminal can print as it is. 600 cases, mutated from the quickstart files as text or as
documents, take about 2 s; on main 93de91d they fail (unhashable objectType, ...)."""

from __future__ import annotations

import json
import random
import re
import time
from pathlib import Path
from typing import Any

import pytest
import yaml

from crmform.engine.config import loader as config
from crmform.engine.errors import ConfigError
from crmform.engine.model import Desired

QUICKSTART = Path(__file__).resolve().parent.parent / "examples" / "quickstart"
SEEDS = range(600)
CASE_SECONDS = 2.0
# What YAML and JSON files are made of, and what broke the loader before.
SNIPPETS = [
    *("&a ", "*a", "<<: *a", "&b [*b]", "!!int ", "!!bool ", "!!timestamp ", "!!float "),
    *("!!binary ", "!!set ", "!lower ", '"\\ud800"', '"\\udc00\\ud800"', '"\\U0000d800"'),
    *("0x10", "017", "1:30", "+5", "1_000", "2001-02-30", "1" * 5000, ".nan", "-.inf", "~"),
    *("yes", "null", "[", "]", "{", "}", ": ", ", ", "- ", "? ", "\t", "\n", "\r", "\x00"),
    *("\ufeff", "\x1b[2J", "\u202e", '"', "'", "|", ">-", "---\n", "...\n", "%YAML 1.1\n"),
    *("#", " " * 3, "[" * 50, "{a: " * 40, "\\", "\\u", '"\\x41"', "\u00a0", "é", "😀"),
]
CONTROL = re.compile(r"[\x00-\x09\x0b-\x1f\x7f-\x9f]")  # all but the newlines between lines


def mutate_text(rng: random.Random, text: str) -> str:
    for _ in range(rng.randint(1, 4)):
        at = rng.randrange(len(text) + 1)
        choice = rng.random()
        if choice < 0.45:
            text = text[:at] + rng.choice(SNIPPETS) + text[at:]
        elif choice < 0.7:
            text = text[:at] + text[at + rng.randint(1, 20) :]
        elif choice < 0.85:
            text = text[:at] + chr(rng.randrange(0x20, 0x3000)) + text[at + 1 :]
        else:  # a line repeated: keys twice, fields twice
            lines = text.splitlines(keepends=True)
            i = rng.randrange(len(lines))
            text = "".join(lines[: i + 1] + lines[i:])
    return text


def odd_value(rng: random.Random) -> object:
    return rng.choice(
        [
            None,
            True,
            0,
            -1,
            2**63,
            1.5,
            float("nan"),
            "",
            " ",
            "x" * 200,
            "\ud800",
            "\x1b[2J",
            [],
            ["a", "a"],
            [0, {"a": 0}] * 3000,  # unsortable: jsonschema's uniqueItems went pair by pair
            [["deep"]] * 3,
            {},
            {"a": 1},
            {"uniqueName": 1},
            "PICKLIST",
            "${GONG_ID}",
            "0042",
        ]
    )


def mutate_document(rng: random.Random, doc: dict) -> dict:
    """Replace or drop one value somewhere in the document (or add a key)."""
    for _ in range(rng.randint(1, 3)):
        node: Any = doc
        key: Any = None
        while True:
            keys = list(node) if isinstance(node, dict) else list(range(len(node)))
            if not keys:
                break
            key = rng.choice(keys)
            child = node[key]
            if not isinstance(child, dict | list) or rng.random() < 0.4:
                break
            node = child
        add = key is None or rng.random() < 0.15
        if add and isinstance(node, list):
            node.append(odd_value(rng))
        elif add:
            node[rng.choice(["lable", "x", "protect", "type"])] = odd_value(rng)
        elif rng.random() < 0.2 and isinstance(node, dict):
            del node[key]
        else:
            node[key] = odd_value(rng)
    return doc


def case(seed: int, directory: Path) -> None:
    rng = random.Random(seed)
    source = rng.choice(sorted(QUICKSTART.iterdir()))
    text = source.read_text(encoding="utf-8")
    suffix = source.suffix
    if rng.random() < 0.5:
        text = mutate_text(rng, text)
    else:
        loaded = json.loads(text) if suffix == ".json" else yaml.safe_load(text)
        doc = mutate_document(rng, loaded)
        suffix = rng.choice([".json", ".yaml"])
        if suffix == ".json":
            text = json.dumps(doc, ensure_ascii=rng.random() < 0.5, allow_nan=True)
        else:
            # A surrogate cannot be written as UTF-8: YAML escapes it in double quotes.
            text = yaml.safe_dump(doc, allow_unicode=False, sort_keys=False)
    (directory / f"fuzz{suffix}").write_text(text, encoding="utf-8", errors="surrogatepass")


@pytest.mark.parametrize("chunk", range(6))
def test_fuzzed_schema_files_end_in_a_desired_or_a_printable_config_error(tmp_path, chunk):
    for seed in SEEDS[chunk::6]:
        directory = tmp_path / str(seed)
        directory.mkdir()
        case(seed, directory)
        started = time.process_time()
        try:
            result: object = config.load(directory, {"GONG_ID": "17"})
        except ConfigError as error:
            result = error
        except Exception as error:  # pragma: no cover - the failure this test looks for
            pytest.fail(f"seed {seed}: {type(error).__name__}: {error!r}"[:2000])
        elapsed = time.process_time() - started
        assert elapsed < CASE_SECONDS, f"seed {seed} took {elapsed:.1f} s"
        if isinstance(result, ConfigError):
            message = str(result)
            message.encode("utf-8")  # no lone surrogate reaches the terminal
            assert not CONTROL.search(message), (seed, message[:500])
            assert len(message) < 200 * 100, seed
        else:
            assert isinstance(result, Desired)
            for obj in result.objects:
                json.dumps([f.unique_name for f in obj.fields]).encode("utf-8")
                for field in obj.fields:
                    strings = [field.unique_name, field.label, *(field.ordered_value_list or ())]
                    for s in strings:
                        s.encode("utf-8")
                        assert s, seed
                        assert s == s.strip(), (seed, s)

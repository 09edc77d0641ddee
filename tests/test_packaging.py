"""What an index shows: license, classifiers, project URLs, a README whose links work there.

https://github.com/crmform/crmform stands for the repository's address everywhere; one
owner is used throughout, so publishing under another one is one search and replace.
"""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
REPO = "https://github.com/crmform/crmform"
# Every file a user reads or copies that may name the repository.
PUBLIC = [
    ROOT / "README.md",
    ROOT / "action.yml",
    ROOT / ".pre-commit-hooks.yaml",
    *sorted((ROOT / "docs").glob("*.md")),
    *sorted(p for p in (ROOT / "examples" / "ci").rglob("*") if p.is_file()),
    *sorted((ROOT / ".github" / "workflows").glob("*.yml")),
]


def test_license_and_metadata():
    assert PROJECT["license"] == "MIT"
    assert PROJECT["license-files"] == ["LICENSE"]
    assert (ROOT / "LICENSE").read_text().startswith("MIT License\n")
    # An SPDX license expression replaces the License :: classifiers (PEP 639).
    assert not [c for c in PROJECT["classifiers"] if c.startswith("License ::")]
    assert "Programming Language :: Python :: 3.11" in PROJECT["classifiers"]
    assert PROJECT["requires-python"] == ">=3.11"
    assert PROJECT["authors"]
    assert PROJECT["keywords"]


def test_project_urls_point_at_one_repository():
    urls = PROJECT["urls"]
    assert urls["Source"] == REPO
    assert all(url.startswith(REPO) for url in urls.values())


def test_every_file_names_the_same_repository_owner():
    for path in (p for p in PUBLIC if p.exists()):
        text = path.read_text(encoding="utf-8")
        owners = set(re.findall(r"github\.com/([\w.-]+)/crmform\b", text))
        owners |= set(re.findall(r"uses: ([\w.-]+)/crmform@", text))
        owners |= set(re.findall(r"\brepo: https://github\.com/([\w.-]+)/crmform", text))
        assert owners <= {"crmform"}, (path.name, owners)


def test_readme_links_work_off_the_repository():
    # PyPI renders the README without the repository around it: relative links would 404.
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    targets = re.findall(r"\]\(([^)]+)\)", text)
    assert targets
    relative = [t for t in targets if not t.startswith(("https://", "#"))]
    assert relative == []
    for target in targets:
        if target.startswith(f"{REPO}/blob/main/") or target.startswith(f"{REPO}/tree/main/"):
            assert (ROOT / target.split("/main/", 1)[1]).exists(), target

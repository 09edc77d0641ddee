"""crmform: schema-as-code for CRM integrations (Gong first)."""

from __future__ import annotations

from pathlib import Path

__version__ = "0.1.0"

# In a source checkout the subpackages live in top-level folders (engine/, providers/,
# state/) that setuptools maps to crmform.engine etc. When Python finds this folder first
# (running from the repository root), it would hide that mapping; adding the repository
# root to our search path makes `crmform.engine` resolve to `<root>/engine` there too.
_root = Path(__file__).resolve().parent.parent
if (_root / "engine" / "__init__.py").is_file() and str(_root) not in __path__:
    __path__.append(str(_root))

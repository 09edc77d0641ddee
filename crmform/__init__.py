"""crmform: schema-as-code for CRM integrations (Gong first)."""

from __future__ import annotations

import os.path

__version__ = "0.1.0"

# In a source checkout the subpackages live in top-level folders (engine/, providers/,
# state/) that setuptools maps to crmform.engine etc. When Python finds this folder first
# (running from the repository root), it would hide that mapping; adding the repository
# root to our search path makes `crmform.engine` resolve to `<root>/engine` there too.
# os.path, not pathlib: `crmform --help` never needs pathlib (it costs more than click's own
# imports leave to spare).
_root = os.path.dirname(os.path.dirname(os.path.realpath(__file__)))
if os.path.isfile(os.path.join(_root, "engine", "__init__.py")) and _root not in __path__:
    __path__.append(_root)

"""The character budget of a Markdown plan comment: its default and its floor. Moved here
from fit.py unchanged (fit.py re-exports them) so that the CLI's --max-chars option can
name them without loading the fitting code, which only `--format markdown` runs."""

from __future__ import annotations

# GitHub comments allow 65,536 characters; leave room for whatever a pipeline adds.
DEFAULT_MAX_CHARS = 60_000
# Below this the fixed parts (title, summary table, notes) might not fit.
MIN_MAX_CHARS = 1_000

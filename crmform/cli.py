"""Placeholder: the click CLI lands in the next commit."""

from __future__ import annotations


def main() -> None:
    raise SystemExit("not yet")

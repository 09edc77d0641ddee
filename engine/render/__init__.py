"""Typed plans and drift for people: text and markdown. Pure and golden-tested."""

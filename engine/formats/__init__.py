"""Versioned JSON contracts: the field/state codec, the plan document and its schema, saved
plans, and the apply result."""

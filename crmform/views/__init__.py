"""Terminal output of the commands: each view takes a typed result and returns text."""

"""Schema files -> Desired: the loader, parsing, the quick check, messages, positions, the
shipped schema.json, and the writer of `import --write-config`."""

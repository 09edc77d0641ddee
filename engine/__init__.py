"""The product's logic: config, planner, rendering, payloads, applier. No network I/O."""

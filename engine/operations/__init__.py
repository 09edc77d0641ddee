"""The sequences the commands run: plan, apply, refresh and import (Terraform's opApply).

Each operation owns its order of steps - lock, read, plan or check, ask, apply, persist - so
that a command only parses arguments, makes one call here and hands the typed result to a
view. Operations never print: whatever a person must see while they run (the plan before the
approval prompt, the check of Gong, per-address progress) goes to the hooks the command
passes, and what they return is a typed value. One module per operation, so a command loads
only what it runs (`crmform plan` never imports the applier):

  files   load_files: the schema files of a directory, validated
  plan    plan: against the stored state, or (--refresh) against Gong
  apply   apply, dry_run: lock, settle, plan or verify, show, check Gong, approve, apply
  remote  refresh, import_: read Gong into the state
  lock    locked: the state lock, saying so when it has to wait
"""

"""One module per family of commands; crmform/cli.py assembles them."""

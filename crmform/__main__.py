from __future__ import annotations

from crmform.cli import main

if __name__ == "__main__":
    main()

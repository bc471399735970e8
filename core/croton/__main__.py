"""Run the ``croton`` command as ``python -m croton``."""

from __future__ import annotations

import sys

from croton.cli import main

if __name__ == "__main__":
    sys.exit(main())

"""`python -m dana ...`: the `dana` command (dana.cli.main)."""

import sys

from dana.cli.main import main

sys.exit(main())

"""`python -m compiler.cli` runs the command line (as the `nncompile` script does)."""

import sys

from compiler.cli import main

sys.exit(main())

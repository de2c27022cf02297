"""``python -m tfapprox`` runs the CLI."""

import sys

from tfapprox.cli import main

sys.exit(main())

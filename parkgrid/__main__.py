"""``python -m parkgrid``: the ``parkgrid`` command."""

import sys

from parkgrid.cli import main

sys.exit(main())

"""``python -m micrograd`` runs the ``micrograd-ref`` command line."""

import sys

from micrograd.cli import main

sys.exit(main())

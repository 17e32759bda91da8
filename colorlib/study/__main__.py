"""`python -m colorlib.study`: see :mod:`colorlib.study.cli`."""

import sys

from .cli import main

sys.exit(main())

"""`python -m colorlib.study`: see :mod:`colorlib.study.cli`."""

from .cli import main

raise SystemExit(main())

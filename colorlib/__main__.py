"""`python -m colorlib`: the `colorlib` command."""

from .cli import main

raise SystemExit(main())

"""Errors that mean "the user asked for something we cannot do", as opposed to bugs, and how a
command turns them into one line on stderr."""

from __future__ import annotations

import logging
import sys
from collections.abc import Callable


class UserError(Exception):
    """A mistake in the user's input: the CLI prints the message on one line and exits 2."""


class ImageLoadError(UserError):
    """A file could not be read as a photo (not an image, truncated, too large...)."""


def one_line(exc: Exception) -> str:
    """An exception as short single-line text."""
    text = " ".join(str(exc).split()) or type(exc).__name__
    return text[:200]


def run_command(prog: str, quiet: bool, action: Callable[[], int]) -> int:
    """Run a command's action: a user's mistake becomes one line on stderr and exit status 2."""
    logging.basicConfig(level=logging.WARNING if quiet else logging.INFO, format=f"{prog}: %(message)s")
    try:
        return action()
    except UserError as exc:
        print(f"{prog}: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"{prog}: interrupted", file=sys.stderr)
        return 130
